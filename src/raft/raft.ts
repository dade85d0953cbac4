/**
 * The Raft state machine (Ongaro & Ousterhout, "In Search of an Understandable Consensus
 * Algorithm", and the thesis for pre-vote, check-quorum, leadership transfer and ReadIndex).
 *
 * Pure: input through step() and tick(), output into `msgs` and `readStates`, which RawNode
 * hands to the driver in a Ready. Role changes are become*(), message handlers handle*(), and
 * each role has a small dispatcher table instead of one large switch.
 */
import { assert, assertSafeIndex } from '../common/assert.js';
import type { Prng } from '../common/prng.js';
import { validateRaftConfig, type RaftConfig, type RaftTestingBugs, type ReadOnlyOption } from './config.js';
import { decodeConfChange } from './confchange.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { ReadOnly } from './read-only.js';
import { ProgressTracker } from './tracker.js';
import {
  NONE,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type MessageType,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SoftState,
  type StateType,
  type Storage,
} from './types.js';

export const EMPTY_BYTES = new Uint8Array(0);
/** Context of a MsgVote sent because of a leadership transfer: it bypasses the leader lease. */
export const CAMPAIGN_TRANSFER_CONTEXT = new TextEncoder().encode('CampaignTransfer');

/** A proposal (or transfer/read request) the node cannot take now: no leader, transfer in progress, removed. */
export class ProposalDroppedError extends Error {
  override name = 'ProposalDroppedError';
}

export type StepResult = 'ok' | 'dropped';
type CampaignType = 'preElection' | 'election' | 'transfer';
type Handler = (m: Message) => StepResult;

/** Builds a message with every field defaulted; `from` is filled in by Raft.send. */
export function makeMessage(fields: Partial<Message> & { type: MessageType }): Message {
  return {
    from: NONE,
    to: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    ...fields,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

function voteResponseType(type: MessageType): MessageType {
  return type === 'MsgPreVote' ? 'MsgPreVoteResp' : 'MsgVoteResp';
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state: StateType = 'follower';
  readonly raftLog: RaftLog;
  readonly trk: ProgressTracker;
  readOnly = new ReadOnly();
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  leadTransferee: NodeId = NONE;
  /** Index of the newest conf change the leader has appended; another waits until it is applied. */
  pendingConfIndex = 0;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTicks = 0;

  private readonly electionTicks: number;
  private readonly heartbeatTicks: number;
  private readonly checkQuorum: boolean;
  private readonly preVote: boolean;
  private readonly readOnlyOption: ReadOnlyOption;
  private readonly maxSizePerMsgBytes: number;
  private readonly prng: Prng;
  private readonly bugs: RaftTestingBugs;
  private pendingReadIndexMessages: Message[] = [];
  /** New entries or a new commit index wait to go out in one append per follower (batching). */
  private broadcastPending = false;
  private tickFn: () => void = () => this.tickElection();
  private handlers: Partial<Record<MessageType, Handler>> = {};

  constructor(config: RaftConfig, storage: Storage) {
    validateRaftConfig(config);
    this.id = config.id;
    this.electionTicks = config.electionTicks;
    this.heartbeatTicks = config.heartbeatTicks;
    this.checkQuorum = config.checkQuorum;
    this.preVote = config.preVote;
    this.readOnlyOption = config.readOnlyOption;
    this.maxSizePerMsgBytes = config.maxSizePerMsgBytes;
    this.prng = config.prng;
    this.bugs = config.testingBugs ?? {};
    this.raftLog = new RaftLog(storage, config.maxCommittedSizePerReadyBytes);
    this.trk = new ProgressTracker(config.maxInflightMsgs);
    const { hardState, confState } = storage.initialState();
    this.trk.resetTo(confState, this.raftLog.lastIndex() + 1);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (config.applied > 0) this.raftLog.appliedTo(config.applied);
    this.becomeFollower(this.term, NONE);
  }

  private loadState(hardState: HardState): void {
    assert(
      hardState.commit >= this.raftLog.committed && hardState.commit <= this.raftLog.lastIndex(),
      () => `hard state commit ${hardState.commit} out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    );
    this.raftLog.committed = hardState.commit;
    this.term = hardState.term;
    this.vote = hardState.vote;
  }

  /** The invariants that hold between any two inputs; a violation is a bug in the core. */
  assertInvariants(): void {
    const log = this.raftLog;
    assert(
      log.applied <= log.committed && log.committed <= log.lastIndex(),
      () => `applied ${log.applied} <= committed ${log.committed} <= lastIndex ${log.lastIndex()} violated`,
    );
    assert(this.state !== 'leader' || this.lead === this.id, () => `leader ${this.id} names ${this.lead} as lead`);
    const secondVoteBug = this.bugs.grantSecondVoteInTerm === true;
    assert(this.state !== 'candidate' || this.vote === this.id || secondVoteBug, () => `candidate ${this.id} voted for ${this.vote}`);
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  /** A voter in the current configuration (learners and removed nodes never campaign). */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.unstable.snapshot;
  }

  // ---------------------------------------------------------------- role changes

  private reset(term: number): void {
    assertSafeIndex(term, 'term');
    assert(term >= this.term, () => `term must never decrease: ${this.term} -> ${term}`);
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTicks = this.electionTicks + this.prng.int(this.electionTicks);
    this.leadTransferee = NONE;
    this.trk.resetVotes();
    const next = this.raftLog.lastIndex() + 1;
    for (const [id, pr] of [...this.trk.progress]) {
      const fresh = new Progress(next, this.trk.maxInflightMsgs, pr.isLearner);
      // The leader counts itself only for what it has persisted (entries still unstable are not durable).
      if (id === this.id) fresh.match = this.raftLog.lastStableIndex();
      this.trk.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.readOnlyReset();
  }

  /** Reads pending in an earlier term must never be answered: their leadership proof is void. */
  private readOnlyReset(): void {
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
    this.tickFn = () => this.tickElection();
    this.handlers = this.followerHandlers();
  }

  becomePreCandidate(): void {
    assert(this.state !== 'leader', 'a leader cannot become a pre-candidate');
    // Pre-vote changes neither term nor vote: a pre-candidate that loses leaves no trace.
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = 'preCandidate';
    this.tickFn = () => this.tickElection();
    this.handlers = this.candidateHandlers();
  }

  becomeCandidate(): void {
    assert(this.state !== 'leader', 'a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = 'candidate';
    this.tickFn = () => this.tickElection();
    this.handlers = this.candidateHandlers();
  }

  becomeLeader(): void {
    assert(this.state === 'candidate', () => `only a candidate becomes leader (was ${this.state})`);
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    this.tickFn = () => this.tickHeartbeat();
    this.handlers = this.leaderHandlers();
    const self = this.trk.progress.get(this.id);
    assert(self !== undefined, 'a leader is a member of its configuration');
    self.becomeReplicate();
    self.recentActive = true;
    // Conservatively block conf changes until everything in the log before our term is applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // The no-op of the new term: committing it commits every earlier entry (§5.4.2, §8).
    this.appendEntries([{ term: 0, index: 0, type: 'normal', data: EMPTY_BYTES }]);
  }

  // ---------------------------------------------------------------- ticks

  tick(): void {
    this.tickFn();
  }

  private pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTicks;
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(makeMessage({ type: 'MsgHup', from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage({ type: 'MsgCheckQuorum', from: this.id }));
      // A transfer that has not finished within an election timeout is abandoned.
      if (this.state === 'leader' && this.leadTransferee !== NONE) this.leadTransferee = NONE;
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ type: 'MsgBeat', from: this.id }));
    }
  }

  // ---------------------------------------------------------------- sending

  private send(fields: Partial<Message> & { type: MessageType; to: NodeId }): void {
    // Forwarded messages keep their origin (a follower's proposal, a transferee); ours get our id.
    const from = fields.from !== undefined && fields.from !== NONE ? fields.from : this.id;
    const m = makeMessage({ ...fields, from });
    const isVoteish = m.type === 'MsgVote' || m.type === 'MsgPreVote' || m.type === 'MsgVoteResp' || m.type === 'MsgPreVoteResp';
    if (isVoteish) {
      assert(m.term !== 0, () => `${m.type} must carry an explicit term`);
      this.msgs.push(m);
    } else if (m.type === 'MsgProp' || m.type === 'MsgReadIndex' || m.type === 'MsgTransferLeader') {
      // Forwarded requests carry no term: they are valid in any term.
      this.msgs.push({ ...m, term: 0 });
    } else {
      this.msgs.push({ ...m, term: this.term });
    }
  }

  /** Sends an append (or a snapshot) to `to` if flow control allows; returns whether it sent. */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.raftLog.term(prevIndex);
    let entries: Entry[] | undefined;
    if (prevTerm !== undefined && pr.next >= this.raftLog.firstIndex()) {
      entries = this.raftLog.entriesFrom(pr.next, this.maxSizePerMsgBytes);
    }
    if (prevTerm === undefined || entries === undefined) return this.maybeSendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'MsgApp', to, index: prevIndex, logTerm: prevTerm, entries, commit: this.raftLog.committed });
    pr.sentAppend(entries[entries.length - 1]?.index);
    return true;
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    // Only to a follower we heard from lately: a snapshot is expensive to send to a dead node.
    if (!pr.recentActive) return false;
    const snapshot = this.raftLog.snapshot();
    assert(snapshot.metadata.index > 0, 'a compacted log implies a non-empty snapshot');
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send({ type: 'MsgSnap', to, snapshot });
    return true;
  }

  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  bcastAppend(): void {
    for (const id of this.trk.sortedIds()) if (id !== this.id) this.sendAppend(id);
  }

  private sendHeartbeat(to: NodeId, context: Uint8Array): void {
    const pr = this.trk.progress.get(to);
    // Never claim a commit beyond what the follower is known to hold: it may lack those entries.
    const commit = Math.min(pr?.match ?? 0, this.raftLog.committed);
    this.send({ type: 'MsgHeartbeat', to, commit, context });
  }

  private bcastHeartbeat(context: Uint8Array = this.readOnly.lastPendingRequestContext() ?? EMPTY_BYTES): void {
    for (const id of this.trk.sortedIds()) if (id !== this.id) this.sendHeartbeat(id, context);
  }

  // ---------------------------------------------------------------- log

  appendEntries(entries: readonly Entry[]): void {
    const lastIndex = this.raftLog.lastIndex();
    const stamped = entries.map((e, i) => ({ ...e, term: this.term, index: lastIndex + 1 + i }));
    this.raftLog.append(stamped);
  }

  /** Advances the commit index to what a quorum stores, own-term entries only (§5.4.2). */
  maybeCommit(): boolean {
    const quorumIndex = this.trk.committed();
    if (this.bugs.commitOldTermByCounting === true) {
      // Planted bug: commits by counting whatever the term (the Figure 8 hazard).
      if (quorumIndex <= this.raftLog.committed) return false;
      this.raftLog.commitTo(quorumIndex);
      return true;
    }
    return this.raftLog.maybeCommit(quorumIndex, this.term);
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.term(this.raftLog.committed) === this.term;
  }

  /** The driver persisted entries through `index` of `term` (RawNode.advance). */
  onPersisted(): void {
    if (this.state !== 'leader') return;
    const self = this.trk.progress.get(this.id);
    if (self === undefined) return;
    if (self.maybeUpdate(this.raftLog.lastStableIndex()) && this.maybeCommit()) this.onCommitAdvanced();
  }

  private onCommitAdvanced(): void {
    this.releasePendingReadIndexMessages();
    this.broadcastPending = true;
  }

  hasPendingBroadcast(): boolean {
    return this.broadcastPending && this.state === 'leader';
  }

  /**
   * Sends the appends deferred since the last Ready: every proposal and commit advance of one
   * driver turn goes out as one MsgApp per follower (RawNode calls this when building a Ready).
   */
  flushBroadcast(): void {
    if (!this.broadcastPending) return;
    this.broadcastPending = false;
    if (this.state === 'leader') this.bcastAppend();
  }

  // ---------------------------------------------------------------- step

  /** Feeds one message in; returns 'dropped' for a proposal that cannot be taken now. */
  step(m: Message): StepResult {
    if (!this.stepTerm(m)) return 'ok';
    switch (m.type) {
      case 'MsgHup':
        this.hup(this.preVote ? 'preElection' : 'election');
        return 'ok';
      case 'MsgVote':
      case 'MsgPreVote':
        this.handleVoteRequest(m);
        return 'ok';
      default: {
        const handler = this.handlers[m.type];
        return handler === undefined ? 'ok' : handler(m);
      }
    }
  }

  /** The term rules every message passes first; returns false if the message is consumed. */
  private stepTerm(m: Message): boolean {
    if (m.term === 0) return true;
    if (m.term > this.term) return this.stepHigherTerm(m);
    if (m.term < this.term) {
      this.stepLowerTerm(m);
      return false;
    }
    return true;
  }

  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
      const force = sameBytes(m.context, CAMPAIGN_TRANSFER_CONTEXT);
      const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTicks;
      // We heard from a leader within the minimum election timeout: ignore (§6 of the thesis,
      // a partitioned or removed server must not disrupt a healthy leader).
      if (!force && inLease) return false;
    }
    if (m.type === 'MsgPreVote') return true; // a pre-vote never changes our term
    if (m.type === 'MsgPreVoteResp' && !m.reject) return true; // the term is taken when the pre-vote wins
    const fromLeader = m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap';
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.checkQuorum || this.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
      // A stale leader (e.g. healed from a partition) learns our term from this and steps down;
      // without it, it would keep a quorum-less term alive when pre-vote stops our campaigns.
      this.send({ type: 'MsgAppResp', to: m.from });
    } else if (m.type === 'MsgPreVote') {
      this.send({ type: 'MsgPreVoteResp', to: m.from, term: this.term, reject: true });
    }
  }

  private hup(campaign: CampaignType): void {
    if (this.state === 'leader' || !this.promotable()) return;
    if (this.hasUnappliedConfChanges()) return; // its outcome may remove us or change the quorum
    this.campaign(campaign);
  }

  private hasUnappliedConfChanges(): boolean {
    const lo = this.raftLog.applied + 1;
    const hi = this.raftLog.committed + 1;
    if (lo >= hi || lo < this.raftLog.firstIndex()) return false;
    return this.raftLog.slice(lo, hi, Number.MAX_SAFE_INTEGER).some((e) => e.type === 'confChange');
  }

  campaign(campaign: CampaignType): void {
    let voteType: MessageType;
    let term: number;
    if (campaign === 'preElection') {
      this.becomePreCandidate();
      voteType = 'MsgPreVote';
      term = this.term + 1; // the term we would campaign in
    } else {
      this.becomeCandidate();
      voteType = 'MsgVote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // A single voter wins on its own vote.
      if (campaign === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const context = campaign === 'transfer' ? CAMPAIGN_TRANSFER_CONTEXT : EMPTY_BYTES;
    for (const id of this.trk.voters()) {
      if (id === this.id) continue;
      this.send({ type: voteType, to: id, term, index: this.raftLog.lastIndex(), logTerm: this.raftLog.lastTerm(), context });
    }
  }

  private poll(id: NodeId, granted: boolean): 'pending' | 'lost' | 'won' {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  private handleVoteRequest(m: Message): void {
    const sameCandidate = this.vote === m.from;
    const freeToVote = this.vote === NONE && this.lead === NONE;
    // A pre-vote for a future term commits us to nothing, so it may be granted freely.
    const futurePreVote = m.type === 'MsgPreVote' && m.term > this.term;
    const secondVoteBug = this.bugs.grantSecondVoteInTerm === true && m.type === 'MsgVote';
    const canVote = sameCandidate || freeToVote || futurePreVote || secondVoteBug;
    const respType = voteResponseType(m.type);
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      this.send({ type: respType, to: m.from, term: m.term });
      if (m.type === 'MsgVote') {
        this.electionElapsed = 0;
        assert(this.vote === NONE || this.vote === m.from || secondVoteBug, () => `one vote per term: voted ${this.vote}, asked by ${m.from}`);
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, term: this.term, reject: true });
    }
  }

  // ---------------------------------------------------------------- dispatch tables

  private leaderHandlers(): Partial<Record<MessageType, Handler>> {
    return {
      MsgBeat: () => this.ok(this.bcastHeartbeat()),
      MsgCheckQuorum: () => this.ok(this.handleCheckQuorum()),
      MsgProp: (m) => this.handleLeaderPropose(m),
      MsgReadIndex: (m) => this.handleLeaderReadIndex(m),
      MsgAppResp: (m) => this.withProgress(m, (pr) => this.handleAppendResponse(m, pr)),
      MsgHeartbeatResp: (m) => this.withProgress(m, (pr) => this.handleHeartbeatResponse(m, pr)),
      MsgSnapStatus: (m) => this.withProgress(m, (pr) => this.handleSnapStatus(m, pr)),
      MsgUnreachable: (m) => this.withProgress(m, (pr) => (pr.state === 'replicate' ? pr.becomeProbe() : undefined)),
      MsgTransferLeader: (m) => this.handleTransferLeader(m),
    };
  }

  private candidateHandlers(): Partial<Record<MessageType, Handler>> {
    const followThen = (handle: (m: Message) => void): Handler => (m) => {
      this.becomeFollower(m.term, m.from);
      return this.ok(handle(m));
    };
    return {
      MsgProp: () => 'dropped',
      MsgApp: followThen((m) => this.handleAppendEntries(m)),
      MsgHeartbeat: followThen((m) => this.handleHeartbeat(m)),
      MsgSnap: followThen((m) => this.handleSnapshot(m)),
      MsgVoteResp: (m) => this.ok(this.handleVoteResponse(m)),
      MsgPreVoteResp: (m) => this.ok(this.handleVoteResponse(m)),
      MsgReadIndex: () => 'dropped',
      MsgTransferLeader: () => 'dropped',
    };
  }

  private followerHandlers(): Partial<Record<MessageType, Handler>> {
    const fromLeader = (handle: (m: Message) => void): Handler => (m) => {
      this.electionElapsed = 0;
      this.lead = m.from;
      return this.ok(handle(m));
    };
    return {
      MsgProp: (m) => this.forwardToLeader(m),
      MsgReadIndex: (m) => this.forwardToLeader(m),
      MsgTransferLeader: (m) => this.forwardToLeader(m),
      MsgApp: fromLeader((m) => this.handleAppendEntries(m)),
      MsgHeartbeat: fromLeader((m) => this.handleHeartbeat(m)),
      MsgSnap: fromLeader((m) => this.handleSnapshot(m)),
      MsgTimeoutNow: () => this.ok(this.hup('transfer')),
      MsgReadIndexResp: (m) => this.ok(this.readStates.push({ index: m.index, requestCtx: m.context })),
    };
  }

  private ok(_ignored?: unknown): StepResult {
    return 'ok';
  }

  private withProgress(m: Message, handle: (pr: Progress) => void): StepResult {
    const pr = this.trk.progress.get(m.from);
    if (pr !== undefined) handle(pr);
    return 'ok';
  }

  private forwardToLeader(m: Message): StepResult {
    if (this.lead === NONE) return 'dropped';
    this.send({ ...m, to: this.lead });
    return 'ok';
  }

  // ---------------------------------------------------------------- candidate handlers

  private handleVoteResponse(m: Message): void {
    const expected = this.state === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    if (m.type !== expected) return; // a late answer from an earlier phase
    const result = this.poll(m.from, !m.reject);
    if (result === 'won') {
      if (this.state === 'preCandidate') {
        this.campaign('election');
      } else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (result === 'lost') {
      // A rejecting voter at a higher term already made us a follower of that term in stepTerm.
      this.becomeFollower(this.term, NONE);
    }
  }

  // ---------------------------------------------------------------- follower handlers

  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      this.send({ type: 'MsgAppResp', to: m.from, index: this.raftLog.committed });
      return;
    }
    const lastNewIndex = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNewIndex !== undefined) {
      this.send({ type: 'MsgAppResp', to: m.from, index: lastNewIndex });
      return;
    }
    // Mismatch: hint the largest index whose term could still match the leader's (fast backtracking).
    const hint = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm);
    this.send({ type: 'MsgAppResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(Math.min(m.commit, this.raftLog.lastIndex()));
    this.send({ type: 'MsgHeartbeatResp', to: m.from, context: m.context });
  }

  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    assert(snapshot !== undefined, 'MsgSnap carries a snapshot');
    if (this.restore(snapshot)) {
      this.send({ type: 'MsgAppResp', to: m.from, index: this.raftLog.lastIndex() });
    } else {
      this.send({ type: 'MsgAppResp', to: m.from, index: this.raftLog.committed });
    }
  }

  /** Installs a leader's snapshot (§7); false if we already have everything it covers. */
  restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.raftLog.committed) return false;
    if (this.state !== 'follower') return false;
    // A snapshot taken before our own addition does not list us; we install it anyway and learn
    // our membership from the entries that follow (refusing would leave a joiner stuck).
    if (this.raftLog.matchTerm(index, term)) {
      // Our log already has the snapshot's last entry: just fast-forward the commit index.
      this.raftLog.commitTo(index);
      return false;
    }
    this.raftLog.restore(snapshot);
    this.trk.resetTo(confState, this.raftLog.lastIndex() + 1);
    return true;
  }

  // ---------------------------------------------------------------- leader handlers

  private handleCheckQuorum(): void {
    if (!this.trk.quorumActive(this.id)) {
      // We could not reach a quorum for an election timeout: a new leader may exist elsewhere.
      this.becomeFollower(this.term, NONE);
      return;
    }
    for (const [id, pr] of this.trk.progress) if (id !== this.id) pr.recentActive = false;
  }

  private handleLeaderPropose(m: Message): StepResult {
    assert(m.entries.length > 0, 'a proposal carries entries');
    if (!this.trk.progress.has(this.id)) return 'dropped'; // removed from the cluster
    if (this.leadTransferee !== NONE) return 'dropped'; // the transferee is about to take over
    const entries = m.entries.map((e, i) => this.admitConfChange(e, m.entries.slice(0, i)));
    this.appendEntries(entries);
    this.broadcastPending = true;
    return 'ok';
  }

  /**
   * One membership change at a time: a conf change proposed while another is pending (appended
   * but not yet applied) becomes an empty normal entry, so the rest of its batch still commits.
   */
  private admitConfChange(entry: Entry, before: readonly Entry[]): Entry {
    if (entry.type !== 'confChange') return entry;
    const pendingInBatch = before.some((e) => e.type === 'confChange');
    if (this.pendingConfIndex > this.raftLog.applied || pendingInBatch) {
      return { ...entry, type: 'normal', data: EMPTY_BYTES };
    }
    this.pendingConfIndex = this.raftLog.lastIndex() + 1 + before.length;
    return entry;
  }

  private handleLeaderReadIndex(m: Message): StepResult {
    if (this.trk.isSingleton()) {
      if (!this.committedEntryInCurrentTerm()) this.pendingReadIndexMessages.push(m);
      else this.respondToReadIndex(m, this.raftLog.committed);
      return 'ok';
    }
    // Until an entry of our term commits, our commit index may lag what earlier leaders committed.
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return 'ok';
    }
    this.startReadIndex(m);
    return 'ok';
  }

  private startReadIndex(m: Message): void {
    if (this.trk.isSingleton()) {
      this.respondToReadIndex(m, this.raftLog.committed);
    } else if (this.readOnlyOption === 'safe') {
      this.readOnly.addRequest(this.raftLog.committed, m);
      this.readOnly.recvAck(this.id, m.context);
      this.bcastHeartbeat(m.context);
    } else {
      this.respondToReadIndex(m, this.raftLog.committed);
    }
  }

  private releasePendingReadIndexMessages(): void {
    if (!this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.startReadIndex(m);
  }

  private respondToReadIndex(request: Message, index: number): void {
    if (request.from === NONE || request.from === this.id) {
      this.readStates.push({ index, requestCtx: request.context });
    } else {
      this.send({ type: 'MsgReadIndexResp', to: request.from, index, context: request.context });
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      const hint = m.logTerm > 0 ? this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index : m.rejectHint;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match + 1 >= this.raftLog.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
    if (this.maybeCommit()) this.onCommitAdvanced();
    else if (wasPaused) this.sendAppend(m.from);
    while (this.maybeSendAppend(m.from, false)) {
      // keep the pipeline full while flow control allows
    }
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.send({ type: 'MsgTimeoutNow', to: m.from });
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    // A full pipeline with no answers may have lost its appends: free one slot to resend.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);
    if (this.readOnlyOption !== 'safe' || m.context.byteLength === 0) return;
    if (!this.trk.isQuorumAcked(this.readOnly.recvAck(m.from, m.context))) return;
    for (const status of this.readOnly.advance(m.context)) this.respondToReadIndex(status.request, status.index);
  }

  private handleSnapStatus(m: Message, pr: Progress): void {
    if (pr.state !== 'snapshot') return;
    if (m.reject) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for a heartbeat answer before probing: the snapshot may still be in transit.
    pr.msgAppFlowPaused = true;
  }

  private handleTransferLeader(m: Message): StepResult {
    const transferee = m.from;
    const pr = this.trk.progress.get(transferee);
    if (pr === undefined || pr.isLearner) return 'dropped';
    if (this.leadTransferee === transferee) return 'ok';
    if (transferee === this.id) return 'ok';
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    this.leadTransferee = transferee;
    if (pr.match === this.raftLog.lastIndex()) this.send({ type: 'MsgTimeoutNow', to: transferee });
    else this.sendAppend(transferee);
    return 'ok';
  }

  // ---------------------------------------------------------------- membership

  /** Applies a committed conf change (called by the driver when it applies the entry). */
  applyConfChange(cc: ConfChange): ConfState {
    const next = this.raftLog.lastIndex() + 1;
    const existing = this.trk.progress.get(cc.nodeId);
    const added = existing === undefined && cc.type !== 'removeNode';
    if (cc.type === 'addNode') {
      if (existing === undefined) this.trk.progress.set(cc.nodeId, this.newPeerProgress(next, false));
      else existing.isLearner = false;
    } else if (cc.type === 'addLearner') {
      if (existing === undefined) this.trk.progress.set(cc.nodeId, this.newPeerProgress(next, true));
    } else {
      this.trk.progress.delete(cc.nodeId);
      if (this.leadTransferee === cc.nodeId) this.leadTransferee = NONE;
    }
    if (this.state === 'leader') this.afterLeaderConfChange(cc, added);
    return this.trk.confState();
  }

  private newPeerProgress(next: number, isLearner: boolean): Progress {
    const pr = new Progress(next, this.trk.maxInflightMsgs, isLearner);
    pr.recentActive = true; // give the newcomer an election timeout before check-quorum counts it out
    return pr;
  }

  private afterLeaderConfChange(cc: ConfChange, added: boolean): void {
    if (cc.type === 'removeNode' && cc.nodeId === this.id) {
      // Tell the others how far we committed, then step down: we are no longer a member.
      this.bcastAppend();
      this.becomeFollower(this.term, NONE);
      return;
    }
    // A smaller quorum may commit more right away.
    if (this.maybeCommit()) this.onCommitAdvanced();
    else for (const id of this.trk.sortedIds()) if (id !== this.id) this.maybeSendAppend(id, false);
    // Probe a newcomer now rather than at the next heartbeat, so it starts catching up.
    if (added) this.sendAppend(cc.nodeId);
  }

  /** Decodes and applies a confChange entry's data. */
  applyConfChangeEntry(entry: Entry): ConfState {
    assert(entry.type === 'confChange', 'not a conf change entry');
    return this.applyConfChange(decodeConfChange(entry.data));
  }
}
