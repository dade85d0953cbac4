/**
 * RawNode: the driver's handle on the Raft state machine. The driver feeds input (tick, step,
 * propose, ...), then loops:
 *
 *   while (node.hasReady()) {
 *     const rd = node.ready();
 *     persist rd.hardState, rd.entries, rd.snapshot (fsync when rd.mustSync);
 *     send rd.messages;                       // only after persisting: they promise durable state
 *     apply rd.snapshot, rd.committedEntries;  // conf changes through applyConfChange()
 *     node.advance(rd);
 *   }
 *
 * Entries come out first in `entries` (to persist) and only after the advance() that persisted
 * them in `committedEntries` (to apply). A single voter commits its own entries at that advance.
 */
import { assert } from '../common/assert.js';
import type { RaftConfig } from './config.js';
import type { ProgressState } from './progress.js';
import { ProposalDroppedError, Raft, makeMessage } from './raft.js';
import { encodeConfChange } from './confchange.js';
import {

  type ConfChange,
  type ConfState,
  type HardState,
  type Message,
  type MessageType,
  type NodeId,
  type Ready,
  type SnapshotStatus,
  type SoftState,
  type Storage,
} from './types.js';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  readonly inflight: number;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId;
  /** Only on the leader: its view of every member. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
}

/** Message types only the node itself produces; they must never arrive from the network. */
const LOCAL_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set(['MsgHup', 'MsgBeat', 'MsgUnreachable', 'MsgSnapStatus', 'MsgCheckQuorum']);

export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private awaitingAdvance = false;

  constructor(config: RaftConfig, storage: Storage) {
    this.raft = new Raft(config, storage);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** One logical clock tick (the driver decides its length). */
  tick(): void {
    this.raft.tick();
    this.raft.assertInvariants();
  }

  /** Starts an election now (with pre-vote if configured); a single voter becomes leader at once. */
  campaign(): void {
    this.raft.step(makeMessage({ type: 'MsgHup', from: this.raft.id }));
  }

  /** Proposes `data` as a normal entry; throws ProposalDroppedError when there is no leader to take it. */
  propose(data: Uint8Array): void {
    this.stepLocalProposal({ type: 'normal', data });
  }

  /**
   * Proposes a membership change. While another change is pending (not yet applied) the leader
   * turns this one into an empty normal entry: the caller sees it never applied and may retry.
   */
  proposeConfChange(cc: ConfChange): void {
    this.stepLocalProposal({ type: 'confChange', data: encodeConfChange(cc) });
  }

  private stepLocalProposal(entry: { type: 'normal' | 'confChange'; data: Uint8Array }): void {
    const m = makeMessage({ type: 'MsgProp', from: this.raft.id, entries: [{ term: 0, index: 0, ...entry }] });
    if (this.raft.step(m) === 'dropped') throw new ProposalDroppedError('raft: proposal dropped (no leader, leadership transfer in progress, or not a member)');
  }

  /** Feeds a message from a peer. Returns false if it was a forwarded request the node had to drop. */
  step(m: Message): boolean {
    if (LOCAL_MESSAGE_TYPES.has(m.type)) throw new Error(`raft: ${m.type} is local and cannot come from the network`);
    if (m.type === 'MsgProp' && m.entries.length === 0) throw new Error('raft: MsgProp without entries');
    if (m.type === 'MsgSnap' && m.snapshot === undefined) throw new Error('raft: MsgSnap without a snapshot');
    // A response from a node we do not know (e.g. removed) carries no information for us.
    if (m.type.endsWith('Resp') && !this.raft.trk.progress.has(m.from) && m.type !== 'MsgReadIndexResp') return true;
    const result = this.raft.step(m);
    this.raft.assertInvariants();
    return result === 'ok';
  }

  /**
   * Requests a linearizable read. A ReadState with `requestCtx` = ctx comes out in a later
   * Ready; serve the read once applied >= its index. Throws ProposalDroppedError with no leader.
   */
  readIndex(ctx: Uint8Array): void {
    const m = makeMessage({ type: 'MsgReadIndex', context: ctx });
    if (this.raft.step(m) === 'dropped') throw new ProposalDroppedError('raft: read index dropped (no leader)');
  }

  /** Asks the leader to hand leadership to `to` (it must be a caught-up voter). */
  transferLeader(to: NodeId): void {
    this.raft.step(makeMessage({ type: 'MsgTransferLeader', from: to }));
  }

  /** The driver applied a committed conf change; returns the new configuration. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** The transport could not reach `id`: stop pipelining to it. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(makeMessage({ type: 'MsgUnreachable', from: id }));
  }

  /** The transport finished (or failed) sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    this.raft.step(makeMessage({ type: 'MsgSnapStatus', from: id, reject: status === 'failure' }));
  }

  /** Whether there is anything for the driver to do (false while a Ready awaits advance()). */
  hasReady(): boolean {
    if (this.awaitingAdvance) return false;
    const r = this.raft;
    return (
      !sameSoftState(r.softState(), this.prevSoftState) ||
      !sameHardState(r.hardState(), this.prevHardState) ||
      r.raftLog.unstable.snapshot !== undefined ||
      r.raftLog.unstable.entries.length > 0 ||
      r.msgs.length > 0 ||
      r.hasPendingBroadcast() ||
      r.readStates.length > 0 ||
      r.raftLog.hasNextCommittedEntries()
    );
  }

  /** Takes everything pending; call advance(rd) once it is handled, before the next ready(). */
  ready(): Ready {
    assert(!this.awaitingAdvance, 'ready() called again before advance()');
    const r = this.raft;
    r.flushBroadcast();
    const softState = r.softState();
    const hardState = r.hardState();
    const softChanged = !sameSoftState(softState, this.prevSoftState);
    const hardChanged = !sameHardState(hardState, this.prevHardState);
    const entries = r.raftLog.unstableEntries();
    const snapshot = r.raftLog.unstable.snapshot;
    const rd: Ready = {
      ...(softChanged ? { softState } : {}),
      ...(hardChanged ? { hardState } : {}),
      readStates: r.readStates,
      entries,
      ...(snapshot !== undefined ? { snapshot } : {}),
      committedEntries: r.raftLog.nextCommittedEntries(),
      messages: r.msgs,
      mustSync: entries.length > 0 || snapshot !== undefined || hardState.term !== this.prevHardState.term || hardState.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    this.prevSoftState = softState;
    if (hardChanged) this.prevHardState = hardState;
    this.awaitingAdvance = true;
    return rd;
  }

  /** The driver persisted, sent and applied `rd`. */
  advance(rd: Ready): void {
    assert(this.awaitingAdvance, 'advance() without a ready()');
    this.awaitingAdvance = false;
    const log = this.raft.raftLog;
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) log.appliedTo(lastCommitted.index);
    else if (rd.snapshot !== undefined) log.appliedTo(rd.snapshot.metadata.index);
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) log.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot !== undefined) log.stableSnapTo(rd.snapshot.metadata.index);
    this.raft.onPersisted();
    this.raft.assertInvariants();
  }

  status(): RaftStatus {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.state === 'leader') {
      for (const id of r.trk.sortedIds()) {
        const pr = r.trk.progress.get(id);
        if (pr === undefined) continue;
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner, recentActive: pr.recentActive, inflight: pr.inflights.count });
      }
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      lastIndex: r.raftLog.lastIndex(),
      confState: r.trk.confState(),
      leadTransferee: r.leadTransferee,
      progress,
    };
  }
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

