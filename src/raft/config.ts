/**
 * Configuration of one Raft node. One Config per component: a defaults function and a
 * validator with precise messages (DESIGN §3). Times are in ticks: the driver decides how long
 * a tick is (the member ticks every heartbeat interval).
 */
import type { Prng } from '../common/prng.js';
import type { NodeId } from './types.js';
import { NONE } from './types.js';

export type ReadOnlyOption = 'safe' | 'leaseBased';

/** Test-only planted bugs: the simulator switches them on and must catch each one. */
export interface RaftTestingBugs {
  /** Commit an entry of an older term by counting replicas (violates paper §5.4.2, Figure 8). */
  readonly commitOldTermByCounting?: boolean;
  /** Grant a vote to a second candidate in the same term (violates paper §5.2, election safety). */
  readonly grantSecondVoteInTerm?: boolean;
}

export interface RaftConfig {
  /** This node's id; never NONE. */
  readonly id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns; randomised in [e, 2e). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats; must be below electionTicks. */
  readonly heartbeatTicks: number;
  /** Last index the application has applied (on restart); entries up to it are not re-delivered. */
  readonly applied: number;
  /** Upper bound of entry data bytes in one MsgApp (at least one entry is always sent). */
  readonly maxSizePerMsgBytes: number;
  /** Upper bound of entry data bytes in one Ready's committedEntries (at least one entry). */
  readonly maxCommittedSizePerReadyBytes: number;
  /** Appends in flight to one follower in replicate state before the leader pauses it. */
  readonly maxInflightMsgs: number;
  /** A leader that has not heard from a quorum within an election timeout steps down. */
  readonly checkQuorum: boolean;
  /** Campaign in two phases so a partitioned node cannot bump terms and disrupt the cluster. */
  readonly preVote: boolean;
  /** 'safe' confirms leadership with a heartbeat round; 'leaseBased' trusts the lease (needs checkQuorum). */
  readonly readOnlyOption: ReadOnlyOption;
  /** Source of the randomised election timeout (seeded in tests and the simulator). */
  readonly prng: Prng;
  readonly testingBugs?: RaftTestingBugs;
}

export const DEFAULT_ELECTION_TICKS = 10;
export const DEFAULT_HEARTBEAT_TICKS = 1;
export const DEFAULT_MAX_SIZE_PER_MSG_BYTES = 1024 * 1024;
export const DEFAULT_MAX_COMMITTED_SIZE_PER_READY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_INFLIGHT_MSGS = 256;

/** The defaults of every field, overridden by `overrides`. */
export function defaultRaftConfig(id: NodeId, prng: Prng, overrides: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    electionTicks: DEFAULT_ELECTION_TICKS,
    heartbeatTicks: DEFAULT_HEARTBEAT_TICKS,
    applied: 0,
    maxSizePerMsgBytes: DEFAULT_MAX_SIZE_PER_MSG_BYTES,
    maxCommittedSizePerReadyBytes: DEFAULT_MAX_COMMITTED_SIZE_PER_READY_BYTES,
    maxInflightMsgs: DEFAULT_MAX_INFLIGHT_MSGS,
    checkQuorum: true,
    preVote: true,
    readOnlyOption: 'safe',
    prng,
    ...overrides,
  };
}

export class RaftConfigError extends Error {
  override name = 'RaftConfigError';
}

function requirePositiveInteger(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RaftConfigError(`raft config: ${field} must be a positive integer, got ${value}`);
  }
}

/** Throws RaftConfigError naming the first invalid field. */
export function validateRaftConfig(config: RaftConfig): void {
  if (config.id === NONE) throw new RaftConfigError('raft config: id must not be empty (NONE)');
  requirePositiveInteger(config.electionTicks, 'electionTicks');
  requirePositiveInteger(config.heartbeatTicks, 'heartbeatTicks');
  if (config.heartbeatTicks >= config.electionTicks) {
    throw new RaftConfigError(
      `raft config: heartbeatTicks (${config.heartbeatTicks}) must be less than electionTicks (${config.electionTicks})`,
    );
  }
  if (!Number.isSafeInteger(config.applied) || config.applied < 0) {
    throw new RaftConfigError(`raft config: applied must be a non-negative integer, got ${config.applied}`);
  }
  requirePositiveInteger(config.maxSizePerMsgBytes, 'maxSizePerMsgBytes');
  requirePositiveInteger(config.maxCommittedSizePerReadyBytes, 'maxCommittedSizePerReadyBytes');
  requirePositiveInteger(config.maxInflightMsgs, 'maxInflightMsgs');
  if (config.readOnlyOption !== 'safe' && config.readOnlyOption !== 'leaseBased') {
    throw new RaftConfigError(`raft config: readOnlyOption must be 'safe' or 'leaseBased', got '${String(config.readOnlyOption)}'`);
  }
  if (config.readOnlyOption === 'leaseBased' && !config.checkQuorum) {
    throw new RaftConfigError("raft config: readOnlyOption 'leaseBased' requires checkQuorum (the lease is only safe when a leader that lost its quorum steps down)");
  }
}
