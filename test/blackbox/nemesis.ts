/**
 * The nemesis: on a seeded schedule, one fault at a time against a black-box cluster
 * (harness.ts), each healed before the next starts, everything healed at the end.
 *
 * Faults: kill -9 a member (`kill`) or the leader (`kill-leader`) and restart it after a while;
 * SIGSTOP then SIGCONT a member (`pause`); isolate the leader (`isolate-leader`); split a majority
 * from a minority (`split`); cut one direction of one link (`cut-one-way`); delay every link of a
 * member with jitter (`delay`); kill every member at once and restart them all (`kill-all`).
 *
 * The schedule (which fault, which member, how long) comes from the seed; which member leads at
 * a given moment is the cluster's business, so a replay picks the same kinds at the same times
 * but a `*-leader` fault may land on another member.
 */
import { SeededPrng } from '../../src/common/prng.js';
import { sleep } from '../support/cluster.js';
import type { BlackboxCluster } from './harness.js';

export const FAULT_KINDS = ['kill', 'kill-leader', 'pause', 'isolate-leader', 'split', 'cut-one-way', 'delay', 'kill-all'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults that need a network between members: a single member cannot have them. */
const NEEDS_PEERS: readonly FaultKind[] = ['isolate-leader', 'split', 'cut-one-way', 'delay'];

export interface FaultRecord {
  readonly kind: FaultKind;
  /** Who it hit: a member, `n1->n2`, `n1,n2|n3`, `n2 60±30ms`, `all`. */
  readonly target: string;
  /** performance.now() of the test process, the history's clock. */
  readonly startMs: number;
  /** When it was healed (the restarted member serves again, the link passes again). */
  readonly endMs: number;
  /** Set when healing did not fully work (e.g. a restart failed): the run is suspect. */
  readonly error?: string;
}

export interface NemesisOptions {
  readonly seed: number;
  readonly durationMs: number;
  /** Mean time from one fault's start to the next one's (default 5,000 ms). */
  readonly intervalMs?: number;
  /** Kinds to draw from (default: every kind the cluster's size allows). */
  readonly faults?: readonly string[];
  readonly log: (line: string) => void;
  /** Ends the schedule early (the current fault is healed first). */
  readonly signal?: AbortSignal;
}

export function parseFaultKinds(names: readonly string[]): FaultKind[] {
  return names.map((name) => {
    const kind = FAULT_KINDS.find((k) => k === name);
    if (kind === undefined) throw new Error(`nemesis: unknown fault "${name}" (${FAULT_KINDS.join(', ')})`);
    return kind;
  });
}

export function defaultFaultKinds(size: number): FaultKind[] {
  return FAULT_KINDS.filter((k) => size > 1 || !NEEDS_PEERS.includes(k));
}

/** A fault in force: how to undo it, and who it hit. */
interface ActiveFault {
  readonly target: string;
  heal(): Promise<void>;
}

export async function runNemesis(cluster: BlackboxCluster, options: NemesisOptions): Promise<FaultRecord[]> {
  const kinds = options.faults === undefined ? defaultFaultKinds(cluster.size) : parseFaultKinds(options.faults);
  if (cluster.size === 1 && kinds.some((k) => NEEDS_PEERS.includes(k))) throw new Error('nemesis: network faults need at least two members');
  if (kinds.length === 0) throw new Error('nemesis: no fault kinds to draw from');
  const intervalMs = options.intervalMs ?? 5000;
  const prng = new SeededPrng(options.seed);
  const began = performance.now();
  const end = began + options.durationMs;
  const stamp = (at: number): string => `+${((at - began) / 1000).toFixed(1)}s`;
  const aborted = (): boolean => options.signal?.aborted === true;
  options.log(`nemesis: seed ${options.seed}, ${options.durationMs} ms, a fault every ~${intervalMs} ms from ${kinds.join(', ')}`);

  const records: FaultRecord[] = [];
  // A quiet start, so the workload has a healthy cluster to begin with.
  let nextStart = began + intervalMs / 2;
  while (!aborted()) {
    const holdMs = Math.round(intervalMs * (0.25 + 0.3 * prng.next()));
    if (nextStart + holdMs > end) break;
    await sleepUntil(nextStart, options.signal);
    if (aborted()) break;
    const kind = kinds[prng.int(kinds.length)] ?? 'kill';
    const startMs = performance.now();
    let active: ActiveFault;
    try {
      active = await inflict(cluster, kind, prng);
    } catch (error) {
      options.log(`nemesis: ${stamp(startMs)} ${kind} could not start: ${String(error)}`);
      await healEverything(cluster, options.log);
      records.push({ kind, target: '-', startMs, endMs: performance.now(), error: `start: ${String(error)}` });
      nextStart = performance.now() + intervalMs / 2;
      continue;
    }
    options.log(`nemesis: ${stamp(startMs)} start ${kind} ${active.target} for ${holdMs} ms`);
    await sleepUntil(startMs + holdMs, options.signal);
    let error: string | undefined;
    try {
      await active.heal();
    } catch (failure) {
      error = String(failure);
      options.log(`nemesis: heal of ${kind} ${active.target} failed: ${error}; healing everything`);
      await healEverything(cluster, options.log);
    }
    const endMs = performance.now();
    options.log(`nemesis: ${stamp(endMs)} healed ${kind} ${active.target} (${Math.round(endMs - startMs)} ms)`);
    records.push({ kind, target: active.target, startMs, endMs, ...(error === undefined ? {} : { error }) });
    nextStart = Math.max(startMs + intervalMs * (0.75 + 0.5 * prng.next()), endMs + intervalMs * 0.2);
  }
  await healEverything(cluster, options.log);
  options.log(`nemesis: done at ${stamp(performance.now())}, ${records.length} faults`);
  return records;
}

/** Starts one fault and says how to undo it. */
async function inflict(cluster: BlackboxCluster, kind: FaultKind, prng: SeededPrng): Promise<ActiveFault> {
  const names = cluster.names();
  const anyMember = (): string => pick(names, prng);
  switch (kind) {
    case 'kill':
    case 'kill-leader': {
      const victim = kind === 'kill' ? anyMember() : await leaderOr(cluster, anyMember());
      const pid = cluster.member(victim).pid;
      await cluster.kill9(victim);
      return { target: `${victim} (pid ${pid})`, heal: () => restartWithRetry(cluster, victim) };
    }
    case 'pause': {
      const victim = anyMember();
      cluster.pause(victim);
      return { target: victim, heal: async () => cluster.resume(victim) };
    }
    case 'isolate-leader': {
      const victim = await leaderOr(cluster, anyMember());
      cluster.net.isolate(victim);
      return { target: victim, heal: async () => cluster.net.heal() };
    }
    case 'split': {
      const shuffled = shuffle(names, prng);
      const minority = shuffled.slice(0, Math.floor((names.length - 1) / 2));
      const majority = shuffled.slice(minority.length);
      cluster.net.partition([majority, minority].filter((g) => g.length > 0));
      return { target: `${majority.join(',')}|${minority.join(',')}`, heal: async () => cluster.net.heal() };
    }
    case 'cut-one-way': {
      const [from, to] = shuffle(names, prng);
      if (from === undefined || to === undefined) throw new Error('nemesis: cut-one-way needs two members');
      cluster.net.cutOneWay(from, to);
      return { target: `${from}->${to}`, heal: async () => cluster.net.heal() };
    }
    case 'delay': {
      const victim = anyMember();
      const ms = 20 + prng.int(130);
      const jitterMs = Math.round(ms / 2);
      cluster.net.delay(victim, ms, jitterMs);
      return { target: `${victim} ${ms}±${jitterMs}ms`, heal: async () => cluster.net.heal() };
    }
    case 'kill-all': {
      await cluster.killAll();
      return { target: 'all', heal: () => restartAllWithRetry(cluster) };
    }
  }
}

async function leaderOr(cluster: BlackboxCluster, fallback: string): Promise<string> {
  return (await cluster.leader().catch(() => null)) ?? fallback;
}

const RESTART_ATTEMPTS = 3;

async function restartWithRetry(cluster: BlackboxCluster, name: string): Promise<void> {
  let last: unknown = null;
  for (let attempt = 0; attempt < RESTART_ATTEMPTS; attempt++) {
    if (cluster.member(name).isRunning()) return;
    try {
      await cluster.restart(name);
      return;
    } catch (error) {
      last = error;
      await sleep(200);
    }
  }
  throw new Error(`restart of ${name} failed ${RESTART_ATTEMPTS} times: ${String(last)}`);
}

async function restartAllWithRetry(cluster: BlackboxCluster): Promise<void> {
  // All at once first: a static cluster's members may each wait for the others.
  try {
    await cluster.restartAll();
  } catch {
    // the retries below name the member that failed
  }
  const failures: string[] = [];
  await Promise.all(
    cluster.names().map((name) => restartWithRetry(cluster, name).catch((error: unknown) => void failures.push(String(error)))),
  );
  if (failures.length > 0) throw new Error(failures.join('; '));
}

/** Network back to pass, every paused member resumed, every killed member restarted. */
export async function healEverything(cluster: BlackboxCluster, log: (line: string) => void): Promise<void> {
  cluster.net.heal();
  for (const m of cluster.members) {
    if (m.isPaused()) cluster.resume(m.name);
  }
  try {
    await restartAllWithRetry(cluster);
  } catch (error) {
    log(`nemesis: could not restart every member: ${String(error)}`);
  }
}

function pick<T>(items: readonly T[], prng: SeededPrng): T {
  const item = items[prng.int(items.length)];
  if (item === undefined) throw new Error('nemesis: nothing to pick from');
  return item;
}

function shuffle<T>(items: readonly T[], prng: SeededPrng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    const a = out[i];
    const b = out[j];
    if (a === undefined || b === undefined) continue;
    out[i] = b;
    out[j] = a;
  }
  return out;
}

function sleepUntil(atMs: number, signal?: AbortSignal): Promise<void> {
  const waitMs = atMs - performance.now();
  if (waitMs <= 0 || signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    signal?.addEventListener('abort', done, { once: true });
  });
}
