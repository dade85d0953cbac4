/**
 * The black-box fault harness: a static cluster of our `bin/etcd` members as real processes on
 * loopback, where every member reaches every other through a TCP proxy of its own (member A dials
 * B through proxy A→B, set up with the test-only ETCD_TEST_PEER_DIAL_MAP). Clients talk to the
 * members' client ports directly: the faults are between members, as in a real partition.
 *
 * Processes are started and killed by pid (test/support/etcd-process.ts); stop() kills every one
 * of them, closes every proxy and deletes the data dirs. Needs a build (`npm run build`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededPrng } from '../../src/common/prng.js';
import type { TestBreak } from '../../src/common/test-hooks.js';
import { SHORT_TIMINGS, selfStats, sleep, type SelfStats } from '../support/cluster.js';
import { startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { freePorts } from '../support/ports.js';
import type { DumpNode, MemberDump } from './history.js';
import { LinkProxy } from './proxy.js';

export interface BlackboxOptions {
  readonly size: number;
  /** Seeds the link delays' jitter (everything random in the harness). */
  readonly seed: number;
  /** 'short' (default): 50 ms heartbeat, 500 ms election; 'default': the server's own; or explicit. */
  readonly timings?: 'short' | 'default' | { readonly heartbeatMs: number; readonly electionMs: number };
  readonly snapshotCount?: number;
  /** Extra environment for every member. */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra flags for every member. */
  readonly args?: readonly string[];
  /** Starts every member with ETCD_TEST_BREAK=<mode>: a deliberately unsafe cluster. */
  readonly break?: TestBreak;
  /** Member names are `${namePrefix}${i}` from 1 (default 'n'). */
  readonly namePrefix?: string;
  /**
   * true (default): resolve once the members agree on a leader and every member has applied
   * every member's `/_etcd/machines` record, so a run starts from a settled cluster.
   */
  readonly settle?: boolean;
}

export interface BlackboxMember {
  readonly name: string;
  /** The raft member id (hex), as /v2/stats/self and /v2/members say it. */
  readonly id: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  /** Pid of the current run, -1 while killed. */
  readonly pid: number;
  /** Started and not killed (a SIGSTOPped member is still running). */
  isRunning(): boolean;
  /** SIGSTOPped and not yet SIGCONTed. */
  isPaused(): boolean;
}

export interface BlackboxNet {
  /** The proxy member `from` dials member `to` through. */
  link(from: string, to: string): LinkProxy;
  /** Cuts every link to and from `name` (blackhole); the rest of the network is left as it is. */
  isolate(name: string): void;
  /** Each member in exactly one group: links inside a group pass, links between groups are cut. */
  partition(groups: readonly (readonly string[])[]): void;
  /** Cuts only `from`'s messages to `to` (and that connection's replies); `to` still reaches `from`. */
  cutOneWay(from: string, to: string): void;
  /** Every link to and from `name` delays each chunk by ms ± jitterMs (seeded, order kept). */
  delay(name: string, ms: number, jitterMs: number): void;
  /** Every link back to pass. */
  heal(): void;
}

export interface BlackboxCluster {
  readonly seed: number;
  readonly size: number;
  readonly members: readonly BlackboxMember[];
  names(): string[];
  member(name: string): BlackboxMember;
  clientUrls(): string[];
  kill9(name: string): Promise<void>;
  /** Starts a killed member again on its ports and data dir; resolves once it serves. */
  restart(name: string): Promise<void>;
  /** SIGSTOP / SIGCONT. */
  pause(name: string): void;
  resume(name: string): void;
  /** kill -9 every running member at once. */
  killAll(): Promise<void>;
  /** Starts every killed member, all at once. */
  restartAll(): Promise<void>;
  /**
   * The member that says it leads and that a majority of the cluster (itself included) names as
   * leader, asking only running, unpaused members; null if there is none right now.
   */
  leader(): Promise<string | null>;
  /** Polls leader() until it names a member `accept` takes (default: any); throws after timeoutMs. */
  waitForLeader(timeoutMs?: number, accept?: (name: string) => boolean): Promise<string>;
  readonly net: BlackboxNet;
  /** Each member's local, recursive, sorted read of `prefix` (leaves only). */
  dumpKeys(prefix: string): Promise<MemberDump[]>;
  /** Everything the member wrote to stdout/stderr, over all its runs. */
  logs(name: string): string;
  /** Kills every process by pid, closes every proxy, deletes the data dirs. Safe to call twice. */
  stop(): Promise<void>;
}

interface MemberSlot {
  readonly process: EtcdProcess;
  readonly id: string;
  paused: boolean;
  /** Output of the runs before the current one. */
  earlierLogs: string;
}

export async function startBlackboxCluster(options: BlackboxOptions): Promise<BlackboxCluster> {
  if (!Number.isInteger(options.size) || options.size < 1) throw new Error(`harness: bad size ${options.size}`);
  const prefix = options.namePrefix ?? 'n';
  const names = Array.from({ length: options.size }, (_, i) => `${prefix}${i + 1}`);
  const linkCount = options.size * (options.size - 1);
  const ports = await freePorts(2 * options.size + linkCount);
  const takePort = (): number => {
    const port = ports.shift();
    if (port === undefined) throw new Error('harness: ran out of ports');
    return port;
  };
  const plan = names.map((name) => ({ name, clientPort: takePort(), peerPort: takePort() }));
  const peerUrlOf = (name: string): string => `http://127.0.0.1:${planFor(name).peerPort}`;
  const planFor = (name: string): (typeof plan)[number] => {
    const p = plan.find((x) => x.name === name);
    if (p === undefined) throw new Error(`harness: no member ${name}`);
    return p;
  };

  const proxies = new Map<string, LinkProxy>();
  const root = mkdtempSync(join(tmpdir(), 'etcd-blackbox-'));
  const slots = new Map<string, MemberSlot>();
  const started: EtcdProcess[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(started.map((p) => p.kill9()));
    await Promise.all([...proxies.values()].map((p) => p.close()));
    rmSync(root, { recursive: true, force: true });
  };

  try {
    for (const from of names) {
      for (const to of names) {
        if (from === to) continue;
        const proxy = await LinkProxy.start({ name: `${from}->${to}`, listenPort: takePort(), targetPort: planFor(to).peerPort });
        proxies.set(linkKey(from, to), proxy);
      }
    }
    const initialCluster = names.map((n) => `${n}=${peerUrlOf(n)}`).join(',');
    const timingArgs = timingFlags(options.timings ?? 'short');
    // allSettled, not all: a member that failed must not leave the others starting unowned.
    const outcomes = await Promise.allSettled(
      plan.map((p) => {
        const dialMap = names
          .filter((other) => other !== p.name)
          .map((other) => `${peerUrlOf(other)}=${proxyOf(proxies, p.name, other).url}`)
          .join(',');
        return startEtcd({
          name: p.name,
          dataDir: join(root, `${p.name}.etcd`),
          clientPort: p.clientPort,
          peerPort: p.peerPort,
          args: [
            '--initial-cluster', initialCluster,
            '--initial-cluster-state', 'new',
            ...timingArgs,
            ...(options.snapshotCount === undefined ? [] : ['-snapshot-count', String(options.snapshotCount)]),
            ...(options.args ?? []),
          ],
          env: {
            ...(options.env ?? {}),
            ETCD_TEST_PEER_DIAL_MAP: dialMap,
            ...(options.break === undefined ? {} : { ETCD_TEST_BREAK: options.break }),
          },
        }).then((proc) => {
          started.push(proc);
          return proc;
        });
      }),
    );
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    for (const proc of started) {
      const stats = await selfStats(proc);
      slots.set(proc.name, { process: proc, id: stats.id, paused: false, earlierLogs: '' });
    }
    if (options.settle !== false) await waitForRegistrations(started, names, 20_000);
  } catch (error) {
    const logs = started.map((p) => `--- ${p.name} ---\n${p.output()}`).join('\n');
    await stop();
    throw new Error(`harness: the cluster did not form: ${String(error)}\n${logs}`);
  }

  const slot = (name: string): MemberSlot => {
    const s = slots.get(name);
    if (s === undefined) throw new Error(`harness: no member ${name}`);
    return s;
  };
  const members: BlackboxMember[] = names.map((name) => {
    const s = slot(name);
    return {
      name,
      id: s.id,
      clientUrl: s.process.clientUrl,
      peerUrl: s.process.peerUrl,
      get pid() {
        return s.process.pid;
      },
      isRunning: () => s.process.isRunning(),
      isPaused: () => s.paused,
    };
  });
  const live = (): MemberSlot[] => [...slots.values()].filter((s) => s.process.isRunning() && !s.paused);
  const netPrng = new SeededPrng(options.seed).fork();

  const kill9 = async (name: string): Promise<void> => {
    const s = slot(name);
    await s.process.kill9(); // SIGKILL ends a stopped process too
    s.paused = false;
  };
  const restart = async (name: string): Promise<void> => {
    const s = slot(name);
    if (s.process.isRunning()) throw new Error(`harness: ${name} is running (pid ${s.process.pid})`);
    s.earlierLogs += s.process.output();
    await s.process.restart();
  };
  const signal = (name: string, sig: 'SIGSTOP' | 'SIGCONT'): void => {
    const s = slot(name);
    if (!s.process.isRunning()) throw new Error(`harness: cannot ${sig} ${name}: not running`);
    process.kill(s.process.pid, sig);
    s.paused = sig === 'SIGSTOP';
  };

  const leader = async (): Promise<string | null> => {
    const asked = live();
    const stats = await Promise.all(asked.map((s) => selfStats(s.process).catch((): SelfStats | null => null)));
    const quorum = Math.floor(options.size / 2) + 1;
    for (const claim of stats) {
      if (claim?.state !== 'leader') continue;
      const votes = stats.filter((s) => s?.leaderInfo.leader === claim.id).length;
      if (votes >= quorum) return claim.name;
    }
    return null;
  };

  const net: BlackboxNet = {
    link: (from, to) => proxyOf(proxies, from, to),
    isolate: (name) => {
      slot(name);
      for (const other of names) {
        if (other === name) continue;
        proxyOf(proxies, name, other).blackhole();
        proxyOf(proxies, other, name).blackhole();
      }
    },
    partition: (groups) => {
      const groupOf = new Map<string, number>();
      groups.forEach((group, i) => {
        for (const name of group) {
          slot(name);
          if (groupOf.has(name)) throw new Error(`harness: ${name} is in two groups`);
          groupOf.set(name, i);
        }
      });
      const missing = names.filter((n) => !groupOf.has(n));
      if (missing.length > 0) throw new Error(`harness: partition leaves out ${missing.join(',')}`);
      for (const [key, proxy] of proxies) {
        const [from, to] = splitLinkKey(key);
        if (groupOf.get(from) === groupOf.get(to)) proxy.heal();
        else proxy.blackhole();
      }
    },
    cutOneWay: (from, to) => {
      proxyOf(proxies, from, to).blackhole();
    },
    delay: (name, ms, jitterMs) => {
      slot(name);
      for (const other of names) {
        if (other === name) continue;
        proxyOf(proxies, name, other).delay(ms, jitterMs, netPrng.fork());
        proxyOf(proxies, other, name).delay(ms, jitterMs, netPrng.fork());
      }
    },
    heal: () => {
      for (const proxy of proxies.values()) proxy.heal();
    },
  };

  return {
    seed: options.seed,
    size: options.size,
    members,
    names: () => [...names],
    member: (name) => {
      const m = members.find((x) => x.name === name);
      if (m === undefined) throw new Error(`harness: no member ${name}`);
      return m;
    },
    clientUrls: () => members.map((m) => m.clientUrl),
    kill9,
    restart,
    pause: (name) => signal(name, 'SIGSTOP'),
    resume: (name) => signal(name, 'SIGCONT'),
    killAll: async () => {
      await Promise.all(names.map((n) => kill9(n)));
    },
    restartAll: async () => {
      await Promise.all(names.filter((n) => !slot(n).process.isRunning()).map((n) => restart(n)));
    },
    leader,
    waitForLeader: async (timeoutMs = 10_000, accept = () => true) => {
      const deadline = Date.now() + timeoutMs;
      let last: string | null = null;
      while (Date.now() < deadline) {
        last = await leader();
        if (last !== null && accept(last)) return last;
        await sleep(50);
      }
      throw new Error(`harness: no acceptable leader within ${timeoutMs} ms (last: ${last ?? 'none'})`);
    },
    net,
    dumpKeys: (keyPrefix) => Promise.all(names.map((n) => dumpMember(slot(n), n, keyPrefix))),
    logs: (name) => {
      const s = slot(name);
      return s.earlierLogs + s.process.output();
    },
    stop,
  };
}

/** Every member's local read of /_etcd/machines names every member. */
async function waitForRegistrations(processes: readonly EtcdProcess[], names: readonly string[], timeoutMs: number): Promise<void> {
  const want = names.map((n) => `/_etcd/machines/${n}`).sort().join(',');
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const seen = await Promise.all(processes.map((p) => machineKeys(p).catch((error: unknown) => String(error))));
    last = seen.join(' | ');
    if (seen.every((keys) => keys === want)) return;
    await sleep(50);
  }
  throw new Error(`members did not all register within ${timeoutMs} ms: ${last}`);
}

async function machineKeys(p: EtcdProcess): Promise<string> {
  const res = await fetch(`${p.clientUrl}/v2/keys/_etcd/machines`, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as { node?: { nodes?: { key: string }[] } };
  return (body.node?.nodes ?? []).map((n) => n.key).sort().join(',');
}

function timingFlags(timings: NonNullable<BlackboxOptions['timings']>): readonly string[] {
  if (timings === 'short') return SHORT_TIMINGS;
  if (timings === 'default') return [];
  return ['-peer-heartbeat-interval', String(timings.heartbeatMs), '-peer-election-timeout', String(timings.electionMs)];
}

function linkKey(from: string, to: string): string {
  return `${from}->${to}`;
}

function splitLinkKey(key: string): [string, string] {
  const [from, to] = key.split('->');
  if (from === undefined || to === undefined) throw new Error(`harness: bad link ${key}`);
  return [from, to];
}

function proxyOf(proxies: ReadonlyMap<string, LinkProxy>, from: string, to: string): LinkProxy {
  const proxy = proxies.get(linkKey(from, to));
  if (proxy === undefined) throw new Error(`harness: no link ${from}->${to}`);
  return proxy;
}

interface RawNode {
  key?: string;
  value?: string;
  dir?: boolean;
  nodes?: RawNode[];
  createdIndex?: number;
  modifiedIndex?: number;
  expiration?: string;
}

async function dumpMember(slot: MemberSlot, name: string, keyPrefix: string): Promise<MemberDump> {
  if (!slot.process.isRunning() || slot.paused) {
    return { member: name, etcdIndex: -1, raftIndex: -1, nodes: null, error: slot.paused ? 'paused' : 'not running' };
  }
  const path = keyPrefix.startsWith('/') ? keyPrefix : `/${keyPrefix}`;
  try {
    const res = await fetch(`${slot.process.clientUrl}/v2/keys${path}?recursive=true&sorted=true`, {
      redirect: 'manual',
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as { node?: RawNode; errorCode?: number };
    const etcdIndex = Number(res.headers.get('x-etcd-index') ?? -1);
    const raftIndex = Number(res.headers.get('x-raft-index') ?? -1);
    if (res.status === 404 && body.errorCode === 100) return { member: name, etcdIndex, raftIndex, nodes: [] };
    if (res.status !== 200 || body.node === undefined) {
      return { member: name, etcdIndex, raftIndex, nodes: null, error: `status ${res.status}: ${JSON.stringify(body)}` };
    }
    const leaves: DumpNode[] = [];
    flatten(body.node, leaves);
    return { member: name, etcdIndex, raftIndex, nodes: leaves };
  } catch (error) {
    return { member: name, etcdIndex: -1, raftIndex: -1, nodes: null, error: String(error) };
  }
}

function flatten(node: RawNode, into: DumpNode[]): void {
  if (node.dir === true) {
    for (const child of node.nodes ?? []) flatten(child, into);
    return;
  }
  into.push({
    key: node.key ?? '',
    value: node.value ?? '',
    createdIndex: node.createdIndex ?? -1,
    modifiedIndex: node.modifiedIndex ?? -1,
    ...(node.expiration === undefined ? {} : { expiration: node.expiration }),
  });
}
