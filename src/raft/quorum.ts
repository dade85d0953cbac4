/**
 * Majority quorums over one voter set (membership changes one member at a time, so no joint
 * consensus is needed: any two majorities of consecutive configurations intersect).
 */
import type { NodeId } from './types.js';

export type VoteResult = 'pending' | 'lost' | 'won';

export function majoritySize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The largest index acknowledged by a majority of `voters` (the paper's commit point, before the
 * own-term check). An empty voter set commits nothing.
 */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[majoritySize(voters.length) - 1] ?? 0;
}

/** Won once a majority granted; lost once a majority can no longer be reached. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const needed = majoritySize(voters.length);
  if (granted >= needed) return 'won';
  if (granted + missing >= needed) return 'pending';
  return 'lost';
}

/** Whether the members in `acked` form a majority of `voters`. */
export function isQuorum(voters: readonly NodeId[], acked: ReadonlySet<NodeId>): boolean {
  let count = 0;
  for (const id of voters) if (acked.has(id)) count++;
  return count >= majoritySize(voters.length);
}
