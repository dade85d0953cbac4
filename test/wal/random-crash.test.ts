/**
 * Crash suite, randomised: a seeded life of a member's storage on the fault-injecting file
 * system — group-committed saves, new-leader overwrites, snapshots + compaction, fsync EIO,
 * ENOSPC mid-write, snapshot write failures — cut short by crash() that drops unsynced bytes
 * (keeping a random torn prefix). After every crash the storage reopens and must hold the log of
 * a prefix of the saves issued that includes every acknowledged one, and a snapshot no older
 * than the last one acknowledged. Replay one run with WAL_CRASH_SEED=<seed>.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeededPrng } from '../../src/common/prng.js';
import type { Entry, HardState } from '../../src/raft/types.js';
import { DiskStorage, defaultDiskStorageConfig, type DiskStorageConfig } from '../../src/storage/disk-storage.js';
import { FaultFileSystem } from '../../src/storage/fault-fs.js';
import { matchRecovered, recoveredOf, type ModelLog, type SaveOp } from './log-model.js';

const DIR = '/member';

function config(): DiskStorageConfig {
  const base = defaultDiskStorageConfig();
  return { ...base, wal: { ...base.wal, segmentBytes: 2048 } };
}

function entryOf(index: number, rendered: string): Entry {
  const colon = rendered.indexOf(':');
  return { index, term: Number(rendered.slice(0, colon)), type: 'normal', data: new TextEncoder().encode(rendered.slice(colon + 1)) };
}

/** One life between two crashes: what was issued, what was acknowledged. */
class Life {
  readonly saves: SaveOp[] = [];
  readonly resolved: boolean[] = [];
  readonly pending: Promise<unknown>[] = [];
  log: ModelLog;
  hardState: HardState;
  durableCommit: number;
  snapshotIndex: number;
  fatal = false;

  constructor(
    readonly disk: DiskStorage,
    base: ModelLog,
    hardState: HardState,
  ) {
    this.log = base;
    this.hardState = hardState;
    this.durableCommit = hardState.commit;
    this.snapshotIndex = disk.snapshot().metadata.index;
    // The recovered state is save 0, acknowledged.
    this.saves.push({ hardState, entries: base.map((r, k) => entryOf(k + 1, r)) });
    this.resolved.push(true);
  }

  acked(): number {
    const firstOpen = this.resolved.indexOf(false);
    const acked = firstOpen === -1 ? this.resolved.length : firstOpen;
    assert.ok(this.resolved.slice(acked).every((r) => !r), 'saves are acknowledged in order');
    return acked;
  }

  issueSave(prng: SeededPrng): void {
    const last = this.log.length;
    const lastTerm = last > 0 ? Number(this.log[last - 1]?.split(':')[0]) : 0;
    // A torn batch may keep entries of a newer term than the hard state written after them.
    let term = Math.max(1, this.hardState.term, lastTerm);
    let from = last + 1;
    const lowest = Math.max(this.hardState.commit, this.durableCommit, this.snapshotIndex) + 1;
    if (prng.int(8) === 0 && last >= lowest) {
      term += 1; // a new leader overwrites the uncommitted suffix
      from = lowest + prng.int(last - lowest + 1);
    }
    const entries: Entry[] = [];
    const count = prng.int(4);
    for (let k = 0; k < count; k++) entries.push(entryOf(from + k, `${term}:v${from + k}-${prng.int(1000)}-${'p'.repeat(prng.int(60))}`));
    const newLast = entries.length > 0 ? from + entries.length - 1 : last;
    const commit = Math.min(newLast, Math.max(this.hardState.commit, newLast - prng.int(3)));
    const hardState = entries.length > 0 || prng.int(2) === 0 ? { term, vote: 'n1', commit: Math.max(commit, this.hardState.commit > newLast ? newLast : this.hardState.commit) } : undefined;
    const slot = this.saves.length;
    this.saves.push({ hardState, entries });
    this.resolved.push(false);
    if (entries.length > 0) this.log = [...this.log.slice(0, from - 1), ...entries.map((e) => `${e.term}:${new TextDecoder().decode(e.data)}`)];
    if (hardState !== undefined) this.hardState = hardState;
    const done = this.disk.save(hardState, entries, true).then(
      () => {
        this.resolved[slot] = true;
        if (hardState !== undefined) this.durableCommit = Math.max(this.durableCommit, hardState.commit);
      },
      () => {
        this.fatal = true;
      },
    );
    this.pending.push(done);
  }

  async snapshotAndCompact(): Promise<number | undefined> {
    await Promise.all(this.pending);
    const index = this.durableCommit;
    if (this.fatal || index <= this.snapshotIndex) return undefined;
    const data = new TextEncoder().encode(`state@${index}=${this.log[index - 1]}`);
    try {
      await this.disk.saveSnapshot({ data, metadata: { index, term: this.disk.term(index), confState: { voters: ['n1'], learners: [] } } });
      await this.disk.compact(index);
    } catch {
      this.fatal = true;
      return undefined;
    }
    this.snapshotIndex = index;
    return index;
  }
}

function injectRandomFault(fs: FaultFileSystem, prng: SeededPrng): string {
  switch (prng.int(4)) {
    case 0:
      fs.inject({ op: 'sync', code: 'EIO', pathIncludes: '/wal/' });
      return 'wal fsync EIO';
    case 1:
      fs.inject({ op: 'append', code: 'ENOSPC', pathIncludes: '/wal/', keepBytes: prng.int(80) });
      return 'wal append ENOSPC';
    case 2:
      fs.inject({ op: 'rename', code: 'EIO', pathIncludes: '/snap/' });
      return 'snapshot rename EIO';
    default:
      fs.inject({ op: 'fsyncDir', code: 'EIO', pathIncludes: '/wal' });
      return 'wal dir fsync EIO';
  }
}

async function runSeed(seed: number): Promise<{ crashes: number; saves: number; snapshots: number; faults: number }> {
  const prng = new SeededPrng(seed);
  const fs = new FaultFileSystem();
  const stats = { crashes: 0, saves: 0, snapshots: 0, faults: 0 };
  const fresh = await DiskStorage.open(DIR, fs, config());
  let life = new Life(fresh, [], fresh.initialState().hardState);
  let ackedSnapshot = 0;
  for (let step = 0; step < 120; step++) {
    const action = prng.int(20);
    if (action < 12) {
      const burst = 1 + prng.int(4);
      for (let k = 0; k < burst; k++) life.issueSave(prng);
      stats.saves += burst;
      if (prng.int(3) === 0) await Promise.all(life.pending);
    } else if (action < 15) {
      const index = await life.snapshotAndCompact();
      if (index !== undefined) {
        ackedSnapshot = index;
        stats.snapshots += 1;
      }
    } else if (action < 16) {
      injectRandomFault(fs, prng);
      stats.faults += 1;
    } else if (action < 18 || life.fatal) {
      if (prng.int(2) === 0) await new Promise((resolve) => setImmediate(resolve));
      life = await crashAndRecover(fs, prng, life, ackedSnapshot, seed);
      stats.crashes += 1;
    }
  }
  await Promise.all(life.pending);
  return stats;
}

async function crashAndRecover(fs: FaultFileSystem, prng: SeededPrng, life: Life, ackedSnapshot: number, seed: number): Promise<Life> {
  const acked = life.acked();
  fs.crash(prng);
  fs.clearFaults();
  const disk = await DiskStorage.open(DIR, fs, config());
  const recovered = recoveredOf(disk);
  let matched;
  try {
    matched = matchRecovered(recovered, life.saves, acked);
  } catch (err) {
    throw new Error(`seed ${seed}: ${(err as Error).message}`);
  }
  assert.ok(recovered.snapshotIndex >= ackedSnapshot, `seed ${seed}: snapshot ${recovered.snapshotIndex} older than acknowledged ${ackedSnapshot}`);
  const snap = disk.snapshot();
  if (snap.metadata.index > 0) {
    assert.equal(new TextDecoder().decode(snap.data), `state@${snap.metadata.index}=${matched.log[snap.metadata.index - 1]}`, `seed ${seed}: snapshot content`);
  }
  const hardState = disk.initialState().hardState;
  // Settle the stragglers of the dead life (their promises reject or resolve into nothing).
  await Promise.allSettled(life.pending);
  return new Life(disk, matched.log, hardState);
}

describe('WAL crash suite: seeded random lives with faults and crashes', () => {
  it('every acknowledged save survives every crash; nothing else appears', async () => {
    const fixed = process.env.WAL_CRASH_SEED;
    const first = fixed !== undefined ? Number(fixed) : Date.now() % 1_000_000;
    const runs = fixed !== undefined ? 1 : 25;
    console.log(`random crash seeds ${first}..${first + runs - 1} (replay one with WAL_CRASH_SEED=<seed>)`);
    const total = { crashes: 0, saves: 0, snapshots: 0, faults: 0 };
    for (let seed = first; seed < first + runs; seed++) {
      const stats = await runSeed(seed);
      for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += stats[key];
    }
    console.log(`random crash totals: ${JSON.stringify(total)}`);
    assert.ok(total.crashes > runs && total.snapshots > runs, 'the runs exercised crashes and snapshots');
  });
});
