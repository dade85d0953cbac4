/** The Raft core's public API. */
export * from './types.js';
export {
  defaultRaftConfig,
  validateRaftConfig,
  RaftConfigError,
  DEFAULT_ELECTION_TICKS,
  DEFAULT_HEARTBEAT_TICKS,
  DEFAULT_MAX_INFLIGHT_MSGS,
  DEFAULT_MAX_SIZE_PER_MSG_BYTES,
  DEFAULT_MAX_COMMITTED_SIZE_PER_READY_BYTES,
  type RaftConfig,
  type RaftTestingBugs,
  type ReadOnlyOption,
} from './config.js';
export { RawNode, type RaftStatus, type ProgressStatus } from './rawnode.js';
export { ProposalDroppedError, makeMessage, CAMPAIGN_TRANSFER_CONTEXT } from './raft.js';
export { MemoryStorage } from './memory-storage.js';
export { encodeConfChange, decodeConfChange, ConfChangeDecodeError } from './confchange.js';
export type { ProgressState } from './progress.js';
