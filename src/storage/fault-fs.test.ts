import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeededPrng } from '../common/prng.js';
import { FaultFileSystem } from './fault-fs.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

async function fsWithDir(): Promise<FaultFileSystem> {
  const fs = new FaultFileSystem();
  await fs.mkdirp('/d');
  return fs;
}

describe('FaultFileSystem', () => {
  it('crash() keeps synced bytes and drops unsynced ones', async () => {
    const fs = await fsWithDir();
    const file = await fs.openAppend('/d/a');
    await fs.fsyncDir('/d');
    await file.append(bytes('synced.'));
    await file.sync();
    await file.append(bytes('lost'));
    assert.equal(text(await fs.readFile('/d/a')), 'synced.lost');
    fs.crash();
    assert.equal(text(await fs.readFile('/d/a')), 'synced.');
  });

  it('crash(prng) may keep a torn prefix of the unsynced tail, never more', async () => {
    const seed = 7;
    console.log(`fault-fs torn prefix seed ${seed}`);
    const prng = new SeededPrng(seed);
    const lengths = new Set<number>();
    for (let round = 0; round < 40; round++) {
      const fs = await fsWithDir();
      const file = await fs.openAppend('/d/a');
      await fs.fsyncDir('/d');
      await file.append(bytes('AB'));
      await file.sync();
      await file.append(bytes('cdefgh'));
      fs.crash(prng);
      const after = text(await fs.readFile('/d/a'));
      assert.ok('ABcdefgh'.startsWith(after) && after.length >= 2, `torn content ${after}`);
      lengths.add(after.length);
    }
    assert.ok(lengths.size > 2, 'different torn lengths occur');
  });

  it('a file whose directory was never fsynced vanishes on crash; a rename reverts', async () => {
    const fs = await fsWithDir();
    const kept = await fs.createTruncate('/d/kept');
    await kept.append(bytes('k'));
    await kept.sync();
    await fs.fsyncDir('/d');
    const fresh = await fs.createTruncate('/d/fresh');
    await fresh.append(bytes('f'));
    await fresh.sync();
    await fs.rename('/d/kept', '/d/renamed');
    fs.crash();
    assert.deepEqual(await fs.list('/d'), ['kept']);
  });

  it('injected faults fire the given number of times; ENOSPC may leave a prefix', async () => {
    const fs = await fsWithDir();
    const file = await fs.openAppend('/d/a');
    fs.inject({ op: 'append', code: 'ENOSPC', keepBytes: 2 });
    await assert.rejects(file.append(bytes('abcd')), { code: 'ENOSPC' });
    assert.equal(text(fs.bytesOf('/d/a')), 'ab');
    await file.append(bytes('Z'));
    fs.inject({ op: 'sync', code: 'EIO', pathIncludes: '/d/a', times: 2 });
    await assert.rejects(file.sync(), { code: 'EIO' });
    await assert.rejects(file.sync(), { code: 'EIO' });
    await file.sync();
    assert.equal(fs.appendCalls, 2);
    assert.equal(fs.syncCalls, 3);
  });

  it('handles opened before a crash are dead after it', async () => {
    const fs = await fsWithDir();
    const file = await fs.openAppend('/d/a');
    fs.crash();
    await assert.rejects(file.append(bytes('x')), { code: 'EBADF' });
  });
});
