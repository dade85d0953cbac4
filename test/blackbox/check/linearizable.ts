/**
 * Linearizability of the register keys, checked per key (the keys are independent registers, so
 * a history is linearizable iff each key's sub-history is: P-compositionality).
 *
 * The search is Wing & Gong's with Lowe's memoisation, as porcupine does it: the key's call and
 * return events sorted by time in a doubly linked list; the ops that may be linearized next are the
 * calls before the first return still in the list (an op can go next only if every op that
 * completed before it was invoked is already placed). Placing one lifts its call and return out of
 * the list; a dead end puts them back. A configuration (set of placed ops, register state) that was
 * explored once is never explored again.
 *
 * `unknown` ops never return. One whose unique value an acknowledged op observed did happen, before
 * that observer completed: it is *required*, with that deadline as its return. Any other unknown op
 * is *optional*: it never blocks anything, and the search is done once every required op is
 * placed (an optional op left out never happened, or happened after everything we saw). To keep
 * the optional work cheap, (1) the search tries required ops before optional ones, and (2) a
 * configuration is skipped when an explored one had the same required ops placed, the same state
 * and a subset of its optional ops placed: that one had every option this one has, and it failed.
 * And (3) a pure observation that fits the current state is placed at once, with no alternative
 * tried (see placeNext).
 */
import { SeededPrng } from '../../../src/common/prng.js';
import type { History, KeyOperation } from '../history.js';
import {
  describeOperation,
  describeState,
  INITIAL_STATE,
  observes,
  step,
  whyNot,
  type RegisterState,
} from './register-model.js';

export interface LinearizableOptions {
  /** Search budget per key; a key over it is reported in `timedOutKeys` (default 10,000 ms). */
  readonly timeLimitMs?: number;
}

/** One key with no linearization, with the search's furthest point to explain it. */
export interface Violation {
  readonly key: string;
  /** Ops of the key the search had to place (definite outcomes, observed unknown writes) and how many it managed at most. */
  readonly requiredOps: number;
  readonly placedAtMost: number;
  /** The longest linearizable prefix found, in linearization order (op ids). */
  readonly prefix: readonly number[];
  /** The register after that prefix. */
  readonly stateAfterPrefix: string;
  /** The op that had to come next (the earliest-completing one left) and could not. */
  readonly stuck: KeyOperation;
  /** Every op that could have gone next there, each with why it could not. */
  readonly candidates: readonly { readonly op: KeyOperation; readonly why: string }[];
  /** The ops of the prefix, for rendering (the last few are shown). */
  readonly prefixOps: readonly KeyOperation[];
}

export interface LinearizableResult {
  readonly ok: boolean;
  readonly keys: number;
  readonly ops: number;
  readonly violations: readonly Violation[];
  readonly timedOutKeys: readonly string[];
}

const DEFAULT_TIME_LIMIT_MS = 10_000;
/** How often (in search steps) the clock is read. */
const CLOCK_EVERY_STEPS = 1024;

export function checkLinearizable(history: History, opts: LinearizableOptions = {}): LinearizableResult {
  const timeLimitMs = opts.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const byKey = new Map<string, KeyOperation[]>();
  for (const op of history) {
    assertWellFormed(op);
    const ops = byKey.get(op.key) ?? [];
    ops.push(op);
    byKey.set(op.key, ops);
  }
  const violations: Violation[] = [];
  const timedOutKeys: string[] = [];
  for (const [key, ops] of [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const verdict = new KeySearch(key, ops.filter(observes)).run(timeLimitMs);
    if (verdict === 'timeout') timedOutKeys.push(key);
    else if (verdict !== 'ok') violations.push(verdict);
  }
  return { ok: violations.length === 0 && timedOutKeys.length === 0, keys: byKey.size, ops: history.length, violations, timedOutKeys };
}

function assertWellFormed(op: KeyOperation): void {
  const definite = op.outcome.type !== 'unknown';
  if (!Number.isFinite(op.invokeMs) || (definite && !(op.completeMs >= op.invokeMs && Number.isFinite(op.completeMs)))) {
    throw new Error(`history: op #${op.id} on ${op.key} has invokeMs ${op.invokeMs} and completeMs ${op.completeMs}`);
  }
}

/** Renders a violation for a test failure message. */
export function explain(v: Violation, shownPrefix = 8): string {
  const lines = [
    `key ${v.key}: not linearizable — at most ${v.placedAtMost} of its ${v.requiredOps} required ops can be placed in order.`,
  ];
  const hidden = v.prefixOps.length - shownPrefix;
  lines.push(`  longest linearizable prefix (${v.prefixOps.length} ops${hidden > 0 ? `, last ${shownPrefix} shown` : ''}):`);
  for (const op of v.prefixOps.slice(Math.max(0, hidden))) lines.push(`    ${describeOperation(op)}`);
  lines.push(`  then the key holds ${v.stateAfterPrefix}, and this op must come next but cannot:`);
  lines.push(`    ${describeOperation(v.stuck)}`);
  for (const c of v.candidates) lines.push(`  candidate ${describeOperation(c.op)}: ${c.why}`);
  return lines.join('\n');
}

// ---- the search over one key ----

const NIL = -1;

interface Frame {
  readonly state: RegisterState;
  /** Ops that may be placed next, required first. */
  readonly candidates: readonly number[];
  next: number;
  /** The op placed from this frame (its child is being explored), or NIL. */
  placed: number;
}

interface Furthest {
  readonly placedRequired: number;
  readonly path: Int32Array;
  readonly state: RegisterState;
  readonly stuck: number;
  readonly candidates: readonly number[];
}

interface Explored {
  readonly required: Uint32Array;
  readonly unknown: Uint32Array;
  readonly index: number;
  readonly exact: boolean;
}

/** Whether explored index constraint `e` admits everything `state`'s does. */
function indexNoStronger(e: { readonly index: number; readonly exact: boolean }, state: RegisterState): boolean {
  return e.exact ? state.exact && state.index === e.index : e.index <= state.index;
}

class KeySearch {
  private readonly n: number;
  /** Entry e < n is op e's call; e >= n is op (e - n)'s return; `head` is the list's sentinel. */
  private readonly head: number;
  private readonly nextEntry: Int32Array;
  private readonly prevEntry: Int32Array;
  /** When each op must be placed by: its completion, its first observer's, or Infinity (optional). */
  private readonly returnMs: Float64Array;
  private readonly required: boolean[];
  /** Each op's bit position within its class (required / optional). */
  private readonly slot: Int32Array;
  private readonly requiredBits: Uint32Array;
  private readonly unknownBits: Uint32Array;
  private readonly requiredCount: number;
  private placedRequired = 0;
  /** Zobrist hash of the placed required ops, two 32-bit words. */
  private hashLo = 0;
  private hashHi = 0;
  private readonly zobrist: Uint32Array;
  private readonly explored = new Map<string, Explored[]>();
  /** The ops placed by the frames of the stack, bottom first (path[d] = stack[d].placed). */
  private readonly path: Int32Array;
  private furthest: Furthest | null = null;
  /** Whether an optional op may follow an optional op (the second, complete pass). */
  private optionalInARow = true;

  constructor(
    private readonly key: string,
    private readonly ops: readonly KeyOperation[],
  ) {
    const n = ops.length;
    this.n = n;
    this.head = 2 * n;
    this.nextEntry = new Int32Array(2 * n + 1).fill(NIL);
    this.prevEntry = new Int32Array(2 * n + 1).fill(NIL);
    this.returnMs = returnTimes(ops);
    this.required = [...this.returnMs].map((t) => t !== Infinity);
    this.slot = new Int32Array(n);
    this.path = new Int32Array(n);
    let requiredCount = 0;
    let unknownCount = 0;
    for (let i = 0; i < n; i++) this.slot[i] = this.required[i] ? requiredCount++ : unknownCount++;
    this.requiredCount = requiredCount;
    this.requiredBits = new Uint32Array(Math.ceil(requiredCount / 32));
    this.unknownBits = new Uint32Array(Math.ceil(unknownCount / 32));
    const prng = new SeededPrng(0x5eed);
    this.zobrist = new Uint32Array(2 * requiredCount);
    for (let i = 0; i < this.zobrist.length; i++) this.zobrist[i] = Math.floor(prng.next() * 2 ** 32);
    this.linkEntries();
  }

  /** Calls and returns in time order; at equal times a call goes first (the two overlap). */
  private linkEntries(): void {
    const entries: number[] = [];
    for (let i = 0; i < this.n; i++) {
      entries.push(i);
      if (this.required[i]) entries.push(this.n + i);
    }
    const time = (e: number): number => (e < this.n ? this.op(e).invokeMs : (this.returnMs[e - this.n] ?? Infinity));
    entries.sort((a, b) => time(a) - time(b) || Number(a >= this.n) - Number(b >= this.n) || a - b);
    let prev = this.head;
    for (const e of entries) {
      this.nextEntry[prev] = e;
      this.prevEntry[e] = prev;
      prev = e;
    }
  }

  private op(i: number): KeyOperation {
    const op = this.ops[i];
    if (op === undefined) throw new Error(`linearizable: no op ${i}`);
    return op;
  }

  /**
   * Two passes. The first never places two optional ops in a row, which keeps it from trying
   * every combination of old timed-out writes when it is stuck; what it finds is a valid
   * linearization, but its failure proves nothing (pruning under that restriction is not
   * complete), so a failure is searched again without it.
   */
  run(timeLimitMs: number): 'ok' | 'timeout' | Violation {
    const deadline = performance.now() + timeLimitMs;
    const quick = this.search(deadline, false);
    if (quick !== 'exhausted') return quick;
    this.explored.clear();
    this.furthest = null;
    const full = this.search(deadline, true);
    return full === 'exhausted' ? this.violation() : full;
  }

  private search(deadline: number, optionalInARow: boolean): 'ok' | 'timeout' | 'exhausted' {
    this.optionalInARow = optionalInARow;
    const stack: Frame[] = [this.frame(INITIAL_STATE, true)];
    for (let steps = 1; ; steps++) {
      if (steps % CLOCK_EVERY_STEPS === 0 && performance.now() > deadline) return 'timeout';
      const top = stack[stack.length - 1];
      if (top === undefined) return 'exhausted';
      if (this.placedRequired === this.requiredCount) return 'ok';
      if (top.placed !== NIL) this.unplace(top);
      const child = this.placeNext(top);
      if (child !== null) {
        this.path[stack.length - 1] = top.placed;
        stack.push(child);
        continue;
      }
      this.noteDeadEnd(stack);
      stack.pop();
    }
  }

  /**
   * Tries the frame's remaining candidates; the child frame of the first that fits, or null.
   * A pure observation that fits the state as it is (a read of the current value, a failure the
   * state explains) goes first and alone: any linearization from here can be reordered to place
   * it now (it changes no state, and every op that had to precede it is placed), so the search
   * needs no alternative to it. This keeps the many reads and failed CAS that overlap each other
   * from being tried in every order.
   */
  private placeNext(frame: Frame): Frame | null {
    if (frame.next === 0) {
      const observer = this.fittingObservation(frame);
      if (observer !== NIL) {
        frame.next = frame.candidates.length;
        return this.tryPlace(frame, observer, frame.state);
      }
    }
    while (frame.next < frame.candidates.length) {
      const i = frame.candidates[frame.next++] ?? NIL;
      const after = step(frame.state, this.op(i));
      if (after === null) continue;
      const child = this.tryPlace(frame, i, after);
      if (child !== null) return child;
    }
    return null;
  }

  /** A required candidate whose step leaves the state as it is (step returns it unchanged), or NIL. */
  private fittingObservation(frame: Frame): number {
    for (const i of frame.candidates) {
      if (!this.required[i]) break; // required candidates come first
      if (step(frame.state, this.op(i)) === frame.state) return i;
    }
    return NIL;
  }

  private tryPlace(frame: Frame, i: number, after: RegisterState): Frame | null {
    this.toggle(i);
    if (this.seenBefore(after)) {
      this.toggle(i);
      return null;
    }
    this.lift(i);
    frame.placed = i;
    return this.frame(after, this.required[i] === true || this.optionalInARow);
  }

  private unplace(frame: Frame): void {
    this.toggle(frame.placed);
    this.unlift(frame.placed);
    frame.placed = NIL;
  }

  private frame(state: RegisterState, optionalAllowed: boolean): Frame {
    const required: number[] = [];
    const optional: number[] = [];
    for (let e = this.nextEntry[this.head] ?? NIL; e !== NIL && e < this.n; e = this.nextEntry[e] ?? NIL) {
      if (this.required[e]) required.push(e);
      else if (optionalAllowed) optional.push(e);
    }
    return { state, candidates: required.concat(optional), next: 0, placed: NIL };
  }

  /** Flips op i's placed bit (and the hash, and the count). */
  private toggle(i: number): void {
    const s = this.slot[i] ?? 0;
    const bits = this.required[i] ? this.requiredBits : this.unknownBits;
    const word = s >>> 5;
    const mask = 1 << (s & 31);
    bits[word] = (bits[word] ?? 0) ^ mask;
    if (!this.required[i]) return;
    this.placedRequired += (bits[word] ?? 0) & mask ? 1 : -1;
    this.hashLo ^= this.zobrist[2 * s] ?? 0;
    this.hashHi ^= this.zobrist[2 * s + 1] ?? 0;
  }

  /**
   * Records the configuration; true if one that dominates it was explored already: the same
   * required ops placed, a subset of its optional ops placed (so at least its options left), the
   * same value, and an index constraint no stronger (an unknown index ≥ k admits whatever an
   * index ≥ k' ≥ k or exactly k' ≥ k admits, and every step keeps that order).
   */
  private seenBefore(state: RegisterState): boolean {
    const memoKey = `${this.hashLo}.${this.hashHi}.${state.exists ? `=${state.value ?? ''}` : '!'}`;
    const bucket = this.explored.get(memoKey);
    if (bucket !== undefined) {
      for (const e of bucket) {
        if (indexNoStronger(e, state) && isSubset(e.unknown, this.unknownBits) && sameBits(e.required, this.requiredBits)) return true;
      }
    }
    const entry = { required: this.requiredBits.slice(), unknown: this.unknownBits.slice(), index: state.index, exact: state.exact };
    if (bucket === undefined) this.explored.set(memoKey, [entry]);
    else bucket.push(entry);
    return false;
  }

  private lift(i: number): void {
    this.unlink(i);
    if (this.required[i]) this.unlink(this.n + i);
  }

  private unlift(i: number): void {
    if (this.required[i]) this.relink(this.n + i);
    this.relink(i);
  }

  private unlink(e: number): void {
    const prev = this.prevEntry[e] ?? NIL;
    const next = this.nextEntry[e] ?? NIL;
    this.nextEntry[prev] = next;
    if (next !== NIL) this.prevEntry[next] = prev;
  }

  /** Undoes `unlink(e)`; valid because lifts are undone in reverse order. */
  private relink(e: number): void {
    const prev = this.prevEntry[e] ?? NIL;
    const next = this.nextEntry[e] ?? NIL;
    this.nextEntry[prev] = e;
    if (next !== NIL) this.prevEntry[next] = e;
  }

  /**
   * Keeps the dead end that placed the most required ops, to explain a failure. Cheap, since it
   * happens all along a search that succeeds: a copy of the path, rendered only on failure.
   */
  private noteDeadEnd(stack: readonly Frame[]): void {
    if (this.furthest !== null && this.placedRequired <= this.furthest.placedRequired) return;
    const top = stack[stack.length - 1];
    if (top === undefined) return;
    let stuckEntry = this.nextEntry[this.head] ?? NIL;
    while (stuckEntry !== NIL && stuckEntry < this.n) stuckEntry = this.nextEntry[stuckEntry] ?? NIL;
    if (stuckEntry === NIL) return; // cannot happen: a required op is left, so its return is listed
    this.furthest = { placedRequired: this.placedRequired, path: this.path.slice(0, stack.length - 1), state: top.state, stuck: stuckEntry - this.n, candidates: top.candidates };
  }

  private violation(): Violation {
    const f = this.furthest;
    if (f === null) throw new Error(`linearizable: ${this.key} failed without a dead end`);
    const prefixOps = [...f.path].map((i) => this.op(i));
    return {
      key: this.key,
      requiredOps: this.requiredCount,
      placedAtMost: f.placedRequired,
      prefix: prefixOps.map((op) => op.id),
      prefixOps,
      stateAfterPrefix: describeState(f.state),
      stuck: this.op(f.stuck),
      candidates: f.candidates.map((i) => ({ op: this.op(i), why: this.whyNotHere(f.state, i) })),
    };
  }

  private whyNotHere(state: RegisterState, i: number): string {
    return step(state, this.op(i)) === null ? whyNot(state, this.op(i)) : 'it fits here, but nothing linearizable follows';
  }
}

/**
 * The time by which each op must have taken effect. A definite op: its completion. An unknown
 * write whose value some acknowledged op observed (a read of it, a successful CAS from it): values
 * are unique, so it did happen, before that observer completed — it becomes required, with that
 * deadline, which spares the search from guessing when it happened. Any other unknown op is
 * optional: Infinity.
 */
function returnTimes(ops: readonly KeyOperation[]): Float64Array {
  const observedByMs = new Map<string, number>();
  const observe = (value: string, atMs: number): void => {
    observedByMs.set(value, Math.min(atMs, observedByMs.get(value) ?? Infinity));
  };
  for (const op of ops) {
    if (op.outcome.type !== 'ok') continue;
    if (op.op.kind === 'read' && op.outcome.value !== null) observe(op.outcome.value, op.completeMs);
    if (op.op.kind === 'cas-value') observe(op.op.prevValue, op.completeMs);
  }
  return Float64Array.from(ops, (op) => {
    if (op.outcome.type !== 'unknown') return op.completeMs;
    const written = op.op.kind === 'read' || op.op.kind === 'delete' ? undefined : op.op.value;
    return written === undefined ? Infinity : (observedByMs.get(written) ?? Infinity);
  });
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let w = 0; w < a.length; w++) if (a[w] !== b[w]) return false;
  return true;
}

function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let w = 0; w < a.length; w++) if (((a[w] ?? 0) & ~(b[w] ?? 0)) !== 0) return false;
  return true;
}
