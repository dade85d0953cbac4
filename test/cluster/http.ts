/**
 * HTTP helpers for the cluster tests: one request with redirects left to the caller (so the
 * tests can assert every 307 and its Location), a write that follows them by hand, and reads of
 * whole subtrees for key-by-key comparison between members.
 */
import assert from 'node:assert/strict';
import type { EtcdProcess } from '../support/etcd-process.js';
import { sleep } from '../support/cluster.js';

export interface Reply {
  readonly status: number;
  readonly body: string;
  /** The parsed body, or null when it is not JSON. */
  readonly json: unknown;
  readonly headers: Headers;
  readonly location: string | null;
}

export interface RequestOptions {
  readonly form?: string;
  readonly json?: unknown;
  readonly timeoutMs?: number;
}

export async function call(url: string, method: string, options: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = options.form;
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(url, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
    redirect: 'manual',
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // text endpoints (/v2/machines, /v2/leader) and empty bodies
  }
  return { status: res.status, body: text, json, headers: res.headers, location: res.headers.get('location') };
}

/** A request to one member; a 307 is followed by hand (at most twice), returning every hop. */
export async function followRedirects(url: string, method: string, options: RequestOptions = {}): Promise<Reply[]> {
  const hops: Reply[] = [];
  let next = url;
  for (let hop = 0; hop < 3; hop++) {
    const reply = await call(next, method, options);
    hops.push(reply);
    if (reply.status !== 307 || reply.location === null) return hops;
    next = reply.location;
  }
  return hops;
}

/** etcd error 300 (HTTP 500): no leader right now (an election is on); a client retries. */
export function isNoLeader(reply: Reply): boolean {
  return reply.status === 500 && (reply.json as { errorCode?: number } | null)?.errorCode === 300;
}

/**
 * Sends a request (following 307s) until it is answered by something other than error 300, for
 * steps that are not about elections but may meet one on a loaded machine (short timings). A
 * retried write may have been applied by the first attempt, so use it for idempotent steps only.
 */
export async function untilLeaderAnswers(url: string, method: string, options: RequestOptions = {}, timeoutMs = 10_000): Promise<Reply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = lastOf(await followRedirects(url, method, options));
    if (!isNoLeader(reply) || Date.now() >= deadline) return reply;
    await sleep(50);
  }
}

export function lastOf(hops: readonly Reply[]): Reply {
  const last = hops[hops.length - 1];
  assert.ok(last !== undefined, 'no reply');
  return last;
}

export interface NodeJson {
  readonly key?: string;
  readonly value?: string;
  readonly dir?: boolean;
  readonly nodes?: readonly NodeJson[];
  readonly modifiedIndex?: number;
  readonly createdIndex?: number;
  readonly ttl?: number;
  readonly expiration?: string;
}

/** value + modifiedIndex + createdIndex of one key, as written by the test. */
export interface KeyState {
  readonly value: string | null;
  readonly modifiedIndex: number;
  readonly createdIndex: number;
}

export interface Snapshot {
  /** Every node under the prefix (directories with value null), by key. */
  readonly keys: Map<string, KeyState>;
  readonly etcdIndex: number;
}

function collect(node: NodeJson, out: Map<string, KeyState>): void {
  assert.ok(node.key !== undefined && node.modifiedIndex !== undefined && node.createdIndex !== undefined, JSON.stringify(node));
  out.set(node.key, { value: node.dir === true ? null : (node.value ?? ''), modifiedIndex: node.modifiedIndex, createdIndex: node.createdIndex });
  for (const child of node.nodes ?? []) collect(child, out);
}

/** A recursive read of `prefix` on one member (plain, or `quorum=true`); 404 reads as empty. */
export async function readTree(member: EtcdProcess, prefix: string, quorum = false): Promise<Snapshot> {
  const url = `${member.clientUrl}/v2/keys${prefix}?recursive=true${quorum ? '&quorum=true' : ''}`;
  // A quorum read needs a leader: during an election it is answered with error 300, then retried.
  const reply = quorum ? await untilLeaderAnswers(url, 'GET') : await call(url, 'GET');
  const etcdIndex = Number(reply.headers.get('x-etcd-index'));
  const keys = new Map<string, KeyState>();
  if (reply.status === 404) return { keys, etcdIndex };
  assert.equal(reply.status, 200, `${member.name} GET ${prefix}: ${reply.status} ${reply.body}`);
  const node = (reply.json as { node?: NodeJson }).node;
  assert.ok(node !== undefined, reply.body);
  collect(node, keys);
  return { keys, etcdIndex };
}

/** Polls plain reads on `member` until `ready` holds (returns the last read either way). */
export async function pollTree(
  member: EtcdProcess,
  prefix: string,
  ready: (snapshot: Snapshot) => boolean,
  timeoutMs: number,
): Promise<Snapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let snapshot: Snapshot | null = null;
    try {
      snapshot = await readTree(member, prefix);
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    if (snapshot !== null && (ready(snapshot) || Date.now() >= deadline)) return snapshot;
    await sleep(50);
  }
}

export function sameKeys(a: Snapshot, b: Snapshot): boolean {
  if (a.keys.size !== b.keys.size) return false;
  for (const [key, state] of a.keys) {
    const other = b.keys.get(key);
    if (other === undefined || other.value !== state.value || other.modifiedIndex !== state.modifiedIndex || other.createdIndex !== state.createdIndex) {
      return false;
    }
  }
  return true;
}

/** Polls until `predicate` resolves true; throws with `what` after the timeout. */
export async function eventually(what: string | (() => string), predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      if (await predicate()) return;
      last = null;
    } catch (error) {
      last = error;
    }
    await sleep(50);
  }
  throw new Error(`not within ${timeoutMs} ms: ${typeof what === 'string' ? what : what()}${last !== null ? ` (last error: ${String(last)})` : ''}`);
}

export interface MemberJson {
  readonly id: string;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

export async function membersOf(member: Pick<EtcdProcess, 'name' | 'clientUrl'>): Promise<MemberJson[]> {
  const reply = await call(`${member.clientUrl}/v2/members`, 'GET');
  assert.equal(reply.status, 200, `${member.name} /v2/members: ${reply.body}`);
  return [...(reply.json as { members: MemberJson[] }).members].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** What /v2/members should say for started members: their own name, peer and client URL. */
export function expectedMembers(members: readonly EtcdProcess[], ids: ReadonlyMap<string, string>): MemberJson[] {
  return [...members]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => ({ id: ids.get(m.name) ?? '?', name: m.name, peerURLs: [m.peerUrl], clientURLs: [m.clientUrl] }));
}

/** `/_etcd/machines/<name>`'s value (0.4.6 form, §10). */
export function machineValue(member: EtcdProcess): string {
  return `etcd=${encodeURIComponent(member.clientUrl)}&raft=${encodeURIComponent(member.peerUrl)}`;
}

/** The `/_etcd/machines` directory as name → value, read with quorum=true on `member`. */
export async function machinesKeys(member: EtcdProcess): Promise<Map<string, string>> {
  const tree = await readTree(member, '/_etcd/machines', true);
  const out = new Map<string, string>();
  for (const [key, state] of tree.keys) {
    if (key === '/_etcd/machines' || state.value === null) continue;
    out.set(key.slice('/_etcd/machines/'.length), state.value);
  }
  return out;
}
