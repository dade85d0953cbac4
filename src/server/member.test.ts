/**
 * The member in-process, on a real data dir: Raft core + DiskStorage + Store wired by
 * openMember. Registration indexes, apply errors, restart, snapshots with compaction, SYNC
 * expiry driven by the clock, ReadIndex, and an fsync failure that must stop the member.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, type Clock } from '../common/clock.js';
import { EtcdError } from '../common/errors.js';
import { SeededPrng } from '../common/prng.js';
import { FaultFileSystem } from '../storage/fault-fs.js';
import type { AppendFile, FileSystem } from '../storage/fs.js';
import type { SetCommand } from '../store/types.js';
import { defaultMemberConfig, type MemberConfig } from './config.js';
import type { Member } from './member.js';
import { openMember } from './open-member.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'member-test-'));
}

interface Opened {
  readonly member: Member;
  readonly fatal: unknown[];
}

async function open(dataDir: string, overrides: Partial<MemberConfig> = {}, clock: Clock = new ManualClock(Date.now()), fs?: FileSystem): Promise<Opened> {
  const fatal: unknown[] = [];
  const member = await openMember({
    config: { ...defaultMemberConfig(dataDir), name: 'node1', heartbeatMs: 10, electionMs: 50, syncIntervalMs: 20, ...overrides },
    clock,
    prng: new SeededPrng(7),
    ...(fs !== undefined ? { fs } : {}),
    onFatal: (error) => fatal.push(error),
  });
  await member.start();
  return { member, fatal };
}

function set(key: string, value: string, nowMs: number, expireAtMs: number | null = null): SetCommand {
  return { op: 'set', key, value, dir: false, expireAtMs, refresh: false, nowMs };
}

function valueOf(member: Member, key: string): { value: string | undefined; index: number | undefined } {
  const node = member.store.get(key, { recursive: false, sorted: false }, member.clock.nowMs()).json.node;
  return { value: node?.value, index: node?.modifiedIndex };
}

test('a fresh member registers itself first, so the first user key gets index 3', async () => {
  const dir = tempDir();
  try {
    const { member } = await open(dir);
    assert.equal(member.store.index, 2);
    assert.deepEqual(valueOf(member, '/_etcd/machines/node1'), { value: 'etcd=http%3A%2F%2F127.0.0.1%3A4001&raft=http%3A%2F%2F127.0.0.1%3A7001', index: 1 });
    assert.deepEqual(valueOf(member, '/_etcd/config'), { value: '{"activeSize":9,"removeDelay":1800,"syncInterval":5}', index: 2 });
    const event = await member.write(set('/message', 'Hello', member.clock.nowMs()));
    assert.equal(event.index, 3);
    assert.equal(event.created, true);
    assert.equal(member.isLeader(), true);
    assert.equal(member.healthy(), true);
    assert.ok(member.raftIndex() >= 4, `raft index ${member.raftIndex()}`);
    assert.equal(member.raftTerm(), 2);
    assert.equal(member.leader()?.id, member.self.id);
    assert.equal(member.clusterConfigJson(), '{"activeSize":9,"removeDelay":1800,"syncInterval":5}');
    assert.deepEqual((member.leaderStats() as { followers: object }).followers, {});
    await member.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('apply errors reach the proposer and consume no index; concurrent writes get consecutive indexes', async () => {
  const dir = tempDir();
  try {
    const { member } = await open(dir);
    const now = member.clock.nowMs();
    const events = await Promise.all(Array.from({ length: 50 }, (_, i) => member.write(set(`/k/${i}`, `v${i}`, now))));
    assert.deepEqual(events.map((e) => e.index), Array.from({ length: 50 }, (_, i) => 3 + i));
    const failure = member.write({ op: 'create', key: '/k/0', value: 'x', dir: false, expireAtMs: null, inOrder: false, nowMs: now });
    await assert.rejects(failure, (error: unknown) => error instanceof EtcdError && error.errorCode === 105 && error.index === 52);
    assert.equal(member.store.index, 52);
    await member.readBarrier();
    await member.stop();
    await assert.rejects(member.write(set('/late', 'x', now)), (error: unknown) => error instanceof EtcdError && error.errorCode === 300);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('restart keeps keys, indexes, TTLs and history; the same identity leads again', async () => {
  const dir = tempDir();
  const clock = new ManualClock(Date.now());
  try {
    const first = await open(dir, {}, clock);
    const expireAtMs = clock.nowMs() + 60_000;
    await first.member.write(set('/a', '1', clock.nowMs()));
    await first.member.write(set('/ttl', 't', clock.nowMs(), expireAtMs));
    await first.member.write({ op: 'delete', key: '/a', dir: false, recursive: false, nowMs: clock.nowMs() });
    const id = first.member.self.id;
    await first.member.stop();

    const second = await open(dir, { peerUrls: ['http://127.0.0.1:7999'] }, clock);
    assert.equal(second.member.self.id, id);
    // The new peer address is published through the log: the machine record follows it.
    assert.equal(second.member.store.index, 6);
    assert.deepEqual(valueOf(second.member, '/_etcd/machines/node1'), { value: 'etcd=http%3A%2F%2F127.0.0.1%3A4001&raft=http%3A%2F%2F127.0.0.1%3A7999', index: 6 });
    const ttlNode = second.member.store.get('/ttl', { recursive: false, sorted: false }, clock.nowMs()).json.node;
    assert.equal(ttlNode?.ttl, 60);
    assert.equal(ttlNode?.modifiedIndex, 4);
    const watcher = second.member.store.watch('/a', { recursive: false, stream: false, sinceIndex: 3 });
    const replayed = await new Promise((resolve) => watcher.onEvent(resolve));
    assert.deepEqual((replayed as { json: object }).json, { action: 'set', node: { key: '/a', value: '1', modifiedIndex: 3, createdIndex: 3 } });
    assert.equal((await second.member.write(set('/b', '2', clock.nowMs()))).index, 7);
    await second.member.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshots every snapshotCount entries compact the log; restart recovers from the snapshot', async () => {
  const dir = tempDir();
  try {
    const { member } = await open(dir, { snapshotCount: 25 });
    const now = member.clock.nowMs();
    for (let i = 0; i < 120; i++) await member.write(set(`/s/${i % 10}`, `v${i}`, now));
    assert.ok(member.lastSnapshotIndex() >= 100, `snapshot at ${member.lastSnapshotIndex()}`);
    assert.ok(readdirSync(join(dir, 'snap')).length >= 1);
    const firstIndex = member.durableFirstIndex();
    assert.ok(firstIndex > 100, `log still starts at ${firstIndex}`);
    await member.stop();

    const again = await open(dir, { snapshotCount: 25 });
    assert.equal(again.member.store.index, 122);
    assert.deepEqual(valueOf(again.member, '/s/9'), { value: 'v119', index: 122 });
    assert.deepEqual(valueOf(again.member, '/_etcd/machines/node1').index, 1);
    await again.member.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TTLs expire only through SYNC entries carrying the leader clock', async () => {
  const dir = tempDir();
  const clock = new ManualClock(Date.now());
  try {
    const { member } = await open(dir, {}, clock);
    await member.write(set('/ttl', 'x', clock.nowMs(), clock.nowMs() + 1_000));
    const raftIndexBefore = member.raftIndex();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(valueOf(member, '/ttl').value, 'x', 'expired before its time');
    assert.equal(member.raftIndex(), raftIndexBefore, 'a SYNC was proposed with no TTL due');
    clock.advance(1_000);
    const deadline = Date.now() + 3_000;
    while (member.store.index < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(member.store.index, 4, 'the expiry took index 4');
    assert.throws(() => valueOf(member, '/ttl'), (error: unknown) => error instanceof EtcdError && error.errorCode === 100);
    assert.equal(member.store.stats().expireCount, 1);
    await member.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an fsync failure stops the member: the write is never acknowledged', async () => {
  const dir = tempDir();
  const fs = new FaultFileSystem();
  try {
    const { member, fatal } = await open(dir, {}, new ManualClock(Date.now()), fs);
    fs.inject({ op: 'sync', code: 'EIO', pathIncludes: 'wal', times: Infinity });
    let acknowledged = false;
    const write = member.write(set('/doomed', 'x', member.clock.nowMs())).then(() => (acknowledged = true), () => undefined);
    const deadline = Date.now() + 3_000;
    while (fatal.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(fatal.length, 1);
    assert.match(String(fatal[0]), /EIO/);
    assert.equal(member.isLeader(), false);
    assert.equal(member.healthy(), false);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(acknowledged, false);
    void write;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('group commit: writes proposed in one event-loop turn share one WAL write and one fsync', async () => {
  const dir = tempDir();
  const fs = new FaultFileSystem();
  try {
    const { member } = await open(dir, {}, new ManualClock(Date.now()), fs);
    const syncsBefore = fs.syncCalls;
    const appendsBefore = fs.appendCalls;
    const now = member.clock.nowMs();
    const events = await Promise.all(Array.from({ length: 64 }, (_, i) => member.write(set(`/g/${i}`, 'v', now))));
    assert.equal(events.length, 64);
    // One batch carries the 64 entries (fsynced); the next Ready only records the commit index.
    assert.equal(fs.syncCalls - syncsBefore, 1, `fsyncs for one turn of writes: ${fs.syncCalls - syncsBefore}`);
    assert.ok(fs.appendCalls - appendsBefore <= 2, `WAL writes for one turn of writes: ${fs.appendCalls - appendsBefore}`);
    await member.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A file system whose fsync takes `syncMs` (a real disk's flush), to make batching visible. */
class SlowSyncFileSystem extends FaultFileSystem {
  constructor(private readonly syncMs: number) {
    super();
  }
  override async openAppend(path: string): Promise<AppendFile> {
    return new SlowSyncFile(await super.openAppend(path), this.syncMs);
  }
  override async createTruncate(path: string): Promise<AppendFile> {
    return new SlowSyncFile(await super.createTruncate(path), this.syncMs);
  }
}

class SlowSyncFile implements AppendFile {
  constructor(
    private readonly inner: AppendFile,
    private readonly syncMs: number,
  ) {}
  get path(): string {
    return this.inner.path;
  }
  get size(): number {
    return this.inner.size;
  }
  append(data: Uint8Array): Promise<void> {
    return this.inner.append(data);
  }
  async sync(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.syncMs));
    await this.inner.sync();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

test('group commit holds the next batch until the writers just answered are back, so they share one fsync', async () => {
  const dir = tempDir();
  const fs = new SlowSyncFileSystem(5);
  const rounds = 8;
  let stopAfter: Member | undefined;
  try {
    const { member } = await open(dir, { groupCommitWaitMs: 4 }, new ManualClock(Date.now()), fs);
    stopAfter = member;
    const now = member.clock.nowMs();
    await member.write(set('/warm', 'v', now)); // the member learns how long an fsync takes
    const syncsBefore = fs.syncCalls;
    // Half the clients come back at once, half a millisecond-timer later (network jitter):
    // without the hold they would split into two batches that take turns.
    const client = async (i: number): Promise<number> => {
      let lastIndex = 0;
      for (let round = 0; round < rounds; round++) {
        lastIndex = (await member.write(set(`/c/${i}`, `${round}`, now))).index;
        await new Promise((resolve) => (i % 2 === 0 ? setImmediate(resolve) : setTimeout(resolve, 1)));
      }
      return lastIndex;
    };
    const lastIndexes = await Promise.all(Array.from({ length: 16 }, (_, i) => client(i)));
    assert.equal(new Set(lastIndexes).size, 16, 'every client got its own final index');
    const syncs = fs.syncCalls - syncsBefore;
    assert.ok(syncs <= rounds + 2, `fsyncs for ${rounds} rounds of 16 returning writers: ${syncs}`);
    assert.equal(valueOf(member, '/c/15').value, `${rounds - 1}`);
  } finally {
    await stopAfter?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
