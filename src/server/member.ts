/**
 * The member: one Raft group member driving the pure core from timers, persisting through the
 * WAL, applying committed entries to the v2 store and answering the requests that proposed them.
 * A member of one is a Raft group of one — the log written here is the log Raft drives.
 *
 * The Ready loop (DESIGN §1): persist hardState + entries (one fsync per Ready, so all proposals
 * of one event-loop turn share it), send messages, apply committed entries in order, answer read
 * states, advance, maybe snapshot. Only one Ready is in flight at a time; proposals made while it
 * is being persisted wait in the member's queue and form the next batch (group commit). Once a
 * batch is durable its writers are answered at once, and the next batch is held back briefly
 * (groupCommitWaitMs) until the writers just answered have sent their next requests: otherwise
 * the clients split into two halves that take turns, each fsync carrying only half of them.
 */
import type { ClientPortMember, MemberInfo } from '../api/member-port.js';
import { assert } from '../common/assert.js';
import type { Clock } from '../common/clock.js';
import { EtcdError, ErrorCode } from '../common/errors.js';
import { ProposalDroppedError } from '../raft/raft.js';
import type { ConfState, Entry, HardState, Ready, ReadState, SoftState } from '../raft/types.js';
import type { Store } from '../store/store.js';
import type { StoreCommand, StoreEvent, WriteCommand } from '../store/types.js';
import type { MemberConfig } from './config.js';
import { decodeLogRequest, encodeLogRequest, type LogRequest } from './entry-codec.js';
import type { DurableLog, RaftDriver } from './member-deps.js';
import type { PeerPortSource } from './peer-port.js';
import { CLUSTER_CONFIG_KEY, registrationCommands } from './registration.js';
import { leaderStatsJson, selfStatsJson } from './stats.js';
import { Waiters } from './waiters.js';

export interface MemberDeps {
  readonly config: MemberConfig;
  readonly self: MemberInfo;
  readonly clusterId: string;
  readonly clock: Clock;
  readonly raft: RaftDriver;
  readonly log: DurableLog;
  /** The store recovered from the latest snapshot (or empty), at `appliedIndex`. */
  readonly store: Store;
  readonly appliedIndex: number;
  readonly snapshotIndex: number;
  readonly confState: ConfState;
  readonly hardState: HardState;
  /** Distinguishes this run's request ids from those of entries written by earlier runs. */
  readonly bootNonce: string;
  /** A durability failure (fsync error) or broken invariant: the process must stop, never answer. */
  readonly onFatal: (error: unknown) => void;
}

/** CPU a write costs this process end to end (parse, propose, apply, answer), as measured under
 *  wrk: ~76–100 µs. Used only to judge whether holding a batch for returning writers pays. */
const REQUEST_CPU_ESTIMATE_MS = 0.08;

/** A client write encoded for the log, waiting to be proposed. */
interface QueuedProposal {
  readonly requestId: string;
  readonly data: Uint8Array;
}

export class Member implements ClientPortMember {
  readonly store: Store;
  readonly clock: Clock;
  readonly self: MemberInfo;
  private readonly config: MemberConfig;
  private readonly raft: RaftDriver;
  private readonly durableLog: DurableLog;
  private readonly deps: MemberDeps;

  private appliedIndex: number;
  private snapshotIndex: number;
  private confState: ConfState;
  private hardState: HardState;
  private softState: SoftState = { lead: '', raftState: 'follower' };
  private leaderSinceMs = 0;
  private readonly startTimeMs: number;

  private readonly writeWaiters = new Waiters<StoreEvent>();
  private readonly readWaiters = new Waiters<void>();
  /** Read states whose index the store has not applied yet, in index order. */
  private pendingReads: ReadState[] = [];
  private requestSeq = 0;
  /** Requests this run proposed, by their entry bytes (the core hands back the same object to
   *  apply), so the hot path skips re-parsing them; entries read from disk are decoded. */
  private readonly proposedRequests = new WeakMap<Uint8Array, LogRequest>();
  private syncInFlight = false;
  /** Client proposals not yet in the Raft log: they enter it at the top of the Ready loop. */
  private queuedProposals: QueuedProposal[] = [];
  /** While set, queued proposals wait for `count` of them or for `untilMs` (group commit). */
  private hold: { readonly count: number; readonly untilMs: number } | null = null;
  private holdTimer: NodeJS.Timeout | null = null;
  /** How long the last fsynced Ready took to persist: a hold longer than that idles the disk
   *  more than letting the next batch sync at once would. */
  private lastPersistMs = 0;

  private readyScheduled = false;
  private readyLoop: Promise<void> | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private serving = false;
  private stopped = false;

  constructor(deps: MemberDeps) {
    this.deps = deps;
    this.store = deps.store;
    this.clock = deps.clock;
    this.self = deps.self;
    this.config = deps.config;
    this.raft = deps.raft;
    this.durableLog = deps.log;
    this.appliedIndex = deps.appliedIndex;
    this.snapshotIndex = deps.snapshotIndex;
    this.confState = deps.confState;
    this.hardState = deps.hardState;
    this.startTimeMs = deps.clock.nowMs();
    assert(this.snapshotIndex <= this.appliedIndex, 'snapshot index must not pass the applied index');
  }

  /**
   * Starts ticking and campaigning; resolves once this member leads, has applied every entry its
   * log had committed, and (when it founds the cluster) has committed its registration.
   */
  async start(): Promise<void> {
    assert(this.tickTimer === null && !this.stopped, 'member started twice');
    this.tickTimer = setInterval(() => this.onTick(), this.config.heartbeatMs);
    this.syncTimer = setInterval(() => this.maybeProposeSync(), this.config.syncIntervalMs);
    // Replay what the log already committed first: on a fresh member that is the conf change
    // making it a voter, and a node that is not yet a voter cannot campaign.
    this.scheduleReady();
    await this.waitUntil(() => this.appliedIndex >= this.hardState.commit);
    this.raft.campaign();
    this.scheduleReady();
    await this.waitUntil(() => this.isRaftLeader() && this.appliedIndex >= this.hardState.commit && this.hasCommittedOwnTermEntry());
    if (this.store.index === 0) await this.register();
    this.serving = true;
  }

  /** Stops timers, lets the Ready in flight finish, fails waiting requests with 300. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.serving = false;
    this.clearTimers();
    await this.readyLoop;
    this.failAllWaiters();
    await this.durableLog.close();
  }

  // ---- ClientPortMember -------------------------------------------------------------------

  write(cmd: WriteCommand): Promise<StoreEvent> {
    return this.propose(cmd);
  }

  readBarrier(): Promise<void> {
    if (!this.serving || !this.isRaftLeader()) return Promise.reject(this.raftInternalError());
    const id = this.nextRequestId();
    const waiting = this.readWaiters.wait(id, this.deadlineMs());
    try {
      this.raft.readIndex(Buffer.from(id, 'utf8'));
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error;
      this.readWaiters.reject(id, this.raftInternalError());
    }
    this.scheduleReady();
    return waiting;
  }

  raftIndex(): number {
    return this.hardState.commit;
  }

  raftTerm(): number {
    return this.hardState.term;
  }

  clusterId(): string {
    return this.deps.clusterId;
  }

  isLeader(): boolean {
    return this.serving && this.isRaftLeader();
  }

  leader(): MemberInfo | null {
    if (this.softState.lead === '') return null;
    return this.members().find((m) => m.id === this.softState.lead) ?? null;
  }

  members(): readonly MemberInfo[] {
    return [this.self];
  }

  selfStats(): object {
    const leaderId = this.softState.lead === '' ? null : this.softState.lead;
    return selfStatsJson({
      name: this.self.name,
      id: this.self.id,
      isLeader: this.isRaftLeader(),
      startTimeMs: this.startTimeMs,
      leaderId,
      leaderSinceMs: this.leaderSinceMs,
      nowMs: this.clock.nowMs(),
      recvAppendRequestCnt: 0,
      sendAppendRequestCnt: 0,
    });
  }

  leaderStats(): object {
    return leaderStatsJson(this.self.id);
  }

  healthy(): boolean {
    return this.serving && !this.stopped && this.softState.lead !== '';
  }

  /** What the peer port serves for this member. */
  peerPortSource(): PeerPortSource {
    return { name: this.self.name, clusterConfigJson: () => this.clusterConfigJson() };
  }

  /** The committed cluster config (/_etcd/config), or the configured one before it commits. */
  clusterConfigJson(): string {
    try {
      const value = this.store.get(CLUSTER_CONFIG_KEY, { recursive: false, sorted: false }, this.clock.nowMs()).json.node?.value;
      if (value !== undefined) return value;
    } catch (error) {
      if (!(error instanceof EtcdError)) throw error;
    }
    const { activeSize, removeDelay, syncInterval } = this.config.clusterConfig;
    return JSON.stringify({ activeSize, removeDelay, syncInterval });
  }

  /** Index of the last entry applied to the store (tests and snapshots). */
  applied(): number {
    return this.appliedIndex;
  }

  /** First log index still held on disk (after compaction: snapshot index + 1). */
  durableFirstIndex(): number {
    return this.durableLog.storage.firstIndex();
  }

  /** Index of the latest snapshot taken or restored. */
  lastSnapshotIndex(): number {
    return this.snapshotIndex;
  }

  // ---- proposing --------------------------------------------------------------------------

  private propose(command: StoreCommand): Promise<StoreEvent> {
    if (this.stopped || !this.isRaftLeader()) return Promise.reject(this.raftInternalError());
    const requestId = this.nextRequestId();
    const applied = this.writeWaiters.wait(requestId, this.deadlineMs());
    const data = encodeLogRequest({ requestId, command });
    this.proposedRequests.set(data, { requestId, command });
    this.queuedProposals.push({ requestId, data });
    this.scheduleReady();
    return applied;
  }

  /** Moves the queued proposals into the Raft log unless the group-commit hold still applies. */
  private feedProposals(): void {
    if (this.queuedProposals.length === 0 || this.holding()) return;
    const batch = this.queuedProposals;
    this.queuedProposals = [];
    for (const { requestId, data } of batch) {
      try {
        this.raft.propose(data);
      } catch (error) {
        // Leadership was lost since the last Ready told us: the write was not taken.
        if (!(error instanceof ProposalDroppedError)) throw error;
        this.writeWaiters.reject(requestId, this.raftInternalError());
      }
    }
  }

  private holding(): boolean {
    const hold = this.hold;
    if (hold === null) return false;
    const remainingMs = hold.untilMs - performance.now();
    if (this.queuedProposals.length >= hold.count || remainingMs <= 0) {
      this.hold = null;
      return false;
    }
    if (this.holdTimer === null) {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = null;
        this.scheduleReady();
      }, remainingMs);
    }
    return true;
  }

  /** After answering writers, wait (briefly) for that many more proposals before the next fsync. */
  private holdForAnswered(answered: number): void {
    if (answered === 0 || this.config.groupCommitWaitMs === 0) return;
    // Worth it only while the answered writers can be back within one fsync: with many clients
    // the next batch is large anyway, and serving them with the disk idle costs more than it saves.
    if (answered * REQUEST_CPU_ESTIMATE_MS > this.lastPersistMs) return;
    // Real time, not the injected clock: this is scheduling, and a test's manual clock must not
    // be able to stall writes.
    const waitMs = Math.min(this.config.groupCommitWaitMs, this.lastPersistMs);
    this.hold = { count: this.queuedProposals.length + answered, untilMs: performance.now() + waitMs };
  }

  private async register(): Promise<void> {
    const clientUrl = this.self.clientUrls[0];
    const peerUrl = this.self.peerUrls[0];
    assert(clientUrl !== undefined && peerUrl !== undefined, 'a member needs a client and a peer URL');
    const [machine, clusterConfig] = registrationCommands(this.self.name, clientUrl, peerUrl, this.config.clusterConfig, this.clock.nowMs());
    await Promise.all([this.propose(machine), this.propose(clusterConfig)]);
  }

  /** The leader's expiry sweep (spec §6): only when a TTL is due, one at a time. */
  private maybeProposeSync(): void {
    if (!this.serving || this.syncInFlight || !this.isRaftLeader()) return;
    const nowMs = this.clock.nowMs();
    const nextExpiryMs = this.store.nextExpiryMs();
    if (nextExpiryMs === null || nextExpiryMs > nowMs) return;
    try {
      this.raft.propose(encodeLogRequest({ requestId: '', command: { op: 'sync', nowMs } }));
      this.syncInFlight = true;
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error; // retried at the next interval
    }
    this.scheduleReady();
  }

  private onTick(): void {
    this.raft.tick();
    const nowMs = this.clock.monotonicMs();
    this.writeWaiters.expire(nowMs, () => this.raftInternalError());
    this.readWaiters.expire(nowMs, () => this.raftInternalError());
    this.scheduleReady();
  }

  // ---- the Ready loop ---------------------------------------------------------------------

  private scheduleReady(): void {
    if (this.readyScheduled || this.stopped) return;
    this.readyScheduled = true;
    setImmediate(() => {
      this.readyScheduled = false;
      if (this.readyLoop === null) this.readyLoop = this.runReadyLoop().finally(() => (this.readyLoop = null));
    });
  }

  private async runReadyLoop(): Promise<void> {
    try {
      while (!this.stopped) {
        // Entries the last advance committed are applied (and their writers answered) before
        // the queue is fed, so the hold can then gather those writers' next requests.
        if (!this.raft.hasReady()) this.feedProposals();
        if (!this.raft.hasReady()) break;
        await this.handleReady(this.raft.ready());
      }
    } catch (error) {
      this.fail(error);
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState);
    // Only a leader sends snapshots; a member of one never receives one (the cluster issue adds install).
    assert(rd.snapshot === undefined, 'a member of one cannot be sent a snapshot');
    const persisted = this.durableLog.save(rd.hardState, rd.entries, rd.mustSync);
    // Reported (X-Raft-Index/Term) before it is durable: a commit index is a fact once known.
    if (rd.hardState !== undefined) this.hardState = rd.hardState;
    let answered = 0;
    try {
      // Committed entries were persisted by an earlier Ready (the core hands an entry out to
      // apply only after the advance() that made it durable), so applying them need not wait
      // for this Ready's fsync: their writers are answered while the next batch syncs.
      for (const entry of rd.committedEntries) answered += this.applyEntry(entry);
    } finally {
      // Nothing that needs an fsync (only a new commit index): the WAL keeps writes in order and
      // an entry's durability never rests on it, so the loop goes on without a round trip to
      // the disk thread; a failed write still stops the member.
      if (rd.mustSync) {
        const startMs = performance.now();
        await persisted;
        this.lastPersistMs = performance.now() - startMs;
      } else persisted.catch((error: unknown) => this.fail(error));
    }
    this.holdForAnswered(answered);
    // A member of one has nobody to send to (a single voter's core emits no messages); the
    // cluster issue adds the transport here. Dropping a message silently would hide a bug.
    assert(rd.messages.length === 0, () => `no transport yet for ${rd.messages.map((m) => `${m.type} to ${m.to}`).join(', ')}`);
    this.pendingReads.push(...rd.readStates);
    this.raft.advance(rd);
    this.answerReads();
    if (this.stopped) return;
    await this.maybeSnapshot();
  }

  private onSoftState(soft: SoftState): void {
    if (soft.lead !== this.softState.lead) this.leaderSinceMs = this.clock.nowMs();
    if (soft.raftState !== 'leader') this.syncInFlight = false;
    this.softState = soft;
  }

  /** Applies one committed entry; returns 1 if it answered a writer of this run, else 0. */
  private applyEntry(entry: Entry): number {
    assert(entry.index === this.appliedIndex + 1, () => `applying index ${entry.index} after ${this.appliedIndex}`);
    let answered = 0;
    if (entry.type === 'confChange') {
      this.confState = this.raft.applyConfChangeEntry(entry);
    } else if (entry.data.length > 0) {
      answered = this.proposedRequests.has(entry.data) ? 1 : 0;
      this.applyRequest(entry.data);
    }
    this.appliedIndex = entry.index;
    return answered;
  }

  private applyRequest(data: Uint8Array): void {
    const { requestId, command } = this.proposedRequests.get(data) ?? decodeLogRequest(data);
    if (command.op === 'sync') {
      this.store.applySync(command);
      this.syncInFlight = false;
      return;
    }
    let event: StoreEvent;
    try {
      event = this.store.apply(command);
    } catch (error) {
      // Apply errors (105, 101, ...) are answers for the proposer, not failures of the member.
      if (!(error instanceof EtcdError)) throw error;
      this.writeWaiters.reject(requestId, error);
      return;
    }
    this.writeWaiters.resolve(requestId, event);
  }

  private answerReads(): void {
    if (this.pendingReads.length === 0) return;
    const waiting: ReadState[] = [];
    for (const read of this.pendingReads) {
      if (read.index <= this.appliedIndex) this.readWaiters.resolve(Buffer.from(read.requestCtx).toString('utf8'), undefined);
      else waiting.push(read);
    }
    this.pendingReads = waiting;
  }

  // ---- snapshots --------------------------------------------------------------------------

  private async maybeSnapshot(): Promise<void> {
    if (!this.config.snapshotEnabled) return;
    if (this.appliedIndex - this.snapshotIndex < this.config.snapshotCount) return;
    const index = this.appliedIndex;
    const snapshot = {
      data: this.store.save(),
      metadata: { index, term: this.durableLog.storage.term(index), confState: this.confState },
    };
    await this.durableLog.saveSnapshot(snapshot);
    await this.durableLog.compact(index);
    this.snapshotIndex = index;
  }

  // ---- helpers ----------------------------------------------------------------------------

  private isRaftLeader(): boolean {
    return this.softState.raftState === 'leader';
  }

  /** A new leader's no-op commits in its own term; until then its commit index may be stale. */
  private hasCommittedOwnTermEntry(): boolean {
    return this.durableLog.storage.term(this.hardState.commit) === this.hardState.term;
  }

  private nextRequestId(): string {
    this.requestSeq++;
    return `${this.deps.bootNonce}.${this.requestSeq}`;
  }

  private deadlineMs(): number {
    return this.clock.monotonicMs() + this.config.requestTimeoutMs;
  }

  private raftInternalError(): EtcdError {
    return new EtcdError(ErrorCode.RaftInternal, '', this.store.index);
  }

  private failAllWaiters(): void {
    this.queuedProposals = [];
    this.writeWaiters.rejectAll(() => this.raftInternalError());
    this.readWaiters.rejectAll(() => this.raftInternalError());
  }

  private clearTimers(): void {
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.tickTimer = null;
    this.syncTimer = null;
    this.holdTimer = null;
  }

  /** Fatal: stop everything without answering anyone; the owner ends the process. */
  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.serving = false;
    this.clearTimers();
    this.deps.onFatal(error);
  }

  private waitUntil(condition: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.stopped) reject(new Error('member stopped before it could serve'));
        else if (condition()) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
  }
}
