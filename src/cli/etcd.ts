/**
 * `bin/etcd`: the server process itself (no fork, no daemon — tools stop it by its pid).
 * Parses flags/env/config file, prints help, version and warnings, opens the data dir, starts
 * the member, then listens on exactly the client and peer URLs it was given.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type http from 'node:http';
import { systemClock } from '../common/clock.js';
import { systemPrng } from '../common/prng.js';
import { createClientPortHandler } from '../api/client-port.js';
import { StorageOpenError } from '../storage/disk-storage.js';
import { SnapshotCorruptError } from '../storage/snapshot.js';
import { WalCorruptError } from '../storage/wal.js';
import { IDENTITY_FILE } from '../server/identity.js';
import { memberConfigFrom, validateMemberConfig } from '../server/config.js';
import { closeAll, listenAll } from '../server/listeners.js';
import type { Member } from '../server/member.js';
import { openMember } from '../server/open-member.js';
import { createPeerPortHandler } from '../server/peer-port.js';
import { peerAdminFor } from '../server/peer-admin.js';
import { etcdUsage, parseEtcdCommand } from './config.js';
import { ConfigError, type EtcdConfig } from './config-types.js';

function logLine(text: string): void {
  process.stderr.write(`[etcd] ${new Date().toISOString()} ${text}\n`);
}

/** Exit code 1 with the message on stderr: bad flags, unusable data dir, address in use. */
function refuse(message: string): never {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
  process.exit(1);
}

function parseOrExit(): EtcdConfig {
  let command;
  try {
    command = parseEtcdCommand(process.argv.slice(2), process.env);
  } catch (error) {
    // As Go's flag package: the problem, then the usage, on stderr.
    if (error instanceof ConfigError) refuse(`etcd: ${error.message}\n${etcdUsage()}`);
    throw error;
  }
  if (command.kind === 'help' || command.kind === 'version') {
    process.stdout.write(command.text.endsWith('\n') ? command.text : command.text + '\n');
    process.exit(0);
  }
  return command.config;
}

async function openOrExit(config: EtcdConfig): Promise<Member> {
  const memberConfig = memberConfigFrom(config);
  const problems = validateMemberConfig(memberConfig);
  if (problems.length > 0) refuse(`etcd: ${problems.join('; ')}`);
  if (config.force) {
    // -force: start over, as 0.4.6 did by deleting log, conf, snapshot and standby_info —
    // only what a member writes, never anything else that lives in the directory.
    for (const entry of ['wal', 'snap', IDENTITY_FILE]) rmSync(join(config.dataDir, entry), { recursive: true, force: true });
    logLine(`-force: removed the log, snapshots and identity in ${config.dataDir}`);
  }
  try {
    return await openMember({
      config: memberConfig,
      clock: systemClock,
      prng: systemPrng,
      onFatal: (error: unknown) => {
        logLine(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        process.exit(2);
      },
      onNotice: logLine,
    });
  } catch (error) {
    if (error instanceof WalCorruptError || error instanceof SnapshotCorruptError || error instanceof StorageOpenError) {
      refuse(`etcd: refusing to start: ${error.message}`);
    }
    const errno = error as NodeJS.ErrnoException;
    if (typeof errno.code === 'string' && typeof errno.syscall === 'string') {
      // An unusable data dir (permissions, a file in the way, full disk) is the user's to fix.
      refuse(`etcd: cannot use the data dir ${config.dataDir}: ${errno.code} (${errno.syscall}${errno.path !== undefined ? ` ${errno.path}` : ''})`);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = parseOrExit();
  for (const warning of config.warnings) process.stderr.write(`${warning}\n`);
  const member = await openOrExit(config);
  await member.start();
  let servers: http.Server[] = [];
  try {
    servers = await listenAll(config.listenPeerUrls, createPeerPortHandler({ ...member.peerPortSource(), admin: peerAdminFor(member, () => member.clusterConfigJson()) }), config.peerTls);
    servers.push(...(await listenAll(config.listenClientUrls, createClientPortHandler(member, { corsOrigins: config.corsOrigins }), config.clientTls)));
  } catch (error) {
    await closeAll(servers);
    await member.stop();
    refuse(`etcd: ${error instanceof Error ? error.message : String(error)}`);
  }
  logLine(
    `${config.name} (${member.self.id}) is serving: client ${config.advertiseClientUrls.join(',')} ` +
      `(listening on ${config.listenClientUrls.join(',')}), peer ${config.advertisePeerUrls.join(',')} ` +
      `(listening on ${config.listenPeerUrls.join(',')}), data in ${config.dataDir}`,
  );
  installShutdown(member, servers);
}

function installShutdown(member: Member, servers: http.Server[]): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logLine(`${signal}: shutting down`);
    void (async () => {
      await closeAll(servers);
      await member.stop();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  logLine(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(2);
});
