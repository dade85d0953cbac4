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
 * `unknown` ops never return, so they never block anything and the search is done once every op
 * with a definite outcome is placed: an unknown op left out is one that never happened (or happened
 * after everything we saw). To keep that optional work cheap, (1) the search tries definite ops
 * before unknown ones, and (2) a configuration is skipped when an explored one had the same definite
 * ops placed, the same state and a subset of its unknown ops placed: that one had every option this
 * one has, and it failed.
 */
import { SeededPrng } from '../../../src/common/prng.js';
import type { History, KeyOperation } from '../history.js';
import {
  describeOperation,
  describeState,
  INITIAL_STATE,
  observes,
  stateKey,
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
  /** Ops of the key the search had to place (definite outcomes) and how many it managed at most. */
  readonly definiteOps: number;
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
    `key ${v.key}: not linearizable — at most ${v.placedAtMost} of its ${v.definiteOps} definite ops can be placed in order.`,
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
  /** Ops that may be placed next, definite first. */
  readonly candidates: readonly number[];
  next: number;
  /** The op placed from this frame (its child is being explored), or NIL. */
  placed: number;
}

interface Explored {
  readonly definite: Uint32Array;
  readonly unknown: Uint32Array;
}

class KeySearch {
  private readonly n: number;
  /** Entry e < n is op e's call; e >= n is op (e - n)'s return; `head` is the list's sentinel. */
  private readonly head: number;
  private readonly nextEntry: Int32Array;
  private readonly prevEntry: Int32Array;
  private readonly definite: boolean[];
  /** Each op's bit position within its class (definite / unknown). */
  private readonly slot: Int32Array;
  private readonly definiteBits: Uint32Array;
  private readonly unknownBits: Uint32Array;
  private readonly definiteCount: number;
  private placedDefinite = 0;
  /** Zobrist hash of the placed definite ops, two 32-bit words. */
  private hashLo = 0;
  private hashHi = 0;
  private readonly zobrist: Uint32Array;
  private readonly explored = new Map<string, Explored[]>();
  private furthest: Violation | null = null;

  constructor(
    private readonly key: string,
    private readonly ops: readonly KeyOperation[],
  ) {
    const n = ops.length;
    this.n = n;
    this.head = 2 * n;
    this.nextEntry = new Int32Array(2 * n + 1).fill(NIL);
    this.prevEntry = new Int32Array(2 * n + 1).fill(NIL);
    this.definite = ops.map((op) => op.outcome.type !== 'unknown');
    this.slot = new Int32Array(n);
    let definiteCount = 0;
    let unknownCount = 0;
    for (let i = 0; i < n; i++) this.slot[i] = this.definite[i] ? definiteCount++ : unknownCount++;
    this.definiteCount = definiteCount;
    this.definiteBits = new Uint32Array(Math.ceil(definiteCount / 32));
    this.unknownBits = new Uint32Array(Math.ceil(unknownCount / 32));
    const prng = new SeededPrng(0x5eed);
    this.zobrist = new Uint32Array(2 * definiteCount);
    for (let i = 0; i < this.zobrist.length; i++) this.zobrist[i] = Math.floor(prng.next() * 2 ** 32);
    this.linkEntries();
  }

  /** Calls and returns in time order; at equal times a call goes first (the two overlap). */
  private linkEntries(): void {
    const entries: number[] = [];
    for (let i = 0; i < this.n; i++) {
      entries.push(i);
      if (this.definite[i]) entries.push(this.n + i);
    }
    const time = (e: number): number => (e < this.n ? this.op(e).invokeMs : this.op(e - this.n).completeMs);
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

  run(timeLimitMs: number): 'ok' | 'timeout' | Violation {
    const deadline = performance.now() + timeLimitMs;
    const stack: Frame[] = [this.frame(INITIAL_STATE)];
    for (let steps = 1; ; steps++) {
      if (steps % CLOCK_EVERY_STEPS === 0 && performance.now() > deadline) return 'timeout';
      const top = stack[stack.length - 1];
      if (top === undefined) return this.violation();
      if (this.placedDefinite === this.definiteCount) return 'ok';
      if (top.placed !== NIL) this.unplace(top);
      const child = this.placeNext(top);
      if (child !== null) {
        stack.push(child);
        continue;
      }
      this.noteDeadEnd(stack);
      stack.pop();
    }
  }

  /** Tries the frame's remaining candidates; the child frame of the first that fits, or null. */
  private placeNext(frame: Frame): Frame | null {
    while (frame.next < frame.candidates.length) {
      const i = frame.candidates[frame.next++] ?? NIL;
      const after = step(frame.state, this.op(i));
      if (after === null) continue;
      this.toggle(i);
      if (this.seenBefore(after)) {
        this.toggle(i);
        continue;
      }
      this.lift(i);
      frame.placed = i;
      return this.frame(after);
    }
    return null;
  }

  private unplace(frame: Frame): void {
    this.toggle(frame.placed);
    this.unlift(frame.placed);
    frame.placed = NIL;
  }

  private frame(state: RegisterState): Frame {
    const definite: number[] = [];
    const unknown: number[] = [];
    for (let e = this.nextEntry[this.head] ?? NIL; e !== NIL && e < this.n; e = this.nextEntry[e] ?? NIL) {
      (this.definite[e] ? definite : unknown).push(e);
    }
    return { state, candidates: definite.concat(unknown), next: 0, placed: NIL };
  }

  /** Flips op i's placed bit (and the hash, and the count). */
  private toggle(i: number): void {
    const s = this.slot[i] ?? 0;
    const bits = this.definite[i] ? this.definiteBits : this.unknownBits;
    const word = s >>> 5;
    const mask = 1 << (s & 31);
    bits[word] = (bits[word] ?? 0) ^ mask;
    if (!this.definite[i]) return;
    this.placedDefinite += (bits[word] ?? 0) & mask ? 1 : -1;
    this.hashLo ^= this.zobrist[2 * s] ?? 0;
    this.hashHi ^= this.zobrist[2 * s + 1] ?? 0;
  }

  /** Records the configuration; true if it (or one that dominates it) was explored already. */
  private seenBefore(state: RegisterState): boolean {
    const memoKey = `${this.hashLo}.${this.hashHi}.${stateKey(state)}`;
    const bucket = this.explored.get(memoKey);
    if (bucket !== undefined) {
      for (const e of bucket) if (sameBits(e.definite, this.definiteBits) && isSubset(e.unknown, this.unknownBits)) return true;
    }
    const entry = { definite: this.definiteBits.slice(), unknown: this.unknownBits.slice() };
    if (bucket === undefined) this.explored.set(memoKey, [entry]);
    else bucket.push(entry);
    return false;
  }

  private lift(i: number): void {
    this.unlink(i);
    if (this.definite[i]) this.unlink(this.n + i);
  }

  private unlift(i: number): void {
    if (this.definite[i]) this.relink(this.n + i);
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

  /** Keeps the dead end that placed the most definite ops, to explain a failure. */
  private noteDeadEnd(stack: readonly Frame[]): void {
    if (this.furthest !== null && this.placedDefinite <= this.furthest.placedAtMost) return;
    const top = stack[stack.length - 1];
    if (top === undefined) return;
    let stuckEntry = this.nextEntry[this.head] ?? NIL;
    while (stuckEntry !== NIL && stuckEntry < this.n) stuckEntry = this.nextEntry[stuckEntry] ?? NIL;
    if (stuckEntry === NIL) return; // cannot happen: a definite op is left, so its return is listed
    const prefix = stack.slice(0, -1).map((f) => f.placed);
    this.furthest = {
      key: this.key,
      definiteOps: this.definiteCount,
      placedAtMost: this.placedDefinite,
      prefix: prefix.map((i) => this.op(i).id),
      prefixOps: prefix.map((i) => this.op(i)),
      stateAfterPrefix: describeState(top.state),
      stuck: this.op(stuckEntry - this.n),
      candidates: top.candidates.map((i) => ({ op: this.op(i), why: this.whyNotHere(top.state, i) })),
    };
  }

  private whyNotHere(state: RegisterState, i: number): string {
    return step(state, this.op(i)) === null ? whyNot(state, this.op(i)) : 'it fits here, but nothing linearizable follows';
  }

  private violation(): Violation {
    if (this.furthest === null) throw new Error(`linearizable: ${this.key} failed without a dead end`);
    return this.furthest;
  }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let w = 0; w < a.length; w++) if (a[w] !== b[w]) return false;
  return true;
}

function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let w = 0; w < a.length; w++) if (((a[w] ?? 0) & ~(b[w] ?? 0)) !== 0) return false;
  return true;
}
