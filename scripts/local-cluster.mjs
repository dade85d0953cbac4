#!/usr/bin/env node
// A local cluster for trying things out: three members coreos-1..3 on loopback, bootstrapped
// from one static --initial-cluster list, client ports 4001.., peer ports 7001.., data in
// ./local-cluster/<name>.etcd and each member's log in ./local-cluster/<name>.log.
// Ctrl-C (or SIGTERM) stops every member by its pid and waits for them to exit.
//
// Usage: node scripts/local-cluster.mjs [--size N] [--base-client-port P] [--base-peer-port P]
//                                       [-- extra flags for every member]
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const USAGE = 'usage: local-cluster [--size N] [--base-client-port PORT] [--base-peer-port PORT] [-- etcd flags]';
const STOP_GRACE_MS = 5_000;

function parseArgs(argv) {
  const options = { size: 3, baseClientPort: 4001, basePeerPort: 7001, extra: [] };
  const numeric = { '--size': 'size', '--base-client-port': 'baseClientPort', '--base-peer-port': 'basePeerPort' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      options.extra = argv.slice(i + 1);
      break;
    }
    if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    }
    const [flag, inline] = arg.split('=', 2);
    const field = numeric[flag];
    if (field === undefined) fail(`unknown flag ${arg}\n${USAGE}`);
    const text = inline ?? argv[++i];
    if (text === undefined || !/^[0-9]+$/.test(text)) fail(`${flag} needs a number\n${USAGE}`);
    options[field] = Number(text);
  }
  if (options.size < 1) fail('--size must be at least 1');
  for (const base of [options.baseClientPort, options.basePeerPort]) {
    if (base < 1 || base + options.size - 1 > 65535) fail(`ports ${base}..${base + options.size - 1} are out of range`);
  }
  const clients = new Set(Array.from({ length: options.size }, (_, i) => options.baseClientPort + i));
  for (let i = 0; i < options.size; i++) {
    if (clients.has(options.basePeerPort + i)) fail('client and peer port ranges overlap');
  }
  return options;
}

function fail(message) {
  console.error(`local-cluster: ${message}`);
  process.exit(2);
}

function plan(options) {
  return Array.from({ length: options.size }, (_, i) => ({
    name: `coreos-${i + 1}`,
    clientUrl: `http://127.0.0.1:${options.baseClientPort + i}`,
    peerUrl: `http://127.0.0.1:${options.basePeerPort + i}`,
    clientAddr: `127.0.0.1:${options.baseClientPort + i}`,
    peerAddr: `127.0.0.1:${options.basePeerPort + i}`,
  }));
}

function startMember(member, initialCluster, root, extra) {
  const etcd = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'etcd');
  const log = openSync(join(root, `${member.name}.log`), 'a');
  const child = spawn(
    process.execPath,
    [
      etcd,
      '-name', member.name,
      '-data-dir', join(root, `${member.name}.etcd`),
      '-addr', member.clientAddr,
      '-peer-addr', member.peerAddr,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', 'local-cluster',
      ...extra,
    ],
    // Its own process group: Ctrl-C reaches only this script, which then stops each member.
    { stdio: ['ignore', log, log], detached: true },
  );
  closeSync(log);
  return child;
}

/** Polls /v2/stats/self until one member says it leads; null if none within the time. */
async function waitForLeader(members, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const member of members) {
      try {
        const res = await fetch(`${member.clientUrl}/v2/stats/self`, { redirect: 'manual', signal: AbortSignal.timeout(1000) });
        const self = res.status === 200 ? await res.json() : null;
        if (self?.state === 'leader') return member;
      } catch {
        // not serving yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

function stopAll(children) {
  const exits = [];
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    exits.push(
      new Promise((done) => {
        const timer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
        }, STOP_GRACE_MS);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
      }),
    );
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // exited meanwhile
    }
  }
  return Promise.all(exits);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const root = resolve('local-cluster');
  mkdirSync(root, { recursive: true });
  const members = plan(options);
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const children = members.map((m) => startMember(m, initialCluster, root, options.extra));

  let stopping = false;
  const shutdown = async (why, code) => {
    if (stopping) return;
    stopping = true;
    console.log(`local-cluster: ${why}, stopping ${children.map((c) => c.pid).join(' ')}`);
    await stopAll(children);
    console.log('local-cluster: stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  children.forEach((child, i) =>
    child.once('exit', (code, signal) => {
      if (!stopping) void shutdown(`${members[i].name} exited (${code ?? signal}), see ${join(root, `${members[i].name}.log`)}`, 1);
    }),
  );

  for (const [i, m] of members.entries()) {
    console.log(`${m.name}  client ${m.clientUrl}  peer ${m.peerUrl}  pid ${children[i].pid}`);
  }
  console.log(`local-cluster: data and logs in ${root}`);
  const leader = await waitForLeader(members, 30_000);
  if (stopping) return;
  if (leader === null) return shutdown('no leader within 30 s', 1);
  console.log(`local-cluster: up, leader ${leader.name}; try ETCDCTL_API=2 etcdctl --endpoints ${members.map((m) => m.clientUrl).join(',')} member list`);
  console.log('local-cluster: Ctrl-C stops every member');
}

main();
