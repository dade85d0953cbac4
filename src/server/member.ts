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
import type { ClientPortMember, MemberAdmin, MemberInfo } from '../api/member-port.js';
import { assert } from '../common/assert.js';
import type { Clock } from '../common/clock.js';
import { EtcdError, ErrorCode } from '../common/errors.js';
import { memberIdFor } from '../common/ids.js';
import { decodeConfChange } from '../raft/confchange.js';
import { ProposalDroppedError } from '../raft/raft.js';
import type { ConfChange, ConfState, Entry, HardState, Message, Ready, ReadState, Snapshot, SoftState } from '../raft/types.js';
import type { Store } from '../store/store.js';
import type { SetCommand, StoreCommand, StoreEvent, WriteCommand } from '../store/types.js';
import type { PeerTransport, TransportHandlers } from '../transport/types.js';

/** Builds the member's Raft transport once its id and cluster id are known. */
export type TransportFactory = (handlers: TransportHandlers, ids: { readonly selfId: string; readonly clusterId: string }) => PeerTransport;
import type { ClusterConfigJson, MemberConfig } from './config.js';
import { decodeLogRequest, encodeLogRequest, type LogRequest } from './entry-codec.js';
import type { DurableLog, RaftDriver } from './member-deps.js';
import {
  decodeMemberChangeContext,
  decodeMemberSnapshot,
  encodeMemberChangeContext,
  encodeMemberSnapshot,
  type Membership,
  type MemberChangeContext,
  type RegisteredMember,
  type RemovalReason,
} from './membership.js';
import type { PeerPortSource } from './peer-port.js';
import { CLUSTER_CONFIG_KEY, MACHINES_DIR, machineRecordValue, parseMachineRecord } from './registration.js';
import { leaderStatsJson, selfStatsJson } from './stats.js';
import { Waiters } from './waiters.js';
import { announceTestBreak, earlyAckEvent, testBreak } from '../common/test-hooks.js';

export interface MemberDeps {
  readonly config: MemberConfig;
  readonly self: MemberInfo;
  readonly clusterId: string;
  readonly clock: Clock;
  readonly raft: RaftDriver;
  readonly log: DurableLog;
  /** The store recovered from the latest snapshot (or empty), at `appliedIndex`. */
  readonly store: Store;
  readonly membership: Membership;
  readonly appliedIndex: number;
  readonly snapshotIndex: number;
  readonly confState: ConfState;
  readonly hardState: HardState;
  /** Distinguishes this run's request ids from those of entries written by earlier runs. */
  readonly bootNonce: string;
  /** Builds the Raft transport with the member's handlers; null = a member that can never have
   *  peers (in-process tests of a member of one). */
  readonly transport: TransportFactory | null;
  /** A durability failure (fsync error) or broken invariant: the process must stop, never answer. */
  readonly onFatal: (error: unknown) => void;
  /** This member was removed from the cluster (it has stopped serving); the owner decides what
   *  follows: exit on an explicit removal, standby on an automatic one. */
  readonly onRemoved?: (reason: RemovalReason) => void;
  /** Things an operator wants in the log (leader changes, membership changes). */
  readonly onNotice?: (line: string) => void;
}

/** CPU a write costs this process end to end (parse, propose, apply, answer), as measured under
 *  wrk: ~76–100 µs. Used only to judge whether holding a batch for returning writers pays. */
const REQUEST_CPU_ESTIMATE_MS = 0.08;

/** A client write encoded for the log, waiting to be proposed. */
interface QueuedProposal {
  readonly requestId: string;
  readonly data: Uint8Array;
}

/** A 0.4.6 join as the peer port hands it over. */
export interface JoinRequest {
  readonly name: string;
  readonly peerUrl: string;
  readonly clientUrl: string;
  /** Same across one joiner's retries (our joiners send it; 0.4.6 ones do not). */
  readonly joinId?: string;
}

/** The outcome of a join the leader accepted. */
export interface JoinAccepted {
  readonly memberId: string;
  readonly commitIndex: number;
}

/** Leader messages that only carry what the leader already has: they may leave before its own
 *  fsync (Raft thesis §10.2.1) — the leader counts itself towards a commit only once durable. */
function mayPrecedeLocalPersist(m: Message): boolean {
  return m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap';
}

export class Member implements ClientPortMember {
  readonly clock: Clock;
  readonly self: MemberInfo;
  readonly store: Store;
  private readonly config: MemberConfig;
  private readonly raft: RaftDriver;
  private readonly durableLog: DurableLog;
  private readonly deps: MemberDeps;
  private membership: Membership;
  private readonly transport: PeerTransport | null;
  private readonly notice: (line: string) => void;

  private appliedIndex: number;
  private snapshotIndex: number;
  private confState: ConfState;
  private hardState: HardState;
  private softState: SoftState = { lead: '', raftState: 'follower' };
  private leaderSinceMs = 0;
  /** Monotonic time this member became leader (the monitor's grace for silent followers). */
  private leadershipStartedMs = 0;
  private readonly startTimeMs: number;
  /** Monotonic time of the last message from each peer. */
  private readonly lastHeardMs = new Map<string, number>();

  private readonly writeWaiters = new Waiters<StoreEvent>();
  private readonly readWaiters = new Waiters<void>();
  private readonly confChangeWaiters = new Waiters<void>();
  /** Membership changes go one at a time (Raft allows one pending change). */
  private confChangeChain: Promise<unknown> = Promise.resolve();
  /** Joins admitted one by one (see join()). */
  private joinChain: Promise<unknown> = Promise.resolve();
  /** joinId → member id of the joins this leader admitted, so that a joiner's retry gets its answer again. */
  private readonly admittedJoins = new Map<string, string>();
  /** Read states whose index the store has not applied yet, in index order. */
  private pendingReads: ReadState[] = [];
  private requestSeq = 0;
  /** Requests this run proposed, by their entry bytes (the core hands back the same object to
   *  apply), so the hot path skips re-parsing them; entries read from disk are decoded. */
  private readonly proposedRequests = new WeakMap<Uint8Array, LogRequest>();
  private syncInFlight = false;
  private registrationInFlight = false;
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
  private removed = false;

  /** 3.4's POST/DELETE /v2/members. */
  readonly memberAdmin: MemberAdmin = {
    addMember: (peerUrls) => this.addMemberByPeerUrls(peerUrls),
    removeMember: (id) => this.removeMember(id, 'explicit'),
    updateMember: (id, peerUrls) => this.updateMember(id, peerUrls),
    isRemoved: (id) => this.membership.isRemoved(id),
  };

  constructor(deps: MemberDeps) {
    this.deps = deps;
    this.store = deps.store;
    this.clock = deps.clock;
    this.self = deps.self;
    this.config = deps.config;
    this.raft = deps.raft;
    this.durableLog = deps.log;
    this.membership = deps.membership;
    this.appliedIndex = deps.appliedIndex;
    this.snapshotIndex = deps.snapshotIndex;
    this.confState = deps.confState;
    this.hardState = deps.hardState;
    this.startTimeMs = deps.clock.nowMs();
    this.notice = deps.onNotice ?? ((): void => undefined);
    this.transport = deps.transport === null ? null : deps.transport(this.transportHandlers(), { selfId: deps.self.id, clusterId: deps.clusterId });
    assert(this.snapshotIndex <= this.appliedIndex, 'snapshot index must not pass the applied index');
    this.connectPeers();
  }

  /**
   * Starts ticking. A member that is the only voter campaigns at once and resolves once it leads,
   * has applied its committed log and (when it founds the cluster) has registered itself, so the
   * first client write gets index 3 as the tutorial shows. A member of a larger cluster resolves
   * once it has replayed its own log: elections and its registration happen in the background.
   */
  async start(): Promise<void> {
    assert(this.tickTimer === null && !this.stopped, 'member started twice');
    announceTestBreak();
    this.tickTimer = setInterval(() => this.onTick(), this.config.heartbeatMs);
    this.syncTimer = setInterval(() => this.maybeProposeSync(), this.config.syncIntervalMs);
    // Replay what the log already committed first: on a fresh member that is the conf change
    // making it a voter, and a node that is not yet a voter cannot campaign.
    this.scheduleReady();
    await this.waitUntil(() => this.appliedIndex >= this.hardState.commit);
    if (this.isOnlyVoter()) {
      this.raft.campaign();
      this.scheduleReady();
      await this.waitUntil(() => this.isRaftLeader() && this.appliedIndex >= this.hardState.commit && this.hasCommittedOwnTermEntry());
      this.serving = true;
      this.registrationInFlight = true; // the ticks must not publish a second time meanwhile
      try {
        await this.ensureRegistered();
      } finally {
        this.registrationInFlight = false;
      }
      return;
    }
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
    await this.transport?.stop();
    await this.durableLog.close();
  }

  // ---- ClientPortMember -------------------------------------------------------------------

  write(cmd: WriteCommand): Promise<StoreEvent> {
    if (!this.isRaftLeader()) return Promise.reject(this.raftInternalError());
    const applied = this.propose(cmd);
    if (testBreak() !== 'ack-before-commit') return applied;
    applied.catch(() => undefined);
    return Promise.resolve(earlyAckEvent(cmd, this.store.index + 1));
  }

  /** ReadIndex: on a follower the core asks the leader for its commit index (no log entry). */
  readBarrier(): Promise<void> {
    if (testBreak() === 'local-quorum-read') return Promise.resolve();
    if (!this.serving || this.softState.lead === '') return Promise.reject(this.raftInternalError());
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

  /** On every follower redirect: looked up by id, not by listing and sorting every member. */
  leader(): MemberInfo | null {
    const lead = this.softState.lead;
    if (lead === '') return null;
    const registered = this.membership.get(lead);
    if (registered !== undefined) return this.memberInfoOf(registered);
    return lead === this.self.id ? this.self : null;
  }

  /** Every member, leader first (0.4.6's `/v2/machines` order), then by name. */
  members(): readonly MemberInfo[] {
    const registered = this.membership.list();
    if (registered.length === 0) return [this.self];
    const infos = registered.map((m) => this.memberInfoOf(m));
    const lead = this.softState.lead;
    return infos.sort((a, b) => {
      if (a.id === lead || b.id === lead) return a.id === lead ? -1 : 1;
      return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1;
    });
  }

  selfStats(): object {
    const leaderId = this.softState.lead === '' ? null : this.softState.lead;
    return selfStatsJson({
      ...(this.transport?.appendStats() ?? { recvAppendRequestCnt: 0, sendAppendRequestCnt: 0 }),
      name: this.self.name,
      id: this.self.id,
      isLeader: this.isRaftLeader(),
      startTimeMs: this.startTimeMs,
      leaderId,
      leaderSinceMs: this.leaderSinceMs,
      nowMs: this.clock.nowMs(),
    });
  }

  leaderStats(): object {
    const transport = this.transport;
    const followers = transport === null ? [] :
      this.membership.list().filter((m) => m.id !== this.self.id).map((m) => [m.id, transport.followerStats(m.id)] as const);
    return leaderStatsJson(this.self.id, Object.fromEntries(followers));
  }

  healthy(): boolean {
    return this.serving && !this.stopped && this.softState.lead !== '';
  }

  /** What the peer port serves for this member. */
  peerPortSource(): PeerPortSource {
    return { name: this.self.name, clusterConfigJson: () => this.clusterConfigJson() };
  }

  /** The raft connections arriving on the peer port (null: this member has no transport). */
  peerTransport(): PeerTransport | null {
    return this.transport;
  }

  /** The committed cluster config (/_etcd/config), or the configured one before it commits. */
  clusterConfigJson(): string {
    return this.committedClusterConfigJson() ?? JSON.stringify(this.configuredClusterConfig());
  }

  clusterConfig(): ClusterConfigJson {
    const text = this.clusterConfigJson();
    try {
      const parsed = JSON.parse(text) as Partial<ClusterConfigJson>;
      const fallback = this.configuredClusterConfig();
      return {
        activeSize: typeof parsed.activeSize === 'number' ? parsed.activeSize : fallback.activeSize,
        removeDelay: typeof parsed.removeDelay === 'number' ? parsed.removeDelay : fallback.removeDelay,
        syncInterval: typeof parsed.syncInterval === 'number' ? parsed.syncInterval : fallback.syncInterval,
      };
    } catch {
      return this.configuredClusterConfig();
    }
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

  // ---- membership -------------------------------------------------------------------------

  /** Voters with their names, for the leader's membership monitor. */
  voters(): ReadonlyArray<{ id: string; name: string }> {
    return this.confState.voters.map((id) => ({ id, name: this.membership.get(id)?.name ?? '' }));
  }

  /** Milliseconds since the last message from `id`; null if never heard since this member led. */
  sinceLastContactMs(id: string): number | null {
    const heard = this.lastHeardMs.get(id);
    if (heard === undefined || heard < this.leadershipStartedMs) return null;
    return this.clock.monotonicMs() - heard;
  }

  /** Monotonic time this member last became leader. */
  leadershipStartedAtMs(): number {
    return this.leadershipStartedMs;
  }

  memberByName(name: string): MemberInfo | null {
    const found = this.membership.byName(name);
    return found === undefined ? null : this.memberInfoOf(found);
  }

  memberById(id: string): MemberInfo | null {
    const found = this.membership.get(id);
    return found === undefined ? null : this.memberInfoOf(found);
  }

  isRemovedMember(id: string): boolean {
    return this.membership.isRemoved(id);
  }

  /**
   * The leader's side of the 0.4.6 join (spec §9.3): a name that is already a member is 105, a
   * peer URL of another name is 109, a full cluster is 103, anything else is added.
   *
   * 0.4.6 accepted a known name as a rejoin. Here a joiner always has an empty data dir (a
   * restart never joins), so a rejoin would bring the old Raft id back with no log and no vote
   * record — it could vote twice in a term or ack entries it never stored. The operator removes
   * the old member first, or starts the new one under another name. The one exception is the
   * same joiner asking again (its answer was lost, e.g. a timeout while the add committed): its
   * joinId names the join this leader admitted, and it gets the same id back.
   */
  join(request: JoinRequest): Promise<JoinAccepted> {
    // One join at a time, checked against the membership the previous one left: machines
    // started together (a discovery token) would otherwise all pass the activeSize check.
    const next = this.joinChain.then(() => this.admitJoin(request));
    this.joinChain = next.catch(() => undefined);
    return next;
  }

  private async admitJoin(request: JoinRequest): Promise<JoinAccepted> {
    this.requireLeader();
    const known = this.membership.byName(request.name);
    if (known !== undefined) {
      if (request.joinId !== undefined && this.admittedJoins.get(request.joinId) === known.id) return { memberId: known.id, commitIndex: this.hardState.commit };
      throw new EtcdError(ErrorCode.NodeExist, `member ${request.name} (${known.id}) is already in the cluster`, this.store.index);
    }
    const urlOwner = this.membership.byPeerUrl(request.peerUrl);
    if (urlOwner !== undefined) {
      throw new EtcdError(ErrorCode.ExistingPeerAddr, request.peerUrl, this.store.index);
    }
    if (this.membership.size >= this.clusterConfig().activeSize) throw new EtcdError(ErrorCode.NoMorePeer, '', this.store.index);
    const memberId = this.newMemberId(request.name, [request.peerUrl]);
    if (request.joinId !== undefined) this.rememberJoin(request.joinId, memberId);
    await this.addMember(memberId, { name: request.name, peerUrls: [request.peerUrl], clientUrls: [request.clientUrl] });
    return { memberId, commitIndex: this.hardState.commit };
  }

  private rememberJoin(joinId: string, memberId: string): void {
    const MAX_REMEMBERED_JOINS = 64;
    this.admittedJoins.set(joinId, memberId);
    for (const oldest of this.admittedJoins.keys()) {
      if (this.admittedJoins.size <= MAX_REMEMBERED_JOINS) break;
      this.admittedJoins.delete(oldest);
    }
  }

  /** 3.4's `POST /v2/members`: an unnamed member with these peer URLs (it names itself on start). */
  async addMemberByPeerUrls(peerUrls: readonly string[]): Promise<MemberInfo> {
    this.requireLeader();
    for (const url of peerUrls) {
      if (this.membership.byPeerUrl(url) !== undefined) throw new MemberConflictError(`peerURL exists`);
    }
    const memberId = this.newMemberId('', peerUrls);
    await this.addMember(memberId, { name: '', peerUrls, clientUrls: [] });
    return { id: memberId, name: '', peerUrls: [...peerUrls], clientUrls: [] };
  }

  /** New peer URLs (and client URLs, when known) for a member, through the log (3.4's member update). */
  updateMember(id: string, peerUrls: readonly string[], clientUrls: readonly string[] = []): Promise<void> {
    this.requireLeader();
    const member = this.membership.get(id);
    if (member === undefined) return Promise.reject(new EtcdError(ErrorCode.KeyNotFound, id, this.store.index));
    for (const url of peerUrls) {
      const owner = this.membership.byPeerUrl(url);
      if (owner !== undefined && owner.id !== id) return Promise.reject(new MemberConflictError('peerURL exists'));
    }
    // An add of a known id changes nothing in Raft's configuration; applying it updates the
    // membership, the transport's address and (with client URLs) the machine record.
    return this.proposeMemberChange({ type: 'addNode', nodeId: id }, { name: member.name, peerUrls, clientUrls, reason: 'explicit' });
  }

  /** Removes a member through the log; resolves once the removal is applied here. */
  removeMember(id: string, reason: RemovalReason): Promise<void> {
    this.requireLeader();
    const member = this.membership.get(id);
    if (member === undefined) return Promise.reject(new EtcdError(ErrorCode.KeyNotFound, id, this.store.index));
    return this.proposeMemberChange(
      { type: 'removeNode', nodeId: id },
      { name: member.name, peerUrls: member.peerUrls, clientUrls: [], reason },
    );
  }

  private addMember(id: string, info: { name: string; peerUrls: readonly string[]; clientUrls: readonly string[] }): Promise<void> {
    return this.proposeMemberChange({ type: 'addNode', nodeId: id }, { ...info, reason: 'explicit' });
  }

  private proposeMemberChange(
    change: { type: 'addNode' | 'removeNode'; nodeId: string },
    info: Omit<MemberChangeContext, 'requestId' | 'nowMs'>,
  ): Promise<void> {
    const run = async (): Promise<void> => {
      this.requireLeader();
      const requestId = this.nextRequestId();
      const context = encodeMemberChangeContext({ ...info, requestId, nowMs: this.clock.nowMs() });
      const applied = this.confChangeWaiters.wait(requestId, this.deadlineMs());
      const cc: ConfChange = { type: change.type, nodeId: change.nodeId, context };
      try {
        this.raft.proposeConfChange(cc);
      } catch (error) {
        if (!(error instanceof ProposalDroppedError)) throw error;
        this.confChangeWaiters.reject(requestId, this.raftInternalError());
      }
      this.scheduleReady();
      await applied;
    };
    const next = this.confChangeChain.then(run, run);
    this.confChangeChain = next.catch(() => undefined);
    return next;
  }

  private newMemberId(name: string, peerUrls: readonly string[]): string {
    let salt = this.deps.clusterId;
    let id = memberIdFor(name, peerUrls, salt);
    // A removed id never comes back, so a member added again with the same name and URL needs a new one.
    for (let attempt = 1; this.membership.isRemoved(id) || this.membership.get(id) !== undefined; attempt++) {
      salt = `${this.deps.clusterId}#${this.clock.nowMs()}#${attempt}`;
      id = memberIdFor(name, peerUrls, salt);
    }
    return id;
  }

  private requireLeader(): void {
    if (!this.serving || !this.isRaftLeader()) throw this.raftInternalError();
  }

  private memberInfoOf(member: RegisteredMember): MemberInfo {
    if (member.id === this.self.id) return { ...this.self, peerUrls: member.peerUrls.length > 0 ? member.peerUrls : this.self.peerUrls };
    const record = member.name === '' ? undefined : this.machineRecord(member.name);
    return {
      id: member.id,
      name: member.name,
      peerUrls: member.peerUrls,
      clientUrls: record === undefined ? [] : [record.clientUrl],
    };
  }

  private machineRecord(name: string): { clientUrl: string; peerUrl: string } | undefined {
    const value = this.readKey(`${MACHINES_DIR}/${name}`);
    return value === undefined ? undefined : parseMachineRecord(value);
  }

  private readKey(key: string): string | undefined {
    return this.store.peekValue(key);
  }

  private committedClusterConfigJson(): string | undefined {
    return this.readKey(CLUSTER_CONFIG_KEY);
  }

  private configuredClusterConfig(): ClusterConfigJson {
    const { activeSize, removeDelay, syncInterval } = this.config.clusterConfig;
    return { activeSize, removeDelay, syncInterval };
  }

  private transportHandlers(): TransportHandlers {
    return {
      onMessage: (message) => this.onPeerMessage(message),
      onUnreachable: (peer) => {
        this.raft.reportUnreachable(peer);
        this.scheduleReady();
      },
      onSnapshotStatus: (peer, status) => {
        this.raft.reportSnapshot(peer, status);
        this.scheduleReady();
      },
      onPeerSeen: (peer, peerUrls) => {
        // A member that joined after us, or whose add we have not applied yet: answer it.
        if (this.membership.get(peer) === undefined && !this.membership.isRemoved(peer) && peerUrls.length > 0) {
          this.transport?.setPeer(peer, peerUrls);
        }
      },
      isRemoved: (peer) => this.membership.isRemoved(peer),
      removalReason: (peer) => this.membership.removalReason(peer) ?? '',
      onRemovedFromCluster: (reason) => this.leaveCluster(reason === 'explicit' || reason === 'auto' ? reason : (this.membership.removalReason(this.self.id) ?? 'auto')),
    };
  }

  private onPeerMessage(message: Message): void {
    if (this.stopped) return;
    this.lastHeardMs.set(message.from, this.clock.monotonicMs());
    this.raft.step(message);
    this.scheduleReady();
  }

  /** Gives the transport every other member's address (at start and after a snapshot). */
  private connectPeers(): void {
    const transport = this.transport;
    if (transport === null) return;
    for (const member of this.membership.list()) {
      if (member.id !== this.self.id && member.peerUrls.length > 0) transport.setPeer(member.id, member.peerUrls);
    }
  }

  // ---- proposing --------------------------------------------------------------------------

  /** Proposes through the local core: on a follower the core forwards it to the leader. */
  private propose(command: StoreCommand): Promise<StoreEvent> {
    if (this.stopped || this.softState.lead === '') return Promise.reject(this.raftInternalError());
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

  /**
   * Each member publishes its own machine record (`/_etcd/machines/<name>`) through the log, and
   * the leader seeds `/_etcd/config` once; the founder of a cluster of one does both before it
   * serves, machine record first (indexes 1 and 2, as the tutorial shows).
   */
  private async ensureRegistered(): Promise<void> {
    const clientUrl = this.self.clientUrls[0];
    const peerUrl = this.self.peerUrls[0];
    assert(clientUrl !== undefined && peerUrl !== undefined, 'a member needs a client and a peer URL');
    const nowMs = this.clock.nowMs();
    const record = machineRecordValue(clientUrl, peerUrl);
    const machineKey = `${MACHINES_DIR}/${this.self.name}`;
    if (this.readKey(machineKey) !== record) {
      await this.proposeUnlessExists({ op: 'set', key: machineKey, value: record, dir: false, expireAtMs: null, refresh: false, nowMs });
    }
    // Only a leader that committed in its term and applied its log sees every acknowledged admin
    // change, so "missing" is true; a set, as 0.4.6 seeded it (the store stats count it so).
    if (this.isRaftLeader() && this.hasCommittedOwnTermEntry() && this.appliedIndex >= this.hardState.commit && this.committedClusterConfigJson() === undefined) {
      await this.propose({ op: 'set', key: CLUSTER_CONFIG_KEY, value: JSON.stringify(this.configuredClusterConfig()), dir: false, expireAtMs: null, refresh: false, nowMs });
    }
  }

  /** 105 means the record was already there unchanged (skipped at apply): done. */
  private async proposeUnlessExists(command: WriteCommand): Promise<void> {
    try {
      await this.propose(command);
    } catch (error) {
      if (!(error instanceof EtcdError && error.errorCode === ErrorCode.NodeExist)) throw error;
    }
  }

  /** Retried every tick until it sticks: a member may start long before the cluster has a leader. */
  private maybeRegister(): void {
    if (!this.serving || this.registrationInFlight || this.softState.lead === '' || this.removed) return;
    // A store behind its own log would see its record (or the config) missing when it is not.
    if (this.appliedIndex < this.hardState.commit) return;
    if (this.membership.get(this.self.id) === undefined) return; // not (yet) a member: nothing to publish
    const clientUrl = this.self.clientUrls[0];
    const peerUrl = this.self.peerUrls[0];
    if (clientUrl === undefined || peerUrl === undefined) return;
    const published = this.readKey(`${MACHINES_DIR}/${this.self.name}`) === machineRecordValue(clientUrl, peerUrl);
    const configMissing = this.isRaftLeader() && this.hasCommittedOwnTermEntry() && this.committedClusterConfigJson() === undefined;
    if (published && !configMissing) return;
    this.registrationInFlight = true;
    this.ensureRegistered().then(
      () => (this.registrationInFlight = false),
      () => (this.registrationInFlight = false), // no leader or timed out: the next tick retries
    );
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
    this.confChangeWaiters.expire(nowMs, () => this.raftInternalError());
    this.maybeRegister();
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
    if (rd.snapshot !== undefined) await this.durableLog.applySnapshot(rd.snapshot);
    const persisted = this.durableLog.save(rd.hardState, rd.entries, rd.mustSync);
    // Reported (X-Raft-Index/Term) before it is durable: a commit index is a fact once known.
    if (rd.hardState !== undefined) this.hardState = rd.hardState;
    // The leader's appends go out while its own fsync runs; votes and acknowledgements promise
    // durable state, so they wait for it.
    const early = rd.mustSync ? rd.messages.filter(mayPrecedeLocalPersist) : rd.messages;
    this.send(early);
    if (rd.snapshot !== undefined) this.installSnapshot(rd.snapshot);
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
    if (rd.mustSync) this.send(rd.messages.filter((m) => !mayPrecedeLocalPersist(m)));
    this.holdForAnswered(answered);
    this.pendingReads.push(...rd.readStates);
    this.raft.advance(rd);
    this.answerReads();
    if (this.stopped) return;
    await this.maybeSnapshot();
  }

  private send(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    // A member without a transport can only be a member of one, whose core never sends.
    assert(this.transport !== null, () => `no transport for ${messages.map((m) => `${m.type} to ${m.to}`).join(', ')}`);
    this.transport.send(messages);
  }

  private onSoftState(soft: SoftState): void {
    if (soft.lead !== this.softState.lead) {
      this.leaderSinceMs = this.clock.nowMs();
      if (soft.lead !== '') {
        this.notice(`${soft.lead === this.self.id ? 'this member' : `member ${soft.lead}`} is the leader`);
        // Publish (or seed the config) as soon as someone can commit it, not a tick later.
        setImmediate(() => this.maybeRegister());
      }
    }
    if (soft.raftState === 'leader' && this.softState.raftState !== 'leader') this.leadershipStartedMs = this.clock.monotonicMs();
    if (soft.raftState !== 'leader') this.syncInFlight = false;
    this.softState = soft;
  }

  /** A snapshot from the leader replaces the store and the membership (spec §9.5). */
  private installSnapshot(snapshot: Snapshot): void {
    const { storeData, membership } = decodeMemberSnapshot(snapshot.data);
    // In place: the watchers stay, and get what the snapshot's history holds for them.
    this.store.restoreFrom(storeData);
    this.membership = membership;
    this.confState = snapshot.metadata.confState;
    this.appliedIndex = snapshot.metadata.index;
    this.snapshotIndex = snapshot.metadata.index;
    this.connectPeers();
    this.notice(`installed a snapshot from the leader at index ${snapshot.metadata.index}`);
    if (this.membership.isRemoved(this.self.id)) this.leaveCluster(this.membership.removalReason(this.self.id) ?? 'auto');
  }

  /** Applies one committed entry; returns 1 if it answered a writer of this run, else 0. */
  private applyEntry(entry: Entry): number {
    assert(entry.index === this.appliedIndex + 1, () => `applying index ${entry.index} after ${this.appliedIndex}`);
    let answered = 0;
    if (entry.type === 'confChange') {
      this.applyMemberChange(decodeConfChange(entry.data));
    } else if (entry.data.length > 0) {
      answered = this.proposedRequests.has(entry.data) ? 1 : 0;
      this.applyRequest(entry.data);
    }
    this.appliedIndex = entry.index;
    return answered;
  }

  /**
   * A membership change, applied identically on every member: the core's configuration, the
   * membership, the transport's peers, and (when the change carries them) the machine records.
   */
  private applyMemberChange(cc: ConfChange): void {
    this.confState = this.raft.applyConfChange(cc);
    const context = cc.context.length > 0 ? decodeMemberChangeContext(cc.context) : null;
    if (cc.type === 'removeNode') {
      const reason = context?.reason ?? 'explicit';
      const gone = this.membership.remove(cc.nodeId, reason);
      this.transport?.removePeer(cc.nodeId);
      if (gone !== undefined && gone.name !== '' && context !== null) this.deleteMachineRecord(gone.name, context.nowMs);
      this.notice(`member ${cc.nodeId} (${gone?.name ?? '?'}) removed from the cluster (${reason})`);
      if (cc.nodeId === this.self.id) this.leaveCluster(reason);
    } else {
      const name = context?.name ?? (cc.nodeId === this.self.id ? this.self.name : '');
      const peerUrls = context?.peerUrls ?? (cc.nodeId === this.self.id ? this.self.peerUrls : []);
      const updated = this.membership.get(cc.nodeId) !== undefined;
      this.membership.add({ id: cc.nodeId, name, peerUrls });
      if (cc.nodeId !== this.self.id && peerUrls.length > 0) this.transport?.setPeer(cc.nodeId, peerUrls);
      const clientUrl = context?.clientUrls[0];
      const peerUrl = peerUrls[0];
      if (context !== null && clientUrl !== undefined && peerUrl !== undefined && name !== '') {
        this.applyInternal({ op: 'set', key: `${MACHINES_DIR}/${name}`, value: machineRecordValue(clientUrl, peerUrl), dir: false, expireAtMs: null, refresh: false, nowMs: context.nowMs });
      }
      if (this.membership.size > 1) this.notice(`member ${cc.nodeId} (${name === '' ? 'unnamed' : name}) ${updated ? `now at ${peerUrls.join(',')}` : 'added to the cluster'}`);
    }
    if (context !== null && context.requestId !== '') this.confChangeWaiters.resolve(context.requestId, undefined);
  }

  private deleteMachineRecord(name: string, nowMs: number): void {
    const key = `${MACHINES_DIR}/${name}`;
    if (this.readKey(key) === undefined) return;
    this.applyInternal({ op: 'delete', key, dir: false, recursive: false, nowMs });
  }

  /** A store write the member itself derives from an applied entry; its errors are nobody's answer. */
  private applyInternal(command: WriteCommand): void {
    try {
      this.store.apply(command);
    } catch (error) {
      if (!(error instanceof EtcdError)) throw error;
    }
  }

  /** Removed: stop taking part (the core no longer counts us) and let the owner decide what follows. */
  private leaveCluster(reason: RemovalReason): void {
    if (this.removed) return;
    this.removed = true;
    this.serving = false;
    this.notice(reason === 'explicit' ? 'this member was removed from the cluster' : 'this member was removed from the cluster by the leader (removeDelay/activeSize)');
    setImmediate(() => this.deps.onRemoved?.(reason));
  }

  private applyRequest(data: Uint8Array): void {
    const { requestId, command } = this.proposedRequests.get(data) ?? decodeLogRequest(data);
    if (command.op === 'sync') {
      this.store.applySync(command);
      this.syncInFlight = false;
      return;
    }
    if (command.op === 'set' && command.key.startsWith(`${MACHINES_DIR}/`) && this.store.peekValue(command.key) === command.value) {
      // A member re-publishing an unchanged record (its store lagged when it checked): no new
      // index, decided from the applied state alone, so every member decides the same.
      this.writeWaiters.reject(requestId, new EtcdError(ErrorCode.NodeExist, command.key, this.store.index));
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
    if (command.op === 'set' && command.key.startsWith(`${MACHINES_DIR}/`)) this.adoptMachineRecord(command.key.slice(MACHINES_DIR.length + 1), command.value);
    this.writeWaiters.resolve(requestId, event);
  }

  /**
   * A published machine record names its member: one added by peer URLs alone (3.4's member
   * add) takes that name, and a member that came back on a new peer address (its record says so)
   * is reached there from now on. Derived from the applied log, so every member agrees.
   */
  private adoptMachineRecord(name: string, recordValue: string): void {
    const record = parseMachineRecord(recordValue);
    if (record === undefined) return;
    const unnamed = this.membership.byPeerUrl(record.peerUrl);
    if (unnamed !== undefined && unnamed.name === '' && this.membership.byName(name) === undefined) {
      this.membership.add({ id: unnamed.id, name, peerUrls: unnamed.peerUrls });
      return;
    }
    const named = this.membership.byName(name);
    const urlOwner = this.membership.byPeerUrl(record.peerUrl);
    if (named !== undefined && !named.peerUrls.includes(record.peerUrl) && urlOwner === undefined) {
      this.membership.add({ id: named.id, name, peerUrls: [record.peerUrl] });
      if (named.id !== this.self.id) this.transport?.setPeer(named.id, [record.peerUrl]);
    }
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
      data: encodeMemberSnapshot(this.store.save(), this.membership),
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

  private isOnlyVoter(): boolean {
    return this.confState.voters.length === 1 && this.confState.voters[0] === this.self.id;
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
    this.confChangeWaiters.rejectAll(() => this.raftInternalError());
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

/** 3.4's member API: a peer URL already used by a member (409). */
export class MemberConflictError extends Error {
  override name = 'MemberConflictError';
}
