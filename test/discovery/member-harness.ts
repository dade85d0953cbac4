/**
 * Members started with `-discovery` as real processes (test/support/etcd-process.ts), and the
 * checks the discovery tests share: one cluster (the same /v2/members from each member, one
 * leader every member names), the registry's entries, and a raw bin/etcd run for the cases where
 * the flags of startEtcd would hide what is tested (a cloud-config's addresses, an exit).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHORT_TIMINGS, waitForAgreedLeader, selfStats } from '../support/cluster.js';
import { etcdBinPath, startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { freePorts } from '../support/ports.js';

/** Joins retry fast: a founder that is still starting is found on a later round. */
export const FAST_JOIN: readonly string[] = ['-retry-interval', '0.3', '-max-retry-attempts', '20'];

export const WEEK_SEC = 604_800;

/** A set of discovery members under one temp dir; remove() kills every one of them by pid. */
export class DiscoveryMembers {
  readonly root = mkdtempSync(join(tmpdir(), 'etcd-discovery-members-'));
  readonly started: EtcdProcess[] = [];

  dataDirOf(name: string): string {
    return join(this.root, `${name}.etcd`);
  }

  /** One member with `-discovery url` (short timings, fast join retries, then `args`). */
  async start(name: string, url: string, args: readonly string[] = [], waitFor: 'serving' | 'spawned' = 'serving'): Promise<EtcdProcess> {
    const [clientPort, peerPort] = await freePorts(2);
    const member = await startEtcd({
      name,
      dataDir: this.dataDirOf(name),
      ...(clientPort !== undefined && peerPort !== undefined ? { clientPort, peerPort } : {}),
      args: [...SHORT_TIMINGS, ...FAST_JOIN, '-discovery', url, ...args],
      waitFor,
    });
    this.started.push(member);
    return member;
  }

  /** Several at once, as machines booted together. */
  startAll(names: readonly string[], url: string, args: (name: string) => readonly string[] = () => []): Promise<EtcdProcess[]> {
    return Promise.all(names.map((name) => this.start(name, url, args(name))));
  }

  async remove(): Promise<void> {
    await Promise.all(this.started.map((m) => m.stop()));
    rmSync(this.root, { recursive: true, force: true });
  }
}

export interface MemberJson {
  readonly id: string;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

export async function membersOf(member: EtcdProcess): Promise<MemberJson[]> {
  const res = await fetch(`${member.clientUrl}/v2/members`, { signal: AbortSignal.timeout(2000) });
  assert.equal(res.status, 200, `${member.name} /v2/members`);
  const body = (await res.json()) as { members: MemberJson[] };
  return [...body.members].sort((a, b) => a.name.localeCompare(b.name));
}

/** What /v2/members must list for exactly these members, by name. */
export function expectedMembers(members: readonly EtcdProcess[]): Array<Omit<MemberJson, 'id'>> {
  return [...members]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => ({ name: m.name, peerURLs: [m.peerUrl], clientURLs: [m.clientUrl] }));
}

/**
 * Waits until every voter serves the same /v2/members (exactly `voters`) and agrees on one
 * leader, and every voter's /_etcd/machines lists them all; returns the member ids by name.
 */
export async function waitForOneCluster(voters: readonly EtcdProcess[], timeoutMs = 15_000): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  const want = JSON.stringify(expectedMembers(voters));
  let last = '';
  while (Date.now() < deadline) {
    try {
      const seen = await Promise.all(voters.map((m) => membersOf(m)));
      const views = seen.map((list) => JSON.stringify(list.map(({ id: _id, ...rest }) => rest)));
      const ids = seen.map((list) => JSON.stringify(list.map((m) => m.id)));
      const machines = await Promise.all(voters.map((m) => machineNames(m)));
      last = `members ${views.join(' | ')}; machines ${machines.map((names) => names.join(',')).join(' | ')}`;
      const wantNames = voters.map((m) => m.name).sort().join(',');
      if (views.every((view) => view === want) && new Set(ids).size === 1 && machines.every((names) => names.join(',') === wantNames)) {
        await waitForAgreedLeader(() => voters, Math.max(1000, deadline - Date.now()));
        return new Map((seen[0] ?? []).map((m) => [m.name, m.id]));
      }
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const logs = voters.map((m) => `--- ${m.name} ---\n${m.output()}`).join('\n');
  throw new Error(`no single cluster of ${voters.map((m) => m.name).join(',')} within ${timeoutMs} ms: ${last}\n${logs}`);
}

async function machineNames(member: EtcdProcess): Promise<string[]> {
  const res = await fetch(`${member.clientUrl}/v2/keys/_etcd/machines`, { signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as { node?: { nodes?: Array<{ key: string }> } };
  return (body.node?.nodes ?? []).map((n) => n.key.slice('/_etcd/machines/'.length)).sort();
}

export async function memberId(member: EtcdProcess): Promise<string> {
  return (await selfStats(member)).id;
}

export interface RegistryEntry {
  readonly key: string;
  readonly value: string;
  readonly ttl: number;
  readonly expiration: string;
}

/** The token's listing: its entries, sorted by key. */
export async function registryEntries(url: string): Promise<RegistryEntry[]> {
  const res = await fetch(`${url}?recursive=true`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, url);
  const body = (await res.json()) as { node: { nodes?: RegistryEntry[] } };
  return (body.node.nodes ?? []).map(({ key, value, ttl, expiration }) => ({ key, value, ttl, expiration })).sort((a, b) => a.key.localeCompare(b.key));
}

/** Every entry is a member's peer URL under its name, with a week's TTL (just set) and an expiration a week ahead. */
export function assertRegistered(entries: readonly RegistryEntry[], prefix: string, members: readonly EtcdProcess[]): void {
  const sorted = [...members].sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(
    entries.map((e) => ({ key: e.key, value: e.value })),
    sorted.map((m) => ({ key: `${prefix}/${m.name}`, value: m.peerUrl })),
  );
  for (const entry of entries) {
    assert.ok(entry.ttl <= WEEK_SEC && entry.ttl > 604_000, `${entry.key}: ttl ${entry.ttl}`);
    const aheadSec = (Date.parse(entry.expiration) - Date.now()) / 1000;
    assert.ok(Math.abs(aheadSec - entry.ttl) < 5, `${entry.key}: expiration ${entry.expiration} is not ttl ${entry.ttl} s ahead`);
  }
}

export interface EtcdRun {
  readonly code: number | null;
  readonly output: string;
  readonly elapsedMs: number;
}

/** bin/etcd with exactly these flags, expected to exit: its code and output (killed by pid after `timeoutMs`). */
export function runEtcdToExit(args: readonly string[], timeoutMs = 30_000, env: Readonly<Record<string, string>> = {}): Promise<EtcdRun> {
  const started = Date.now();
  const child = spawn(process.execPath, [etcdBinPath(), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => killChild(child), timeoutMs);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, elapsedMs: Date.now() - started });
    }),
  );
}

/** bin/etcd with exactly these flags, left running: its pid, output and a stop by pid. */
export interface RawEtcd {
  readonly pid: number;
  output(): string;
  stop(): Promise<void>;
}

export function spawnEtcd(args: readonly string[], env: Readonly<Record<string, string>> = {}): RawEtcd {
  const child = spawn(process.execPath, [etcdBinPath(), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.on('exit', () => killChild(child));
  return {
    pid: child.pid ?? -1,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      await exited;
    },
  };
}

function killChild(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Polls `check` until it returns true (default 10 s). */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last === null ? '' : ` (${String(last)})`}`);
}
