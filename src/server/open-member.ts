/**
 * Opens a member from its data dir: identity, WAL + snapshots (DiskStorage), the store and the
 * membership recovered from the latest snapshot, and the Raft core on top.
 *
 * A fresh member either founds a cluster or joins one (BootstrapPlan). Founding members — one,
 * or every member of a static `--initial-cluster` — write the same first entries: one conf change
 * per member, in id order, committed at once (as etcd-io/raft's Bootstrap does), so all of them
 * start from the same log. A joiner starts with an empty log: the leader that accepted it sends
 * it the log (or a snapshot). Every later start replays the membership from the log or from the
 * snapshot that covers it; the plan is then ignored.
 */
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { assert } from '../common/assert.js';
import type { Clock } from '../common/clock.js';
import type { Prng } from '../common/prng.js';
import { defaultRaftConfig, encodeConfChange, RawNode, type Entry, type HardState } from '../raft/index.js';
import { DiskStorage } from '../storage/disk-storage.js';
import { NodeFileSystem, type FileSystem } from '../storage/fs.js';
import { Store } from '../store/store.js';
import { electionTicksOf, validateMemberConfig, type MemberConfig } from './config.js';
import { memberIdFor } from '../common/ids.js';
import { clusterIdFor, readIdentity, writeIdentity, type MemberIdentity } from './identity.js';
import { Member, type TransportFactory } from './member.js';
import type { DurableLog, RaftDriver } from './member-deps.js';
import { decodeMemberSnapshot, encodeMemberChangeContext, Membership, type RemovalReason } from './membership.js';

/** How a fresh data dir becomes a member (ignored when the data dir already has one). */
export type BootstrapPlan =
  /** Found a cluster of these members (this one among them, by name); one member = a new cluster of one. */
  | { readonly kind: 'found'; readonly members: ReadonlyArray<{ readonly name: string; readonly peerUrls: readonly string[] }> }
  /** Accepted by a running cluster under this id: start empty and let the leader send the log. */
  | { readonly kind: 'join'; readonly memberId: string; readonly clusterId: string };

export interface OpenMemberOptions {
  readonly config: MemberConfig;
  readonly clock: Clock;
  readonly prng: Prng;
  /** Defaults to the real file system; tests inject faults. */
  readonly fs?: FileSystem;
  readonly onFatal: (error: unknown) => void;
  /** Notable things found while opening (a torn WAL tail cut away, unusable snapshots skipped),
   *  and later the member's own notices (leader changes, membership changes). */
  readonly onNotice?: (line: string) => void;
  /** Defaults to founding a cluster of one. */
  readonly bootstrap?: BootstrapPlan;
  /** The Raft transport; null/absent = a member that never has peers (in-process tests). */
  readonly transport?: TransportFactory | null;
  readonly onRemoved?: (reason: RemovalReason) => void;
}

/** True when the data dir already holds a member (its identity is written last when founding). */
export function hasMemberData(dataDir: string): boolean {
  return readIdentity(dataDir) !== null;
}

export async function openMember(options: OpenMemberOptions): Promise<Member> {
  const { config } = options;
  const problems = validateMemberConfig(config);
  assert(problems.length === 0, () => `invalid member config: ${problems.join('; ')}`);
  mkdirSync(config.dataDir, { recursive: true });
  const disk = await DiskStorage.open(config.dataDir, options.fs ?? new NodeFileSystem());
  let identity = readIdentity(config.dataDir);
  if (identity === null) {
    const plan = options.bootstrap ?? { kind: 'found', members: [{ name: config.name, peerUrls: config.peerUrls }] };
    identity = await bootstrap(disk, config, plan);
    // Written last: a data dir with an identity has its bootstrap entries.
    writeIdentity(config.dataDir, identity);
  }
  const notice = options.onNotice ?? ((): void => undefined);
  const tail = disk.opened.repairedTail;
  if (tail !== undefined) notice(`repaired a torn WAL tail: cut ${tail.path} at offset ${tail.offset} (${tail.reason})`);
  for (const skipped of disk.opened.skippedSnapshots) notice(`skipped an unusable snapshot: ${skipped}`);
  const snapshot = disk.snapshot();
  const recovered = snapshot.metadata.index > 0 ? decodeMemberSnapshot(snapshot.data) : null;
  const store = recovered !== null ? Store.recover(recovered.storeData) : new Store();
  const membership = recovered?.membership ?? new Membership();
  const { hardState, confState } = disk.initialState();
  const raw = new RawNode(
    defaultRaftConfig(identity.memberId, options.prng, {
      electionTicks: electionTicksOf(config),
      heartbeatTicks: 1,
      applied: snapshot.metadata.index,
    }),
    disk,
  );
  return new Member({
    config,
    self: { id: identity.memberId, name: config.name, clientUrls: config.clientUrls, peerUrls: config.peerUrls },
    clusterId: identity.clusterId,
    clock: options.clock,
    raft: raftDriverOf(raw),
    log: durableLogOf(disk),
    store,
    membership,
    transport: options.transport ?? null,
    ...(options.onRemoved !== undefined ? { onRemoved: options.onRemoved } : {}),
    ...(options.onNotice !== undefined ? { onNotice: options.onNotice } : {}),
    appliedIndex: snapshot.metadata.index,
    snapshotIndex: snapshot.metadata.index,
    confState,
    hardState,
    bootNonce: randomBytes(6).toString('hex'),
    onFatal: options.onFatal,
  });
}

/** Thrown for a plan this member cannot follow (its name is not in --initial-cluster, ...). */
export class BootstrapError extends Error {
  override name = 'BootstrapError';
}

async function bootstrap(disk: DiskStorage, config: MemberConfig, plan: BootstrapPlan): Promise<MemberIdentity> {
  if (disk.lastIndex() > 0 || disk.snapshot().metadata.index > 0) {
    throw new BootstrapError(`the data dir ${config.dataDir} has a log but no member identity (${'member.json'}): remove it or restore the identity`);
  }
  if (plan.kind === 'join') return { memberId: plan.memberId, clusterId: plan.clusterId };
  const founders = plan.members.map((m) => ({ ...m, id: memberIdFor(m.name, m.peerUrls, config.clusterToken) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const self = founders.find((m) => m.name === config.name);
  if (self === undefined) {
    throw new BootstrapError(`couldn't find local name "${config.name}" in the initial cluster configuration`);
  }
  const ids = new Set(founders.map((m) => m.id));
  if (ids.size !== founders.length) throw new BootstrapError('the initial cluster configuration names a member twice');
  await bootstrapVoters(disk, founders);
  return { memberId: self.id, clusterId: clusterIdFor(config.clusterToken, founders.map((m) => m.id).join(',')) };
}

/** Entries 1..n add the founders as voters; the hard state commits them (no election needed for that). */
async function bootstrapVoters(disk: DiskStorage, founders: ReadonlyArray<{ id: string; name: string; peerUrls: readonly string[] }>): Promise<void> {
  const entries: Entry[] = founders.map((m, i) => ({
    term: 1,
    index: i + 1,
    type: 'confChange',
    data: encodeConfChange({
      type: 'addNode',
      nodeId: m.id,
      context: encodeMemberChangeContext({ requestId: '', name: m.name, peerUrls: m.peerUrls, clientUrls: [], nowMs: 0, reason: 'explicit' }),
    }),
  }));
  const hardState: HardState = { term: 1, vote: '', commit: entries.length };
  await disk.save(hardState, entries, true);
}

function raftDriverOf(raw: RawNode): RaftDriver {
  return {
    tick: () => raw.tick(),
    campaign: () => raw.campaign(),
    propose: (data) => raw.propose(data),
    readIndex: (ctx) => raw.readIndex(ctx),
    hasReady: () => raw.hasReady(),
    ready: () => raw.ready(),
    advance: (rd) => raw.advance(rd),
    applyConfChange: (cc) => raw.applyConfChange(cc),
    proposeConfChange: (cc) => raw.proposeConfChange(cc),
    step: (message) => {
      raw.step(message);
    },
    reportUnreachable: (peer) => raw.reportUnreachable(peer),
    reportSnapshot: (peer, status) => raw.reportSnapshot(peer, status),
  };
}

function durableLogOf(disk: DiskStorage): DurableLog {
  return {
    storage: disk,
    save: (hardState, entries, mustSync) => disk.save(hardState, entries, mustSync),
    saveSnapshot: (snapshot) => disk.saveSnapshot(snapshot),
    applySnapshot: (snapshot) => disk.applySnapshot(snapshot),
    compact: (index) => disk.compact(index),
    close: () => disk.close(),
  };
}
