/**
 * The discovery service's own registry when no `-etcd` cluster is given: a single member of
 * this project, opened in this process on the service's data dir, so `etcd-discovery` alone is
 * a durable service (tokens and registrations survive a restart).
 *
 * The member's client-port handler is bound on 127.0.0.1 with a port the OS picks, and the
 * service reaches it over HTTP like any `-etcd` backing. Calling the handler in-process would
 * save a loopback hop, but then the proxy would need fake request/response objects and a
 * second code path; over loopback there is one proxy path (redirects, failover, streamed
 * long-polls, the real index headers), and the `-etcd` tests exercise the embedded case too.
 * The member has no peers and no peer port: it is the only voter of its cluster.
 */
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../common/clock.js';
import { systemPrng } from '../common/prng.js';
import { createClientPortHandler } from '../api/client-port.js';
import { defaultMemberConfig, type MemberConfig } from '../server/config.js';
import { lockDataDir } from '../server/data-dir-lock.js';
import type { Member } from '../server/member.js';
import { openMember } from '../server/open-member.js';

export interface EmbeddedRegistryConfig {
  readonly dataDir: string;
  /** The member's name in its own `/_etcd/machines`. */
  readonly name: string;
  readonly onNotice: (line: string) => void;
  /** A member that cannot go on (an fsync failure): the process must stop. */
  readonly onFatal: (error: unknown) => void;
}

export interface EmbeddedRegistry {
  /** `http://127.0.0.1:<port>`: the member's client port, for this process only. */
  readonly clientUrl: string;
  stop(): Promise<void>;
}

/**
 * Never dialled (the member has no transport), but a member record needs a peer URL, and a
 * constant one keeps the record unchanged across restarts.
 */
const UNUSED_PEER_URL = 'http://127.0.0.1:0';

export async function startEmbeddedRegistry(config: EmbeddedRegistryConfig): Promise<EmbeddedRegistry> {
  mkdirSync(config.dataDir, { recursive: true });
  const releaseLock = lockDataDir(config.dataDir);
  let handler: http.RequestListener = (_req, res) => {
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('registry is starting\n');
  };
  const server = http.createServer((req, res) => handler(req, res));
  // Long-poll watches through the service may stay idle for minutes.
  server.requestTimeout = 0;
  let member: Member | null = null;
  try {
    const port = await listenOnLoopback(server);
    const clientUrl = `http://127.0.0.1:${port}`;
    member = await openMember({
      config: memberConfigOf(config, clientUrl),
      clock: systemClock,
      prng: systemPrng,
      onFatal: config.onFatal,
      onNotice: config.onNotice,
      transport: null,
    });
    await member.start();
    handler = createClientPortHandler(member);
    const opened = member;
    return {
      clientUrl,
      stop: async () => {
        await closeServer(server);
        await opened.stop();
        releaseLock();
      },
    };
  } catch (error) {
    await closeServer(server);
    await member?.stop();
    releaseLock();
    throw error;
  }
}

function memberConfigOf(config: EmbeddedRegistryConfig, clientUrl: string): MemberConfig {
  return { ...defaultMemberConfig(config.dataDir), name: config.name, clientUrls: [clientUrl], peerUrls: [UNUSED_PEER_URL] };
}

function listenOnLoopback(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
