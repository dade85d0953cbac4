/**
 * A tiny in-process cluster of RawNodes over MemoryStorage for the paper tests and the scripted
 * interaction tests. The driver loop is the real one (persist, send, apply, advance); message
 * delivery is explicit so tests decide what arrives, when, and what is dropped.
 */
import { SeededPrng } from '../../src/common/prng.js';
import { defaultRaftConfig, type RaftConfig } from '../../src/raft/config.js';
import { decodeConfChange } from '../../src/raft/confchange.js';
import { MemoryStorage } from '../../src/raft/memory-storage.js';
import { RawNode } from '../../src/raft/rawnode.js';
import type { ConfState, Entry, Message, NodeId, Ready, ReadState } from '../../src/raft/types.js';
import { describeReady } from './describe.js';

export type NodeOptions = Partial<Omit<RaftConfig, 'id' | 'prng'>> & { seed?: number };

const decoder = new TextDecoder();

export class TestNode {
  node: RawNode;
  /** The state machine: applied non-empty normal entries, as text, after the snapshot base. */
  baseState: string[] = [];
  baseIndex = 0;
  appliedLog: { index: number; text: string }[] = [];
  readStates: ReadState[] = [];
  confState: ConfState;

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    readonly options: NodeOptions,
  ) {
    this.node = this.boot(0);
    this.confState = storage.initialState().confState;
  }

  private boot(applied: number): RawNode {
    const prng = new SeededPrng((this.options.seed ?? 0) * 1000 + Number.parseInt(this.id, 10));
    const { seed: _seed, ...overrides } = this.options;
    return new RawNode(defaultRaftConfig(this.id, prng, { ...overrides, applied }), this.storage);
  }

  /** Crash and restart from what was persisted: the state machine rebuilds from the snapshot. */
  restart(): void {
    const snap = this.storage.snapshot();
    this.baseState = snap.data.byteLength > 0 ? (JSON.parse(decoder.decode(snap.data)) as string[]) : [];
    this.baseIndex = snap.metadata.index;
    this.appliedLog = [];
    this.confState = snap.metadata.confState;
    this.node = this.boot(snap.metadata.index);
  }

  state(): string[] {
    return [...this.baseState, ...this.appliedLog.map((a) => a.text)];
  }

  stateAt(index: number): string[] {
    return [...this.baseState, ...this.appliedLog.filter((a) => a.index <= index).map((a) => a.text)];
  }

  /** Handles one Ready in the contract's order; returns it (undefined if there was none). */
  handleReady(): Ready | undefined {
    if (!this.node.hasReady()) return undefined;
    const rd = this.node.ready();
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
    this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    if (rd.snapshot) this.applySnapshot(rd);
    for (const e of rd.committedEntries) this.apply(e);
    this.readStates.push(...rd.readStates);
    this.node.advance(rd);
    return rd;
  }

  private applySnapshot(rd: Ready): void {
    const snap = rd.snapshot;
    if (snap === undefined) return;
    this.baseState = snap.data.byteLength > 0 ? (JSON.parse(decoder.decode(snap.data)) as string[]) : [];
    this.baseIndex = snap.metadata.index;
    this.appliedLog = [];
    this.confState = snap.metadata.confState;
  }

  private apply(e: Entry): void {
    if (e.type === 'confChange') {
      this.confState = this.node.applyConfChange(decodeConfChange(e.data));
    } else if (e.data.byteLength > 0) {
      this.appliedLog.push({ index: e.index, text: decoder.decode(e.data) });
    }
  }

  /** Snapshots the state machine at `index` (<= applied) and compacts the log up to it. */
  compact(index: number): void {
    const data = new TextEncoder().encode(JSON.stringify(this.stateAt(index)));
    this.storage.createSnapshot(index, this.confState, data);
    this.storage.compact(index);
  }
}

export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  inflight: Message[] = [];
  private readonly cutLinks = new Set<string>();

  constructor(readonly defaults: NodeOptions = {}) {}

  /** Adds nodes `ids` whose initial configuration is `confState` (defaults to voters = ids). */
  add(ids: readonly NodeId[], confState: ConfState = { voters: ids, learners: [] }, options: NodeOptions = {}): void {
    for (const id of ids) {
      this.nodes.set(id, new TestNode(id, new MemoryStorage(confState), { ...this.defaults, ...options }));
    }
  }

  get(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  raw(id: NodeId): RawNode {
    return this.get(id).node;
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Handles every pending Ready of `ids`; calls `onReady` with each for logging. */
  processReady(ids: readonly NodeId[] = this.ids(), onReady?: (id: NodeId, rd: Ready) => void): boolean {
    let any = false;
    for (const id of ids) {
      const rd = this.get(id).handleReady();
      if (rd === undefined) continue;
      any = true;
      this.inflight.push(...rd.messages);
      onReady?.(id, rd);
    }
    return any;
  }

  linkCut(from: NodeId, to: NodeId): boolean {
    return this.cutLinks.has(`${from}->${to}`);
  }

  /**
   * Delivers the queued messages (only those for `to` if given). A message across a cut link,
   * to an unknown node, or matched by `drop` is lost. Returns [message, delivered] pairs.
   */
  deliver(to?: readonly NodeId[], drop?: (m: Message) => boolean): [Message, boolean][] {
    const chosen = this.inflight.filter((m) => to === undefined || to.includes(m.to));
    this.inflight = this.inflight.filter((m) => !(to === undefined || to.includes(m.to)));
    const result: [Message, boolean][] = [];
    for (const m of chosen) {
      const target = this.nodes.get(m.to);
      const lost = target === undefined || this.linkCut(m.from, m.to) || (drop?.(m) ?? false);
      if (!lost) target.node.step(m);
      result.push([m, !lost]);
    }
    return result;
  }

  /** Processes readies and delivers messages until the cluster is quiet. */
  stabilize(ids: readonly NodeId[] = this.ids(), onEvent?: (line: string) => void, maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      const readied = this.processReady(ids, onEvent ? (id, rd) => logReady(id, rd, onEvent) : undefined);
      const pending = this.inflight.some((m) => ids.includes(m.to));
      if (!readied && !pending) return;
      for (const [m, delivered] of this.deliver(ids)) onEvent?.(`${delivered ? 'deliver' : 'drop'} ${m.from}->${m.to} ${m.type}`);
    }
    throw new Error('network did not stabilize');
  }

  /** Cuts every link between different groups (each group a list of ids). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cutLinks.add(`${x}->${y}`);
      }
    }
  }

  isolate(id: NodeId): void {
    this.partition([[id], this.ids().filter((x) => x !== id)]);
  }

  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(`${from}->${to}`);
  }

  heal(): void {
    this.cutLinks.clear();
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.raw(id).tick();
  }

  /** The node that leads in the highest term, if any. */
  leader(): NodeId | undefined {
    let best: { id: NodeId; term: number } | undefined;
    for (const id of this.ids()) {
      const st = this.raw(id).status();
      if (st.softState.raftState === 'leader' && (best === undefined || st.hardState.term > best.term)) best = { id, term: st.hardState.term };
    }
    return best?.id;
  }

  /** Campaigns on `id` and stabilizes; returns the resulting leader. */
  elect(id: NodeId): NodeId | undefined {
    this.raw(id).campaign();
    this.stabilize();
    return this.leader();
  }

  propose(id: NodeId, text: string): void {
    this.raw(id).propose(new TextEncoder().encode(text));
  }
}

function logReady(id: NodeId, rd: Ready, onEvent: (line: string) => void): void {
  onEvent(`${id} ready`);
  for (const line of describeReady(rd)) onEvent(`  ${line}`);
}
