/**
 * The simulated application: a state machine that only remembers how far it applied and a
 * digest chained over every applied entry. Two replicas with the same digest at the same index
 * applied the same entries in the same order; a snapshot carries the digest, so state-machine
 * safety is checked across snapshot installs too.
 */
import { assert } from '../../src/common/assert.js';
import type { ConfState, Entry } from '../../src/raft/types.js';

/** A compact, comparable identity of an entry's payload. */
export function entryKey(entry: Entry): string {
  return `${entry.type}:${Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength).toString('latin1')}`;
}

/** FNV-1a over a string, chained from a previous digest. */
function chainDigest(previous: number, text: string): number {
  let h = (previous ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export interface AppSnapshotState {
  readonly appliedIndex: number;
  readonly digest: number;
}

export class SimApp {
  appliedIndex: number;
  digest: number;
  confState: ConfState;

  constructor(state: AppSnapshotState, confState: ConfState) {
    this.appliedIndex = state.appliedIndex;
    this.digest = state.digest;
    this.confState = confState;
  }

  static decode(data: Uint8Array, confState: ConfState): SimApp {
    return new SimApp(decodeAppState(data), confState);
  }

  apply(entry: Entry): void {
    assert(entry.index === this.appliedIndex + 1, () => `app: applying index ${entry.index} after ${this.appliedIndex}`);
    this.digest = chainDigest(this.digest, `${entry.index}/${entry.term}/${entryKey(entry)}`);
    this.appliedIndex = entry.index;
  }

  encode(): Uint8Array {
    return encodeAppState({ appliedIndex: this.appliedIndex, digest: this.digest });
  }
}

export function encodeAppState(state: AppSnapshotState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state));
}

export function decodeAppState(data: Uint8Array): AppSnapshotState {
  const parsed: unknown = JSON.parse(new TextDecoder().decode(data));
  assert(
    typeof parsed === 'object' && parsed !== null && 'appliedIndex' in parsed && 'digest' in parsed &&
      typeof parsed.appliedIndex === 'number' && typeof parsed.digest === 'number',
    'app: snapshot data is not an app state',
  );
  return { appliedIndex: parsed.appliedIndex, digest: parsed.digest };
}
