/**
 * Opens a member from its data dir: identity, WAL + snapshots (DiskStorage), the store
 * recovered from the latest snapshot, and the Raft core on top. A fresh member is bootstrapped
 * as a Raft group of one: its first log entry is the conf change that makes it the only voter
 * (committed at once, as etcd-io/raft's Bootstrap does), so every later start replays the same
 * membership from the log or from the snapshot that covers it.
 */
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { assert } from '../common/assert.js';
import type { Clock } from '../common/clock.js';
import type { Prng } from '../common/prng.js';
import { decodeConfChange, defaultRaftConfig, encodeConfChange, RawNode, type Entry, type HardState } from '../raft/index.js';
import { DiskStorage } from '../storage/disk-storage.js';
import { NodeFileSystem, type FileSystem } from '../storage/fs.js';
import { Store } from '../store/store.js';
import { electionTicksOf, validateMemberConfig, type MemberConfig } from './config.js';
import { createIdentity, readIdentity, type MemberIdentity } from './identity.js';
import { Member } from './member.js';
import type { DurableLog, RaftDriver } from './member-deps.js';

export interface OpenMemberOptions {
  readonly config: MemberConfig;
  readonly clock: Clock;
  readonly prng: Prng;
  /** Defaults to the real file system; tests inject faults. */
  readonly fs?: FileSystem;
  readonly onFatal: (error: unknown) => void;
  /** Notable things found while opening (a torn WAL tail cut away, unusable snapshots skipped). */
  readonly onNotice?: (line: string) => void;
}

export async function openMember(options: OpenMemberOptions): Promise<Member> {
  const { config } = options;
  const problems = validateMemberConfig(config);
  assert(problems.length === 0, () => `invalid member config: ${problems.join('; ')}`);
  mkdirSync(config.dataDir, { recursive: true });
  const identity = readIdentity(config.dataDir) ?? createIdentity(config.dataDir, config.name, config.peerUrls, config.clusterToken);
  const disk = await DiskStorage.open(config.dataDir, options.fs ?? new NodeFileSystem());
  const notice = options.onNotice ?? ((): void => undefined);
  const tail = disk.opened.repairedTail;
  if (tail !== undefined) notice(`repaired a torn WAL tail: cut ${tail.path} at offset ${tail.offset} (${tail.reason})`);
  for (const skipped of disk.opened.skippedSnapshots) notice(`skipped an unusable snapshot: ${skipped}`);
  const snapshot = disk.snapshot();
  if (disk.lastIndex() === 0 && snapshot.metadata.index === 0) await bootstrapSingleVoter(disk, identity);
  const store = snapshot.metadata.index > 0 ? Store.recover(snapshot.data) : new Store();
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
    appliedIndex: snapshot.metadata.index,
    snapshotIndex: snapshot.metadata.index,
    confState,
    hardState,
    bootNonce: randomBytes(6).toString('hex'),
    onFatal: options.onFatal,
  });
}

/** Entry 1 adds this member as the only voter; the hard state commits it (no election needed for that). */
async function bootstrapSingleVoter(disk: DiskStorage, identity: MemberIdentity): Promise<void> {
  const addSelf: Entry = {
    term: 1,
    index: 1,
    type: 'confChange',
    data: encodeConfChange({ type: 'addNode', nodeId: identity.memberId, context: new Uint8Array(0) }),
  };
  const hardState: HardState = { term: 1, vote: '', commit: 1 };
  await disk.save(hardState, [addSelf], true);
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
    applyConfChangeEntry: (entry) => raw.applyConfChange(decodeConfChange(entry.data)),
  };
}

function durableLogOf(disk: DiskStorage): DurableLog {
  return {
    storage: disk,
    save: (hardState, entries, mustSync) => disk.save(hardState, entries, mustSync),
    saveSnapshot: (snapshot) => disk.saveSnapshot(snapshot),
    compact: (index) => disk.compact(index),
    close: () => disk.close(),
  };
}
