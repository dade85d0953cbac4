/**
 * One simulation run: a cluster in one process, in virtual time, driven by one seed. A faulty
 * phase interleaves ticks, message deliveries, client work and faults at random, checking the
 * safety properties after every step; then a liveness phase heals everything and requires a
 * leader, a committed barrier applied everywhere and an answered read within a bound of ticks.
 */
import { AssertionError } from '../../src/common/assert.js';
import { SeededPrng } from '../../src/common/prng.js';
import { ProposalDroppedError, type ConfChange, type ConfState, type Entry, type Message, type NodeId } from '../../src/raft/index.js';
import { entryKey } from './app.js';
import { SafetyChecker, SimViolation, type CheckName } from './checker.js';
import { type SimConfig } from './config.js';
import { SimNetwork } from './network.js';
import { SimNode, bootstrapImage, describeMessage, emptyImage, type NodeEnv } from './node.js';
import { Trace } from './trace.js';

export interface SimResult {
  readonly seed: number;
  readonly members: number;
  readonly ok: boolean;
  readonly failure?: { readonly check: CheckName; readonly message: string; readonly step: number; readonly tick: number };
  readonly stats: SimStats;
  readonly trace: readonly string[];
}

export interface SimStats {
  steps: number;
  ticks: number;
  livenessTicks: number;
  proposals: number;
  committed: number;
  leadersElected: number;
  crashes: number;
  restarts: number;
  pauses: number;
  partitions: number;
  snapshots: number;
  confChanges: number;
  readsAnswered: number;
  messagesSent: number;
  messagesDropped: number;
  messagesDuplicated: number;
  tornWrites: number;
  lostWrites: number;
  checks: number;
}

type Action = (sim: Simulation) => void;

/** Relative weights of what one step of the faulty phase does; faults are scaled per seed. */
const WORK_ACTIONS: readonly (readonly [number, Action])[] = [
  [50, (s) => s.deliverOne()],
  [8, (s) => s.tickAll()],
  [5, (s) => s.proposeRandom()],
  [3, (s) => s.readRandom()],
  [0.8, (s) => s.snapshotRandom()],
  [0.5, (s) => s.changeMembership()],
  [0.15, (s) => s.transferLeadership()],
];
const FAULT_ACTIONS: readonly (readonly [number, Action])[] = [
  [0.2, (s) => s.crashRandom()],
  [0.15, (s) => s.pauseRandom()],
  [0.2, (s) => s.partitionRandom()],
];
/** Per-seed flow-control limits: a tiny message size sends one entry per append. */
const MESSAGE_SIZE_LIMITS_BYTES = [1, 16, 64, 1024 * 1024] as const;
const INFLIGHT_LIMITS = [1, 2, 4, 256] as const;
/** Some seeds are calm, some stormy: the seed picks how often faults strike. */
const FAULT_INTENSITIES = [0.25, 0.5, 1, 2, 4] as const;

export class Simulation {
  readonly prng: SeededPrng;
  readonly network: SimNetwork;
  readonly checker: SafetyChecker;
  readonly trace: Trace;
  readonly nodes = new Map<NodeId, SimNode>();
  private tick = 0;
  private step = 0;
  private nextProposal = 0;
  private nextNodeNumber: number;
  private partitionUntilTick = 0;
  private faultsEnabled = true;
  private readonly env: NodeEnv;
  readonly stats: SimStats = {
    steps: 0, ticks: 0, livenessTicks: 0, proposals: 0, committed: 0, leadersElected: 0, crashes: 0, restarts: 0,
    pauses: 0, partitions: 0, snapshots: 0, confChanges: 0, readsAnswered: 0, messagesSent: 0, messagesDropped: 0,
    messagesDuplicated: 0, tornWrites: 0, lostWrites: 0, checks: 0,
  };
  private readonly actions: readonly (readonly [number, Action])[];
  private readonly totalWeight: number;
  /** The liveness phase's barrier: its payload, and the index where it was applied. */
  private barrier: { data: string; index: number } | undefined;

  constructor(readonly config: SimConfig) {
    this.prng = new SeededPrng(config.seed);
    this.trace = new Trace(config.trace, Math.max(400, config.traceLines));
    this.checker = new SafetyChecker(config.checkDurability, config.checkCommitRule);
    this.network = new SimNetwork(this.prng.fork(), {
      dropProbability: config.dropProbability,
      duplicateProbability: config.duplicateProbability,
      maxDelayTicks: config.maxDelayTicks,
    }, (m) => this.onLostInFlight(m));
    this.env = this.makeEnv();
    const seededIntensity = FAULT_INTENSITIES[this.prng.int(FAULT_INTENSITIES.length)] ?? 1;
    const intensity = config.faultIntensity ?? seededIntensity;
    this.actions = [...WORK_ACTIONS, ...FAULT_ACTIONS.map(([w, a]) => [w * intensity, a] as const)];
    this.totalWeight = this.actions.reduce((sum, [w]) => sum + w, 0);
    const voters = Array.from({ length: config.members }, (_, i) => String(i + 1));
    this.nextNodeNumber = config.members + 1;
    for (const id of voters) this.nodes.set(id, new SimNode(id, this.prng.fork(), this.env, bootstrapImage(voters)));
  }

  private makeEnv(): NodeEnv {
    const config = this.config;
    return {
      maxSizePerMsgBytes: MESSAGE_SIZE_LIMITS_BYTES[this.prng.int(MESSAGE_SIZE_LIMITS_BYTES.length)] ?? 64,
      maxInflightMsgs: INFLIGHT_LIMITS[this.prng.int(INFLIGHT_LIMITS.length)] ?? 4,
      network: this.network,
      checker: this.checker,
      trace: this.trace,
      electionTicks: config.electionTicks,
      heartbeatTicks: config.heartbeatTicks,
      testingBugs: {
        commitOldTermByCounting: config.bug === 'commit-old-term-by-counting',
        grantSecondVoteInTerm: config.bug === 'grant-second-vote-in-term',
      },
      sendBeforePersist: config.bug === 'send-before-persist',
      commitBeforeEntries: config.bug === 'commit-before-entries',
      nowTick: () => this.tick,
      faultsEnabled: () => this.faultsEnabled,
      onConfChangeApplied: (by, cc, confState) => this.onConfChangeApplied(by, cc, confState),
      onNormalApplied: (by, entry) => this.onNormalApplied(by, entry),
    };
  }

  run(): SimResult {
    try {
      for (this.step = 0; this.step < this.config.steps; this.step++) this.runStep();
      this.runLiveness();
      return this.result(undefined);
    } catch (err) {
      if (err instanceof SimViolation) return this.result(err.check, err.message);
      if (err instanceof AssertionError) {
        // An assert inside src/raft is the core's own invariant; anywhere else it is the harness's.
        const inCore = (err.stack ?? '').split('\n').slice(1, 3).some((frame) => frame.includes('/src/raft/'));
        return this.result(inCore ? 'core-assertion' : 'sim-assertion', `${err.message}\n${err.stack ?? ''}`);
      }
      throw err;
    }
  }

  private result(check: CheckName | undefined, message = ''): SimResult {
    const stats = this.collectStats();
    const base = { seed: this.config.seed, members: this.config.members, stats, trace: this.trace.tail(this.config.traceLines) };
    if (check === undefined) return { ...base, ok: true };
    return { ...base, ok: false, failure: { check, message, step: this.step, tick: this.tick } };
  }

  private collectStats(): SimStats {
    const s = this.stats;
    s.steps = this.step;
    s.messagesSent = this.network.sent;
    s.messagesDropped = this.network.dropped;
    s.messagesDuplicated = this.network.duplicated;
    s.committed = this.checker.committedCount();
    s.leadersElected = this.checker.leaderTermCount();
    s.checks = this.checker.checksRun;
    s.tornWrites = 0;
    s.lostWrites = 0;
    s.readsAnswered = 0;
    for (const node of this.nodes.values()) {
      s.tornWrites += node.disk.tornWrites;
      s.lostWrites += node.disk.lostWrites;
      s.readsAnswered += node.readsAnswered;
    }
    return s;
  }

  private runStep(): void {
    let pick = this.prng.next() * this.totalWeight;
    for (const [weight, action] of this.actions) {
      pick -= weight;
      if (pick < 0) {
        action(this);
        break;
      }
    }
    this.drainAll();
    this.checkStep();
  }

  // ---- the per-step checks ----

  /** Leader Completeness for every node that leads now, against what was committed this step. */
  private checkStep(): void {
    for (const node of this.nodes.values()) {
      if (node.alive && !node.retired && node.raftState === 'leader') this.checker.checkLeaderLog(node.id, node.hardState.term, node.log, false);
    }
    this.checker.endStep();
  }

  // ---- driving the nodes ----

  runningNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.canRun(this.tick));
  }

  private drainAll(): void {
    for (const node of this.nodes.values()) {
      if (node.alive && !node.retired) node.drain();
    }
  }

  deliverOne(): boolean {
    const m = this.network.takeDeliverable(this.tick, (id) => this.nodes.get(id)?.canRun(this.tick) === true);
    if (m === undefined) return false;
    const target = this.nodes.get(m.to);
    if (target === undefined) return true;
    this.trace.add(this.tick, () => `recv ${describeMessage(m)}`);
    target.raw.step(m);
    if (m.type === 'MsgSnap') this.reportSnapshotDelivered(m.from, m.to);
    return true;
  }

  /** The transport tells the sender its snapshot arrived, so the follower's progress resumes. */
  private reportSnapshotDelivered(from: NodeId, to: NodeId): void {
    const sender = this.nodes.get(from);
    if (sender !== undefined && sender.alive && !sender.retired) sender.raw.reportSnapshot(to, 'finish');
  }

  /** A snapshot that never arrived: the transport reports the failure so the leader retries. */
  private onLostInFlight(m: Message): void {
    if (m.type !== 'MsgSnap') return;
    const sender = this.nodes.get(m.from);
    if (sender !== undefined && sender.alive && !sender.retired) sender.raw.reportSnapshot(m.to, 'failure');
  }

  tickAll(): void {
    this.tick++;
    this.stats.ticks++;
    if (this.partitionUntilTick !== 0 && this.tick >= this.partitionUntilTick) this.healPartition();
    for (const node of this.nodes.values()) {
      if (node.retired) continue;
      if (!node.alive && this.tick >= node.downUntilTick) this.restart(node);
      if (node.canRun(this.tick)) node.raw.tick();
    }
  }

  private restart(node: SimNode): void {
    node.restart();
    this.stats.restarts++;
  }

  // ---- workload ----

  private pickRunning(preferLeader: boolean): SimNode | undefined {
    const running = this.runningNodes();
    if (preferLeader && this.prng.int(10) < 8) {
      const leaders = running.filter((n) => n.raftState === 'leader');
      if (leaders.length > 0) return leaders[this.prng.int(leaders.length)];
    }
    return running.length === 0 ? undefined : running[this.prng.int(running.length)];
  }

  /** One to four proposals in the same step: the leader batches them into one append. */
  proposeRandom(): void {
    const node = this.pickRunning(true);
    if (node === undefined) return;
    const count = 1 + this.prng.int(4);
    for (let i = 0; i < count; i++) {
      if (this.propose(node, `p${this.nextProposal++}`)) this.stats.proposals++;
    }
  }

  private propose(node: SimNode, data: string): boolean {
    try {
      node.raw.propose(new TextEncoder().encode(data));
      this.trace.add(this.tick, () => `node ${node.id} propose ${data}`);
      return true;
    } catch (err) {
      if (err instanceof ProposalDroppedError) return false;
      throw err;
    }
  }

  readRandom(): void {
    const node = this.pickRunning(true);
    if (node === undefined) return;
    const ctx = `r${this.nextProposal++}`;
    try {
      node.readIndex(ctx);
      this.trace.add(this.tick, () => `node ${node.id} readIndex ${ctx}`);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      node.reads.delete(ctx);
    }
  }

  snapshotRandom(): void {
    const node = this.pickRunning(false);
    if (node !== undefined && node.takeSnapshot(this.prng.int(6))) this.stats.snapshots++;
  }

  /**
   * One membership change through the leader: promote a learner, or add a node (as a voter or
   * as a learner), or remove one. The voter count stays within one of the configured size
   * (never below 3 before a removal, so two voters always remain).
   */
  changeMembership(): void {
    if (!this.config.membershipChanges) return;
    const leader = this.pickRunning(true);
    if (leader === undefined || leader.raftState !== 'leader') return;
    const cc = this.chooseConfChange(leader.app.confState);
    try {
      leader.raw.proposeConfChange(cc);
      this.trace.add(this.tick, () => `node ${leader.id} propose ${cc.type} ${cc.nodeId}`);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
  }

  private chooseConfChange({ voters, learners }: ConfState): ConfChange {
    const context = new Uint8Array(0);
    const learner = learners[this.prng.int(Math.max(1, learners.length))];
    const canAddVoter = voters.length <= this.config.members;
    if (learner !== undefined && canAddVoter && this.prng.int(3) > 0) return { type: 'addNode', nodeId: learner, context };
    const canRemove = voters.length >= Math.max(3, this.config.members);
    if (canRemove && (!canAddVoter || this.prng.int(2) === 0)) {
      const members = [...voters, ...learners];
      return { type: 'removeNode', nodeId: members[this.prng.int(members.length)] ?? '', context };
    }
    const type = learners.length === 0 && this.prng.int(2) === 0 ? 'addLearner' : 'addNode';
    return { type, nodeId: String(this.nextNodeNumber++), context };
  }

  transferLeadership(): void {
    const leader = this.pickRunning(true);
    if (leader === undefined || leader.raftState !== 'leader') return;
    const others = leader.app.confState.voters.filter((id) => id !== leader.id);
    const target = others[this.prng.int(others.length)];
    if (target === undefined) return;
    this.trace.add(this.tick, () => `node ${leader.id} transfer leadership to ${target}`);
    leader.raw.transferLeader(target);
  }

  private onConfChangeApplied(by: NodeId, cc: ConfChange, confState: ConfState): void {
    this.stats.confChanges++;
    if ((cc.type === 'addNode' || cc.type === 'addLearner') && !this.nodes.has(cc.nodeId)) {
      this.nodes.set(cc.nodeId, new SimNode(cc.nodeId, this.prng.fork(), this.env, emptyImage()));
      this.trace.add(this.tick, () => `node ${cc.nodeId} JOINS (empty)`);
    }
    // A member that applied its own removal shuts down, as a removed etcd member does.
    if (cc.type === 'removeNode' && cc.nodeId === by && !confState.voters.includes(by)) {
      const node = this.nodes.get(by);
      if (node !== undefined) this.retire(node);
    }
  }

  private retire(node: SimNode): void {
    node.retired = true;
    this.network.dropMessagesTo(node.id);
    this.trace.add(this.tick, () => `node ${node.id} RETIRED`);
  }

  private onNormalApplied(by: NodeId, entry: Entry): void {
    if (this.barrier !== undefined && this.barrier.index === 0 && entryKey(entry) === `normal:${this.barrier.data}`) {
      this.barrier.index = entry.index;
      this.trace.add(this.tick, () => `node ${by} applied barrier ${this.barrier?.data} at ${entry.index}`);
    }
  }

  // ---- faults ----

  crashRandom(): void {
    // Leaders crash more often than their share: most interesting histories start there.
    const node = this.pickRunning(this.prng.int(2) === 0);
    if (node === undefined) return;
    this.stats.crashes++;
    const downTicks = 1 + this.prng.int(this.config.electionTicks * 3);
    // Half the crashes hit in the middle of persisting the node's next Ready (writes done, no fsync).
    if (this.prng.int(2) === 0) node.crashMidPersist = true;
    else node.crash(downTicks);
  }

  pauseRandom(): void {
    const node = this.pickRunning(false);
    if (node === undefined) return;
    this.stats.pauses++;
    node.pausedUntilTick = this.tick + 1 + this.prng.int(this.config.electionTicks * 3);
    this.trace.add(this.tick, () => `node ${node.id} PAUSE until t${node.pausedUntilTick}`);
  }

  /** A symmetric split of the members into two sides, or a one-way cut between two of them. */
  partitionRandom(): void {
    const ids = [...this.nodes.values()].filter((n) => !n.retired).map((n) => n.id);
    if (ids.length < 2) return;
    this.stats.partitions++;
    this.network.healAll();
    this.partitionUntilTick = this.tick + 1 + this.prng.int(this.config.electionTicks * 4);
    if (this.prng.int(3) === 0) {
      const from = ids[this.prng.int(ids.length)] ?? '';
      const others = ids.filter((id) => id !== from);
      const to = others[this.prng.int(others.length)] ?? '';
      this.network.cut(from, to);
      if (this.prng.int(2) === 0) for (const other of others) this.network.cut(from, other);
      this.trace.add(this.tick, () => `PARTITION one-way from ${from} (${this.network.cutCount()} links) until t${this.partitionUntilTick}`);
      return;
    }
    const shuffled = ids.map((id) => ({ id, key: this.prng.next() })).sort((a, b) => a.key - b.key).map((x) => x.id);
    let cutAt = 1 + this.prng.int(shuffled.length - 1);
    const leader = this.runningNodes().find((n) => n.raftState === 'leader');
    if (leader !== undefined && this.prng.int(2) === 0) {
      // Half the splits strand a leader with a minority, where it keeps appending in vain.
      shuffled.splice(shuffled.indexOf(leader.id), 1);
      shuffled.unshift(leader.id);
      cutAt = 1 + this.prng.int(Math.max(1, Math.floor((shuffled.length - 1) / 2)));
    }
    const sideA = shuffled.slice(0, cutAt);
    const sideB = shuffled.slice(cutAt);
    this.network.partition(sideA, sideB);
    this.trace.add(this.tick, () => `PARTITION ${sideA.join(',')} | ${sideB.join(',')} until t${this.partitionUntilTick}`);
  }

  private healPartition(): void {
    this.network.healAll();
    this.partitionUntilTick = 0;
    this.trace.add(this.tick, () => 'HEAL');
  }

  // ---- liveness ----

  /**
   * Heals everything, then runs in lock-step (one tick, then every due message) until a leader
   * has committed a fresh barrier entry that every live member applied, and answered a read.
   */
  private runLiveness(): void {
    this.healEverything();
    const startTick = this.tick;
    let barrierTerm = -1;
    let readCtx: string | undefined;
    while (this.tick - startTick < this.config.livenessBoundTicks) {
      this.tickAll();
      this.stats.livenessTicks++;
      this.deliverAllDue();
      const leader = this.currentLeader();
      if (leader === undefined) continue;
      if (leader.hardState.term !== barrierTerm) {
        barrierTerm = leader.hardState.term;
        this.barrier = { data: `barrier-${this.nextProposal++}`, index: 0 };
        if (!this.propose(leader, this.barrier.data)) barrierTerm = -1;
        readCtx = undefined;
        continue;
      }
      if (!this.barrierAppliedEverywhere(leader)) continue;
      if (readCtx === undefined) {
        readCtx = `liveness-read-${this.nextProposal++}`;
        leader.readIndex(readCtx);
        continue;
      }
      if (leader.readAnswered(readCtx)) return;
    }
    const states = [...this.nodes.values()].filter((n) => !n.retired)
      .map((n) => `${n.id}:${n.alive ? n.raftState : 'down'}/t${n.hardState.term}/c${n.hardState.commit}/a${n.app.appliedIndex}`);
    throw new SimViolation('liveness', `not settled within ${this.config.livenessBoundTicks} ticks after healing ` +
      `(barrier ${this.barrier === undefined ? 'never proposed' : `${this.barrier.data}@${this.barrier.index}`}); nodes ${states.join(' ')}`);
  }

  private healEverything(): void {
    this.trace.add(this.tick, () => 'LIVENESS: heal everything');
    this.faultsEnabled = false;
    this.network.healAll();
    this.partitionUntilTick = 0;
    this.network.faults.dropProbability = 0;
    this.network.faults.duplicateProbability = 0;
    this.network.faults.maxDelayTicks = Math.min(1, this.network.faults.maxDelayTicks);
    for (const node of this.nodes.values()) {
      node.pausedUntilTick = 0;
      node.crashMidPersist = false;
      if (!node.retired && !node.alive) this.restart(node);
    }
    this.drainAll();
    this.checkStep();
  }

  private deliverAllDue(): void {
    this.drainAll();
    this.checkStep();
    while (this.deliverOne()) {
      this.drainAll();
      this.checkStep();
    }
  }

  /**
   * The leader no voter of its configuration has overtaken. Removed nodes that never learned of
   * their removal may sit at higher terms; they are not members and do not count.
   */
  private currentLeader(): SimNode | undefined {
    const leaders = this.runningNodes().filter((n) => n.raftState === 'leader').sort((a, b) => b.hardState.term - a.hardState.term);
    const leader = leaders[0];
    if (leader === undefined) return undefined;
    const overtaken = leader.app.confState.voters.some((id) => (this.nodes.get(id)?.hardState.term ?? 0) > leader.hardState.term);
    return overtaken ? undefined : leader;
  }

  private barrierAppliedEverywhere(leader: SimNode): boolean {
    const barrier = this.barrier;
    if (barrier === undefined || barrier.index === 0) return false;
    return leader.app.confState.voters.every((id) => {
      const node = this.nodes.get(id);
      return node !== undefined && node.app.appliedIndex >= barrier.index;
    });
  }
}

export function runSimulation(config: SimConfig): SimResult {
  return new Simulation(config).run();
}
