/**
 * The leader's (and candidate's) book-keeping of the configuration: one Progress per member,
 * voters vs learners, and the votes of the current election.
 */
import { Progress } from './progress.js';
import { committedIndex, isQuorum, voteResult, type VoteResult } from './quorum.js';
import type { ConfState, NodeId } from './types.js';

export class ProgressTracker {
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  constructor(readonly maxInflightMsgs: number) {}

  /** Voter ids in a stable order (sorted) so every run of a seed sends in the same order. */
  voters(): NodeId[] {
    return this.sortedIds().filter((id) => !this.progress.get(id)?.isLearner);
  }

  learners(): NodeId[] {
    return this.sortedIds().filter((id) => this.progress.get(id)?.isLearner === true);
  }

  sortedIds(): NodeId[] {
    return [...this.progress.keys()].sort(compareIds);
  }

  confState(): ConfState {
    return { voters: this.voters(), learners: this.learners() };
  }

  isSingleton(): boolean {
    return this.voters().length === 1;
  }

  /** Replaces the configuration (snapshot restore, restart); every progress starts probing at `next`. */
  resetTo(confState: ConfState, next: number): void {
    this.progress.clear();
    for (const id of confState.voters) this.progress.set(id, new Progress(next, this.maxInflightMsgs, false));
    for (const id of confState.learners) this.progress.set(id, new Progress(next, this.maxInflightMsgs, true));
  }

  committed(): number {
    return committedIndex(this.voters(), (id) => this.progress.get(id)?.match ?? 0);
  }

  /** Whether a quorum of voters was recently active (the leader counts itself as active). */
  quorumActive(selfId: NodeId): boolean {
    const active = new Set<NodeId>();
    for (const [id, pr] of this.progress) if (id === selfId || pr.recentActive) active.add(id);
    return isQuorum(this.voters(), active);
  }

  isQuorumAcked(acks: ReadonlySet<NodeId>): boolean {
    return isQuorum(this.voters(), acks);
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters()) {
      const vote = this.votes.get(id);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.voters(), this.votes) };
  }

  resetVotes(): void {
    this.votes.clear();
  }
}

/** Member ids are fixed-width hex or short decimal test ids: order by length, then text. */
export function compareIds(a: NodeId, b: NodeId): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
