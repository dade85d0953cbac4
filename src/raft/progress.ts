/**
 * The leader's view of one follower: how far its log matches (match), what to send next (next),
 * and how to send it (the flow-control state).
 *
 *   probe:     we do not know where the follower's log ends; send one append, then wait for its
 *              answer (or a heartbeat answer) before sending another.
 *   replicate: the follower keeps up; appends are pipelined optimistically, at most
 *              maxInflightMsgs unacknowledged at a time.
 *   snapshot:  the follower needs a snapshot; nothing else is sent until it reports back.
 */
import { assert } from '../common/assert.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded FIFO of the last indexes of appends in flight (sent, not yet acknowledged). */
export class Inflights {
  private readonly lastIndexes: number[] = [];

  constructor(readonly capacity: number) {
    assert(capacity > 0, 'inflights capacity must be positive');
  }

  get count(): number {
    return this.lastIndexes.length;
  }

  full(): boolean {
    return this.lastIndexes.length >= this.capacity;
  }

  add(lastIndex: number): void {
    assert(!this.full(), 'cannot add to full inflights');
    const previous = this.lastIndexes[this.lastIndexes.length - 1];
    assert(previous === undefined || lastIndex > previous, () => `inflight ${lastIndex} not above ${String(previous)}`);
    this.lastIndexes.push(lastIndex);
  }

  /** Frees every append whose last index is <= `index` (the follower acknowledged up to it). */
  freeLE(index: number): void {
    let freed = 0;
    while (freed < this.lastIndexes.length && (this.lastIndexes[freed] ?? Infinity) <= index) freed++;
    this.lastIndexes.splice(0, freed);
  }

  freeFirstOne(): void {
    this.lastIndexes.shift();
  }

  reset(): void {
    this.lastIndexes.length = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In probe state: an append is outstanding, wait for an answer before the next one. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, public isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs);
    this.assertInvariant();
  }

  private assertInvariant(): void {
    assert(this.next > this.match, () => `progress next ${this.next} must exceed match ${this.match}`);
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, resume probing just past it: the follower has at least that much.
    const floor = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.resetState('probe');
    this.next = floor;
    this.assertInvariant();
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** The follower acknowledged up to `index`; returns whether that was news. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, index + 1);
    this.assertInvariant();
    return updated;
  }

  /**
   * The follower rejected an append at `rejected`; `matchHint` is where it suggests to probe.
   * Returns false when the rejection is stale (already superseded).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    this.assertInvariant();
    return true;
  }

  /** Records an append carrying entries up to `lastIndex` (undefined for an empty probe). */
  sentAppend(lastIndex: number | undefined): void {
    if (this.state === 'replicate') {
      if (lastIndex !== undefined) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.msgAppFlowPaused = true;
    } else {
      assert(false, 'cannot send an append to a follower in snapshot state');
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.msgAppFlowPaused;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
