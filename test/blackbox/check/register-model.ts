/**
 * The sequential specification of one v2 key, as the linearizability checker steps it.
 *
 * A key is a register holding either nothing or a value, plus the modifiedIndex of the last write
 * that touched it (a delete's index too: the next create must get a larger one). An `unknown`
 * write that is taken to have happened leaves the index unknown; all we know is a lower bound, so
 * the state carries `exact: false` and the smallest index it can have, until a later observation
 * (a read, a CAS by index) pins it. Keys start absent at index 0 (the workload uses fresh keys).
 *
 * The rules are etcd's v2 store rules (spec §4.4, §4.6) for a key that is always a file:
 * - set (PUT without conditions, and `prevIndex=0`, which §17 treats as absent): always applies.
 * - compareAndSwap (prevValue / prevIndex): 100 when the key is absent, 101 when it exists and the
 *   compare fails, success otherwise. etcd checks existence first, so an absent key is never 101.
 * - create (prevExist=false): 105 when the key exists.
 * - delete: 100 when the key is absent.
 * - every success gets a modifiedIndex larger than any earlier write's (per key, here; across keys
 *   see indexes.ts). Failures take no store index and change nothing.
 */
import type { KeyOp, KeyOperation, Outcome } from '../history.js';

export interface RegisterState {
  readonly exists: boolean;
  /** null when absent. */
  readonly value: string | null;
  /** exact: the modifiedIndex of the last write (0: never written). Otherwise the smallest it can be. */
  readonly index: number;
  readonly exact: boolean;
}

export const INITIAL_STATE: RegisterState = { exists: false, value: null, index: 0, exact: true };

/** An op the checker must place: ok/fail ops are observations, unknown ops are optional effects. */
export type ModelOp = KeyOperation;

/** Error codes whose answer says something about the key's state (see `failObserves`). */
const NOT_FOUND = 100;
const COMPARE_FAILED = 101;
const NODE_EXISTS = 105;

/** Whether the key's modifiedIndex can be `index` in this state. */
function indexCanBe(state: RegisterState, index: number): boolean {
  return state.exact ? state.index === index : index >= state.index;
}

/** A write acknowledged with `index` must come after the key's last write. */
function indexCanFollow(state: RegisterState, index: number): boolean {
  return index > state.index;
}

function written(value: string, index: number): RegisterState {
  return { exists: true, value, index, exact: true };
}

/** The op's effect when its new index is unknown: larger than the key's last write. */
function writtenUnknownIndex(value: string | null, after: number): RegisterState {
  return { exists: value !== null, value, index: after + 1, exact: false };
}

/** Whether the op's preconditions hold (ignoring index ordering). `prevIndex` 0 is a plain set. */
function preconditionHolds(state: RegisterState, op: KeyOp): boolean {
  switch (op.kind) {
    case 'read':
    case 'put':
      return true;
    case 'cas-value':
      return state.exists && state.value === op.prevValue;
    case 'cas-index':
      return op.prevIndex === 0 || (state.exists && indexCanBe(state, op.prevIndex));
    case 'create':
      return !state.exists;
    case 'delete':
      return state.exists;
  }
}

function newValue(op: KeyOp): string | null {
  return op.kind === 'read' || op.kind === 'delete' ? null : op.value;
}

/** An acknowledged op: the state after it, or null if it cannot have answered this from `state`. */
function stepOk(state: RegisterState, op: KeyOp, value: string | null, modifiedIndex: number): RegisterState | null {
  if (op.kind === 'read') {
    if (value === null) return state.exists ? null : state;
    if (!state.exists || state.value !== value || !indexCanBe(state, modifiedIndex)) return null;
    return state.exact ? state : written(value, modifiedIndex);
  }
  if (!preconditionHolds(state, op) || !indexCanFollow(state, modifiedIndex)) return null;
  if (op.kind === 'cas-index' && op.prevIndex !== 0 && modifiedIndex <= op.prevIndex) return null;
  const after = newValue(op);
  if (value !== after) return null; // the answer names a value this op did not write
  return after === null ? { exists: false, value: null, index: modifiedIndex, exact: true } : written(after, modifiedIndex);
}

/**
 * Whether a definite failure says anything about the state, and if so whether `state` explains it.
 * Codes that do not depend on the key (0: never reached a leader; validation errors) say nothing:
 * such ops are dropped before the search (`observes`).
 */
function failConsistent(state: RegisterState, op: KeyOp, errorCode: number): boolean {
  switch (op.kind) {
    case 'cas-value':
    case 'cas-index':
      if (op.kind === 'cas-index' && op.prevIndex === 0) return true;
      if (errorCode === NOT_FOUND) return !state.exists;
      if (errorCode === COMPARE_FAILED) {
        if (!state.exists) return false;
        // With an unknown index we cannot rule out that it differs from prevIndex.
        return op.kind === 'cas-value' ? state.value !== op.prevValue : !(state.exact && state.index === op.prevIndex);
      }
      return true;
    case 'create':
      return errorCode === NODE_EXISTS ? state.exists : true;
    case 'delete':
      return errorCode === NOT_FOUND ? !state.exists : true;
    case 'read':
    case 'put':
      return true;
  }
}

/**
 * Whether the op constrains the search at all. A failure whose code does not depend on the key and
 * an unknown read change nothing and observe nothing, so they can be left out.
 */
export function observes(op: ModelOp): boolean {
  const { outcome } = op;
  if (outcome.type === 'ok') return true;
  if (outcome.type === 'unknown') return op.op.kind !== 'read';
  const kind = op.op.kind;
  if (kind === 'cas-index' && op.op.prevIndex === 0) return false;
  if (kind === 'cas-value' || kind === 'cas-index') return outcome.errorCode === NOT_FOUND || outcome.errorCode === COMPARE_FAILED;
  if (kind === 'create') return outcome.errorCode === NODE_EXISTS;
  if (kind === 'delete') return outcome.errorCode === NOT_FOUND;
  return false;
}

/**
 * Steps the register through one op at its linearization point: the next state, or null when the
 * op cannot take place there with the outcome it had. An `unknown` op placed by the search is the
 * branch where it took effect (the branch where it did not is the search leaving it out).
 */
export function step(state: RegisterState, op: ModelOp): RegisterState | null {
  const { outcome } = op;
  switch (outcome.type) {
    case 'ok':
      return stepOk(state, op.op, outcome.value, outcome.modifiedIndex);
    case 'fail':
      return failConsistent(state, op.op, outcome.errorCode) ? state : null;
    case 'unknown':
      return stepUnknown(state, op.op);
  }
}

function stepUnknown(state: RegisterState, op: KeyOp): RegisterState | null {
  if (op.kind === 'read' || !preconditionHolds(state, op)) return op.kind === 'read' ? state : null;
  // A CAS by index that applied had exactly prevIndex before it.
  const before = op.kind === 'cas-index' && op.prevIndex !== 0 ? op.prevIndex : state.index;
  return writtenUnknownIndex(newValue(op), before);
}

/** A short stable string for memoisation; values are unique per write in a run. */
export function stateKey(state: RegisterState): string {
  const index = (state.exact ? '=' : '>') + String(state.index);
  return state.exists ? `${index}:${state.value ?? ''}` : `${index}!`;
}

export function describeState(state: RegisterState): string {
  const index = state.exact ? `@${state.index}` : `@≥${state.index}`;
  return state.exists ? `${JSON.stringify(state.value)}${index}` : `absent${index}`;
}

export function describeOutcome(outcome: Outcome): string {
  switch (outcome.type) {
    case 'ok':
      return outcome.value === null ? `ok absent/deleted @${outcome.modifiedIndex}` : `ok ${JSON.stringify(outcome.value)}@${outcome.modifiedIndex}`;
    case 'fail':
      return `fail ${outcome.errorCode}${outcome.reason === undefined ? '' : ` (${outcome.reason})`}`;
    case 'unknown':
      return `unknown (${outcome.reason})`;
  }
}

export function describeKeyOp(op: KeyOp): string {
  switch (op.kind) {
    case 'read':
      return 'read';
    case 'put':
      return `put ${JSON.stringify(op.value)}`;
    case 'cas-value':
      return `cas ${JSON.stringify(op.prevValue)}→${JSON.stringify(op.value)}`;
    case 'cas-index':
      return `cas @${op.prevIndex}→${JSON.stringify(op.value)}`;
    case 'create':
      return `create ${JSON.stringify(op.value)}`;
    case 'delete':
      return 'delete';
  }
}

/** One line naming an op for a failure message: `#12 c3 put "v7" → ok "v7"@15 [102.3..110.8 ms]`. */
export function describeOperation(op: KeyOperation): string {
  const end = op.outcome.type === 'unknown' || !Number.isFinite(op.completeMs) ? '∞' : op.completeMs.toFixed(1);
  return `#${op.id} c${op.client} ${describeKeyOp(op.op)} → ${describeOutcome(op.outcome)} [${op.invokeMs.toFixed(1)}..${end} ms]`;
}

/** Why `op` cannot be placed at `state` (for explanations only; the search uses `step`). */
export function whyNot(state: RegisterState, op: ModelOp): string {
  if (step(state, op) !== null) return 'it can be placed here';
  const { outcome } = op;
  const at = `the key holds ${describeState(state)}`;
  if (outcome.type === 'fail') return `a ${outcome.errorCode} answer is impossible when ${at}`;
  if (outcome.type === 'unknown') return `it cannot take effect when ${at}`;
  if (op.op.kind === 'read') return `it saw ${outcome.value === null ? 'absent' : `${JSON.stringify(outcome.value)}@${outcome.modifiedIndex}`} but ${at}`;
  if (!preconditionHolds(state, op.op)) return `its condition fails when ${at}`;
  if (outcome.modifiedIndex <= state.index) return `its index ${outcome.modifiedIndex} does not follow the key's ${describeState(state)}`;
  return `it answered ${JSON.stringify(outcome.value)}, not the value it wrote`;
}
