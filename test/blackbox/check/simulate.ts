/**
 * Histories of a register store that is linearizable by construction, for the checker's
 * randomised tests: concurrent sequential clients, each op taking effect atomically at a random
 * instant between its invocation and completion on a real v2-like store (one index counter for all
 * keys). Some ops time out (`unknown`: taken effect or not), some never reach a leader (`fail` 0).
 * Then `mutate` changes one observation so that no linearization can explain it.
 */
import { SeededPrng } from '../../../src/common/prng.js';
import type { History, KeyOp, KeyOperation, Outcome } from '../history.js';

export interface SimulationConfig {
  readonly seed: number;
  readonly clients: number;
  readonly keys: number;
  readonly ops: number;
  /** Chance that an op times out (default 0.03); half of those take effect. */
  readonly unknownRate?: number;
  /** Chance that an op never reaches a leader (default 0.02). */
  readonly unreachedRate?: number;
}

interface Cell {
  value: string | null;
  index: number;
}

/** What a client remembers of a key, to aim its CAS ops at plausible conditions. */
interface Seen {
  value: string | null;
  index: number;
}

interface Pending {
  readonly slot: number;
  readonly client: number;
  readonly key: string;
  readonly op: KeyOp;
  readonly invokeMs: number;
  readonly applyMs: number;
  readonly completeMs: number;
  readonly fate: 'ok' | 'unknown-applied' | 'unknown-lost' | 'unreached';
  outcome: Outcome | null;
  applied: boolean;
  completed: boolean;
}

const TIMEOUT_MS = 50;

export function simulate(config: SimulationConfig): History {
  const prng = new SeededPrng(config.seed);
  const keys = Array.from({ length: config.keys }, (_, i) => `/jepsen/r/k${i}`);
  const store = new Map<string, Cell>(keys.map((k) => [k, { value: null, index: 0 }]));
  let storeIndex = 4; // the cluster's own writes came first
  const seen = new Map<string, Seen>();
  const history: KeyOperation[] = [];
  const inFlight: Pending[] = [];
  const nextInvokeMs = Array.from({ length: config.clients }, () => prng.next() * 5);
  const process = Array.from({ length: config.clients }, (_, c) => c);
  let valueCounter = 0;

  const apply = (p: Pending): Outcome => {
    const cell = store.get(p.key) ?? { value: null, index: 0 };
    const result = applyToCell(cell, p.op, () => ++storeIndex);
    store.set(p.key, result.cell);
    return result.outcome;
  };

  const complete = (due: Pending): void => {
    due.completed = true;
    const outcome = recordedOutcome(due);
    const slot = due.slot;
    history.push({ id: history.length, client: due.client, key: due.key, op: due.op, invokeMs: due.invokeMs, completeMs: outcome.type === 'unknown' ? Infinity : due.completeMs, outcome });
    if (outcome.type === 'ok') seen.set(`${slot}:${due.key}`, { value: outcome.value, index: outcome.modifiedIndex });
    if (outcome.type === 'unknown') process[slot] = (process[slot] ?? slot) + config.clients;
    nextInvokeMs[slot] = due.completeMs + prng.next() * 3;
  };

  let invoked = 0;
  while (invoked < config.ops || inFlight.length > 0) {
    // The next event: some client's invocation, or an in-flight op's apply or completion.
    const client = argMin(nextInvokeMs);
    const invokeAt = invoked < config.ops ? (nextInvokeMs[client] ?? Infinity) : Infinity;
    const due = inFlight.reduce<Pending | null>((best, p) => (best === null || eventTime(p) < eventTime(best) ? p : best), null);
    if (due !== null && eventTime(due) <= invokeAt) {
      if (applyPending(due) && due.applyMs <= due.completeMs) {
        due.outcome = apply(due);
        due.applied = true;
      } else if (!due.completed) {
        complete(due);
      } else {
        due.outcome = apply(due); // an unknown op that takes effect after its client gave up
        due.applied = true;
      }
      if (due.completed && !applyPending(due)) inFlight.splice(inFlight.indexOf(due), 1);
      continue;
    }
    invoked++;
    nextInvokeMs[client] = Infinity; // busy until its op completes
    const key = keys[prng.int(keys.length)] ?? '';
    const op = chooseOp(prng, seen.get(`${client}:${key}`), () => `v${config.seed}-${valueCounter++}`);
    const fate = chooseFate(prng, config);
    const timedOut = fate === 'unknown-applied' || fate === 'unknown-lost';
    // A timed-out op may take effect long after its client gave up (up to twice the timeout).
    const applyMs = invokeAt + 0.01 + prng.next() * (timedOut ? 2 * TIMEOUT_MS : 10);
    const completeMs = timedOut ? invokeAt + TIMEOUT_MS : applyMs + 0.01 + prng.next() * 10;
    inFlight.push({ slot: client, client: process[client] ?? client, key, op, invokeMs: invokeAt, applyMs, completeMs, fate, outcome: null, applied: false, completed: false });
  }
  return history;
}

function applyPending(p: Pending): boolean {
  return !p.applied && (p.fate === 'ok' || p.fate === 'unknown-applied');
}

function eventTime(p: Pending): number {
  return Math.min(applyPending(p) ? p.applyMs : Infinity, p.completed ? Infinity : p.completeMs);
}

function recordedOutcome(p: Pending): Outcome {
  switch (p.fate) {
    case 'ok':
      return p.outcome ?? { type: 'unknown', reason: 'simulator: never applied' };
    case 'unknown-applied':
    case 'unknown-lost':
      return { type: 'unknown', reason: 'timeout' };
    case 'unreached':
      return { type: 'fail', errorCode: 0, reason: 'connection refused' };
  }
}

function argMin(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if ((xs[i] ?? Infinity) < (xs[best] ?? Infinity)) best = i;
  return best;
}

function chooseFate(prng: SeededPrng, config: SimulationConfig): Pending['fate'] {
  const r = prng.next();
  const unknownRate = config.unknownRate ?? 0.03;
  if (r < unknownRate / 2) return 'unknown-applied';
  if (r < unknownRate) return 'unknown-lost';
  if (r < unknownRate + (config.unreachedRate ?? 0.02)) return 'unreached';
  return 'ok';
}

function chooseOp(prng: SeededPrng, seen: Seen | undefined, fresh: () => string): KeyOp {
  const r = prng.int(100);
  if (r < 40) return { kind: 'read' };
  if (r < 60) return { kind: 'put', value: fresh() };
  if (r < 72) return { kind: 'cas-value', prevValue: seen?.value ?? 'v-none', value: fresh() };
  if (r < 84) return { kind: 'cas-index', prevIndex: Math.max(1, seen?.index ?? 1), value: fresh() };
  if (r < 92) return { kind: 'create', value: fresh() };
  return { kind: 'delete' };
}

/** etcd's v2 rules for a file key (see register-model.ts), on a real cell. */
function applyToCell(cell: Cell, op: KeyOp, nextIndex: () => number): { cell: Cell; outcome: Outcome } {
  const failed = (errorCode: number): { cell: Cell; outcome: Outcome } => ({ cell, outcome: { type: 'fail', errorCode } });
  const wrote = (value: string | null): { cell: Cell; outcome: Outcome } => {
    const index = nextIndex();
    return { cell: { value, index }, outcome: { type: 'ok', value, modifiedIndex: index } };
  };
  const exists = cell.value !== null;
  switch (op.kind) {
    case 'read':
      return { cell, outcome: { type: 'ok', value: cell.value, modifiedIndex: exists ? cell.index : 0 } };
    case 'put':
      return wrote(op.value);
    case 'cas-value':
      if (!exists) return failed(100);
      return cell.value === op.prevValue ? wrote(op.value) : failed(101);
    case 'cas-index':
      if (!exists) return failed(100);
      return cell.index === op.prevIndex ? wrote(op.value) : failed(101);
    case 'create':
      return exists ? failed(105) : wrote(op.value);
    case 'delete':
      return exists ? wrote(null) : failed(100);
  }
}

export type Mutation = { readonly id: number; readonly what: string };

/**
 * Changes one observation so that the history cannot be linearizable: a read now returns a value
 * no op ever wrote, or a read of an acknowledged write's value now names an index other than the
 * one that write was acknowledged with (values are unique, so that write is the only source).
 * Null when the history has no read to change.
 */
export function mutate(history: History, seed: number): { history: History; mutation: Mutation } | null {
  const prng = new SeededPrng(seed);
  const ackedIndex = new Map<string, number>();
  for (const op of history) if (op.op.kind !== 'read' && op.outcome.type === 'ok' && op.outcome.value !== null) ackedIndex.set(op.outcome.value, op.outcome.modifiedIndex);
  const reads = history.filter((op) => op.op.kind === 'read' && op.outcome.type === 'ok' && op.outcome.value !== null);
  const target = reads[prng.int(reads.length)];
  if (target === undefined || target.outcome.type !== 'ok' || target.outcome.value === null) return null;
  const value = target.outcome.value;
  const pinned = ackedIndex.get(value);
  const changed: Outcome =
    pinned !== undefined && prng.int(2) === 0
      ? { type: 'ok', value, modifiedIndex: pinned + 1 + prng.int(3) }
      : { type: 'ok', value: `never-written-${seed}`, modifiedIndex: target.outcome.modifiedIndex };
  const what = changed.type === 'ok' && changed.value === value ? `read #${target.id} now sees ${value}@${changed.modifiedIndex} (written @${pinned})` : `read #${target.id} now sees a value never written`;
  return { history: history.map((op) => (op.id === target.id ? { ...op, outcome: changed } : op)), mutation: { id: target.id, what } };
}
