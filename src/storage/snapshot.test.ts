import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from '../raft/types.js';
import { FaultFileSystem } from './fault-fs.js';
import { SnapshotCorruptError, SnapshotStore, decodeSnapshot, encodeSnapshot, snapshotName } from './snapshot.js';

function snap(index: number, term: number, text = `state@${index}`): Snapshot {
  return { data: new TextEncoder().encode(text), metadata: { index, term, confState: { voters: ['a'], learners: ['b'] } } };
}

async function store(): Promise<{ fs: FaultFileSystem; snaps: SnapshotStore }> {
  const fs = new FaultFileSystem();
  const snaps = new SnapshotStore('/data/snap', fs);
  await snaps.init();
  return { fs, snaps };
}

describe('snapshot files', () => {
  it('encode/decode round-trips; names are <term>-<index>.snap in 16 hex digits', () => {
    const s = snap(300, 7);
    assert.deepEqual(decodeSnapshot('x', encodeSnapshot(s)), s);
    assert.equal(snapshotName(7, 300), '0000000000000007-000000000000012c.snap');
  });

  it('any flipped byte is refused with the path and a reason', () => {
    const bytes = encodeSnapshot(snap(3, 1));
    for (let i = 0; i < bytes.length; i++) {
      const copy = Buffer.from(bytes);
      copy[i] = (copy[i] ?? 0) ^ 0x01;
      assert.throws(() => decodeSnapshot('/p.snap', copy), (err: unknown) => err instanceof SnapshotCorruptError && err.message.startsWith('snapshot corrupt: /p.snap: '));
    }
  });

  it('save is durable and whole: it survives a crash, and a crash before the rename leaves nothing', async () => {
    const { fs, snaps } = await store();
    await snaps.save(snap(5, 2));
    fs.crash();
    const [file] = await snaps.list();
    assert.ok(file !== undefined);
    assert.deepEqual(await snaps.load(file), snap(5, 2));

    fs.inject({ op: 'rename', code: 'EIO' });
    await assert.rejects(snaps.save(snap(9, 2)), { code: 'EIO' });
    fs.crash();
    await snaps.init();
    assert.deepEqual((await fs.list('/data/snap')).length, 1);
  });

  it('a file whose content does not match its name is refused', async () => {
    const { fs, snaps } = await store();
    const file = await fs.createTruncate('/data/snap/' + snapshotName(1, 10));
    await file.append(encodeSnapshot(snap(11, 1)));
    const [listed] = await snaps.list();
    assert.ok(listed !== undefined);
    await assert.rejects(snaps.load(listed), /not the file name's/);
  });

  it('list is newest first; purge keeps the newest n', async () => {
    const { snaps } = await store();
    for (const [index, term] of [[10, 1], [30, 2], [20, 2], [40, 3]] as const) await snaps.save(snap(index, term));
    assert.deepEqual((await snaps.list()).map((f) => f.index), [40, 30, 20, 10]);
    const kept = await snaps.purge(2);
    assert.deepEqual(kept.map((f) => f.index), [40, 30]);
    assert.deepEqual((await snaps.list()).map((f) => f.index), [40, 30]);
  });
});
