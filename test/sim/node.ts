/**
 * One simulated member: a RawNode over a MemoryStorage, a simulated disk, and the application.
 * The driver follows the Ready contract — persist (write, then fsync when the Ready says so),
 * send, apply, advance — and reports everything it sees to the checkers. The planted bug
 * `send-before-persist` swaps the first two steps.
 */
import { assert } from '../../src/common/assert.js';
import type { SeededPrng } from '../../src/common/prng.js';
import { MemoryStorage, RawNode, decodeConfChange, defaultRaftConfig } from '../../src/raft/index.js';
import type { RaftTestingBugs } from '../../src/raft/config.js';
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, Ready, Snapshot, StateType } from '../../src/raft/types.js';
import { SimApp } from './app.js';
import type { LogView, SafetyChecker } from './checker.js';
import { DiskImage, SimDisk } from './disk.js';
import type { SimNetwork } from './network.js';
import type { Trace } from './trace.js';

/** What the driver needs from the rest of the simulation. */
export interface NodeEnv {
  readonly network: SimNetwork;
  readonly checker: SafetyChecker;
  readonly trace: Trace;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Small limits split the log over many appends and keep few in flight: more interleavings. */
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
  readonly testingBugs: RaftTestingBugs;
  readonly sendBeforePersist: boolean;
  readonly commitBeforeEntries: boolean;
  nowTick(): number;
  /** False in the liveness phase: no more injected crashes. */
  faultsEnabled(): boolean;
  /** A committed conf change was applied by `by`. */
  onConfChangeApplied(by: NodeId, cc: ConfChange, confState: ConfState): void;
  /** A node applied a normal entry (the liveness phase watches for its barrier). */
  onNormalApplied(by: NodeId, entry: Entry): void;
}

interface PendingRead {
  readonly commitWhenAskedIndex: number;
  readIndex?: number;
}

export function describeMessage(m: Message): string {
  const rej = m.reject ? ` reject(hint ${m.rejectHint})` : '';
  const snap = m.snapshot === undefined ? '' : ` snap@${m.snapshot.metadata.index}`;
  return `${m.type} ${m.from}->${m.to} term ${m.term} logTerm ${m.logTerm} index ${m.index} commit ${m.commit} ents ${m.entries.length}${snap}${rej}`;
}

/** Reads a MemoryStorage for the checkers (compacted or missing indexes read as undefined). */
export class StorageLogView implements LogView {
  constructor(private readonly storage: MemoryStorage) {}
  termAt(index: number): number | undefined {
    if (index < this.storage.firstIndex() - 1 || index > this.storage.lastIndex()) return undefined;
    return this.storage.term(index);
  }
  entryAt(index: number): Entry | undefined {
    if (index < this.storage.firstIndex() || index > this.storage.lastIndex()) return undefined;
    return this.storage.entries(index, index + 1, Number.MAX_SAFE_INTEGER)[0];
  }
  lastIndex(): number {
    return this.storage.lastIndex();
  }
  snapshotIndex(): number {
    return this.storage.firstIndex() - 1;
  }
}

export class SimNode {
  raw: RawNode;
  storage: MemoryStorage;
  log: StorageLogView;
  app: SimApp;
  readonly disk: SimDisk;
  /** The last hard state the core handed out in this incarnation. */
  hardState: HardState;
  raftState: StateType = 'follower';
  lead: NodeId = '';
  alive = true;
  downUntilTick = 0;
  pausedUntilTick = 0;
  /** Left the cluster (removed and shut down): never runs again. */
  retired = false;
  /** Crash in the middle of persisting the next Ready (after the writes, before the fsync). */
  crashMidPersist = false;
  incarnation = 0;
  readonly reads = new Map<string, PendingRead>();
  readsAnswered = 0;

  constructor(
    readonly id: NodeId,
    private readonly prng: SeededPrng,
    private readonly env: NodeEnv,
    initial: DiskImage,
  ) {
    this.disk = new SimDisk(initial);
    const booted = this.boot(initial);
    this.raw = booted.raw;
    this.storage = booted.storage;
    this.log = new StorageLogView(this.storage);
    this.app = booted.app;
    this.hardState = initial.hardState;
  }

  /** Builds the storage, the state machine and the core from a disk image (first start or restart). */
  private boot(image: DiskImage): { raw: RawNode; storage: MemoryStorage; app: SimApp } {
    const storage = new MemoryStorage();
    storage.applySnapshot(image.snapshot);
    storage.append(image.entries);
    storage.setHardState(image.hardState);
    const app = SimApp.decode(image.snapshot.data, image.snapshot.metadata.confState);
    const config = defaultRaftConfig(this.id, this.prng.fork(), {
      electionTicks: this.env.electionTicks,
      heartbeatTicks: this.env.heartbeatTicks,
      applied: image.snapshot.metadata.index,
      maxSizePerMsgBytes: this.env.maxSizePerMsgBytes,
      maxInflightMsgs: this.env.maxInflightMsgs,
      testingBugs: this.env.testingBugs,
    });
    return { raw: new RawNode(config, storage), storage, app };
  }

  canRun(nowTick: number): boolean {
    return this.alive && !this.retired && nowTick >= this.pausedUntilTick;
  }

  /** Power loss: lose what was not fsynced (maybe tearing the last write) and every volatile thing. */
  crash(downTicks: number): void {
    assert(this.alive, `crash of node ${this.id} that is already down`);
    this.alive = false;
    this.crashMidPersist = false;
    this.downUntilTick = this.env.nowTick() + downTicks;
    this.disk.crash(this.prng);
    this.env.checker.onDurableState(this.id, this.disk.durable().hardState, 'crash');
    this.env.network.dropMessagesTo(this.id);
    this.reads.clear();
    this.env.trace.add(this.env.nowTick(), () => `node ${this.id} CRASH (durable term ${this.disk.durable().hardState.term} last ${this.disk.durable().lastIndex()})`);
  }

  restart(): void {
    assert(!this.alive && !this.retired, `restart of node ${this.id} that is running or retired`);
    const image = this.disk.durable();
    const booted = this.boot(image);
    this.raw = booted.raw;
    this.storage = booted.storage;
    this.log = new StorageLogView(this.storage);
    this.app = booted.app;
    this.hardState = image.hardState;
    this.raftState = 'follower';
    this.lead = '';
    this.alive = true;
    this.incarnation++;
    this.env.checker.onDurableState(this.id, image.hardState, 'restart');
    this.env.checker.onRestore(this.id, this.app.appliedIndex, this.app.digest);
    this.env.trace.add(this.env.nowTick(), () => `node ${this.id} RESTART term ${image.hardState.term} commit ${image.hardState.commit} last ${image.lastIndex()}`);
  }

  /** Hands every pending Ready through the driver. Returns false when the node crashed midway. */
  drain(): boolean {
    while (this.alive && !this.retired && this.raw.hasReady()) {
      if (!this.handleReady(this.raw.ready())) return false;
    }
    return this.alive;
  }

  private handleReady(rd: Ready): boolean {
    if (this.env.sendBeforePersist && rd.messages.length > 0) {
      this.send(rd.messages);
      // The planted bug's window: the node dies after sending, before anything reached the disk.
      if (this.env.faultsEnabled() && this.prng.int(4) === 0) {
        this.crash(1 + this.prng.int(this.env.electionTicks * 2));
        return false;
      }
    }
    if (!this.persist(rd)) return false;
    this.observe(rd);
    if (!this.env.sendBeforePersist) this.send(rd.messages);
    this.apply(rd);
    this.raw.advance(rd);
    return true;
  }

  /**
   * Writes the Ready to the disk and the storage, in an order that keeps every prefix of the
   * writes consistent (a crash keeps a prefix): first the new term and vote with the commit
   * index the disk can already back, then a snapshot (fsynced: snapshot files are durable before
   * the log refers to them), then the entries, then the hard state with its new commit. So a torn
   * write never leaves a log whose last term is ahead of the durable term, nor a commit index
   * that points at entries that did not reach the disk. A planted crash hits before the fsync.
   */
  private persist(rd: Ready): boolean {
    const hs = rd.hardState;
    if (hs !== undefined && this.env.commitBeforeEntries) {
      // The planted bug: the whole hard state goes first, commit index included.
      this.disk.write({ kind: 'hardState', hardState: hs });
    } else if (hs !== undefined) {
      const backedCommit = Math.min(hs.commit, Math.max(this.hardState.commit, rd.snapshot?.metadata.index ?? 0));
      this.disk.write({ kind: 'hardState', hardState: { ...hs, commit: backedCommit } });
    }
    if (rd.snapshot !== undefined) {
      this.disk.write({ kind: 'snapshot', snapshot: rd.snapshot });
      this.disk.fsync();
      this.storage.applySnapshot(rd.snapshot);
    }
    if (rd.entries.length > 0) {
      this.disk.write({ kind: 'entries', entries: rd.entries });
      this.storage.append(rd.entries);
    }
    if (hs !== undefined) {
      if (!this.env.commitBeforeEntries) this.disk.write({ kind: 'hardState', hardState: hs });
      this.storage.setHardState(hs);
    }
    // An armed crash waits for a Ready that writes entries: the write most worth tearing.
    if (this.crashMidPersist && rd.entries.length > 0) {
      this.crash(1 + this.prng.int(this.env.electionTicks * 2));
      return false;
    }
    if (rd.mustSync || rd.snapshot !== undefined) {
      this.disk.fsync();
      this.env.checker.onDurableState(this.id, this.disk.durable().hardState, 'fsync');
    }
    return true;
  }

  /** Tells the checkers what this Ready changed: log contents, hard state, commit, leadership. */
  private observe(rd: Ready): void {
    const checker = this.env.checker;
    checker.onPersistedEntries(this.id, rd.entries, this.log);
    if (rd.hardState !== undefined) {
      const previous = this.hardState;
      checker.onHardState(this.id, previous, rd.hardState);
      this.hardState = rd.hardState;
      if (rd.hardState.commit > previous.commit) {
        checker.onCommitAdvance(this.id, previous.commit, rd.hardState.commit, rd.hardState.term, this.log);
        const ledThroughout = this.raftState === 'leader' && (rd.softState?.raftState ?? 'leader') === 'leader' && previous.term === rd.hardState.term;
        if (ledThroughout) checker.onLeaderCommit(this.id, rd.hardState.term, rd.hardState.commit, this.log);
      }
    }
    if (rd.softState !== undefined) {
      const becameLeader = rd.softState.raftState === 'leader' && this.raftState !== 'leader';
      this.raftState = rd.softState.raftState;
      this.lead = rd.softState.lead;
      if (becameLeader) {
        this.env.trace.add(this.env.nowTick(), () => `node ${this.id} LEADER term ${this.hardState.term} last ${this.storage.lastIndex()}`);
        checker.onLeader(this.id, this.hardState.term);
        checker.checkLeaderLog(this.id, this.hardState.term, this.log, true);
      }
    }
  }

  private send(messages: readonly Message[]): void {
    const now = this.env.nowTick();
    for (const m of messages) {
      const outcome = this.env.network.send(m, now);
      this.env.trace.add(now, () => `send ${describeMessage(m)}${outcome === 'queued' ? '' : ` [${outcome}]`}`);
      this.env.checker.onSend(m, this.disk.durable(), this.log);
      if (m.type === 'MsgSnap' && outcome !== 'queued') this.raw.reportSnapshot(m.to, 'failure');
      if (outcome === 'cut') this.raw.reportUnreachable(m.to);
    }
  }

  private apply(rd: Ready): void {
    if (rd.snapshot !== undefined) {
      this.app = SimApp.decode(rd.snapshot.data, rd.snapshot.metadata.confState);
      this.env.checker.onRestore(this.id, this.app.appliedIndex, this.app.digest);
    }
    for (const e of rd.committedEntries) {
      if (e.index <= this.app.appliedIndex) continue; // already inside an installed snapshot
      this.app.apply(e);
      this.env.checker.onApply(this.id, e, this.app.digest);
      if (e.type === 'confChange') this.applyConfChange(e);
      else this.env.onNormalApplied(this.id, e);
    }
    for (const rs of rd.readStates) this.onReadState(rs.index, rs.requestCtx);
    this.answerReads();
  }

  private applyConfChange(e: Entry): void {
    const cc = decodeConfChange(e.data);
    const confState = this.raw.applyConfChange(cc);
    this.app.confState = confState;
    this.env.trace.add(this.env.nowTick(), () => `node ${this.id} applied ${cc.type} ${cc.nodeId} at ${e.index}: voters ${confState.voters.join(',')} learners ${confState.learners.join(',') || '-'}`);
    this.env.onConfChangeApplied(this.id, cc, confState);
  }

  readIndex(ctx: string): void {
    this.reads.set(ctx, { commitWhenAskedIndex: this.env.checker.maxCommitObserved });
    this.raw.readIndex(new TextEncoder().encode(ctx));
  }

  private onReadState(index: number, requestCtx: Uint8Array): void {
    const ctx = new TextDecoder().decode(requestCtx);
    const pending = this.reads.get(ctx);
    if (pending === undefined || pending.readIndex !== undefined) return; // a duplicate answer
    this.env.trace.add(this.env.nowTick(), () => `node ${this.id} read state ${ctx} index ${index} (asked at commit ${pending.commitWhenAskedIndex})`);
    this.env.checker.onReadState(this.id, ctx, index, pending.commitWhenAskedIndex);
    pending.readIndex = index;
  }

  private answerReads(): void {
    for (const [ctx, read] of this.reads) {
      if (read.readIndex !== undefined && read.readIndex <= this.app.appliedIndex) {
        this.reads.delete(ctx);
        this.readsAnswered++;
      }
    }
  }

  readAnswered(ctx: string): boolean {
    return !this.reads.has(ctx);
  }

  /** The application takes a snapshot at its applied index and compacts most of the log before it. */
  takeSnapshot(keepEntries: number): boolean {
    if (this.app.appliedIndex <= this.storage.snapshot().metadata.index) return false;
    const snapshot: Snapshot = this.storage.createSnapshot(this.app.appliedIndex, this.app.confState, this.app.encode());
    this.disk.write({ kind: 'snapshot', snapshot });
    this.disk.fsync();
    this.env.checker.onDurableState(this.id, this.disk.durable().hardState, 'snapshot');
    const compactIndex = this.app.appliedIndex - keepEntries;
    if (compactIndex > this.storage.firstIndex() - 1) this.storage.compact(compactIndex);
    this.env.trace.add(this.env.nowTick(), () => `node ${this.id} SNAPSHOT at ${snapshot.metadata.index}, compacted to ${this.storage.firstIndex() - 1}`);
    return true;
  }
}

/** The durable image every initial member starts from: a snapshot at index 1 naming the voters. */
export function bootstrapImage(voters: readonly NodeId[]): DiskImage {
  const app = new SimApp({ appliedIndex: 1, digest: 0 }, { voters, learners: [] });
  const snapshot: Snapshot = { data: app.encode(), metadata: { index: 1, term: 1, confState: { voters, learners: [] } } };
  return new DiskImage({ term: 1, vote: '', commit: 1 }, snapshot);
}

/** A node joining the cluster starts empty and learns everything from the leader (a snapshot first). */
export function emptyImage(): DiskImage {
  const app = new SimApp({ appliedIndex: 0, digest: 0 }, { voters: [], learners: [] });
  const snapshot: Snapshot = { data: app.encode(), metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } } };
  return new DiskImage({ term: 0, vote: '', commit: 0 }, snapshot);
}
