/** Real-disk helpers for the WAL crash suite: temp data dirs built from saved file images. */
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultFileSystem } from '../../src/storage/fault-fs.js';

export type DirImage = Map<string, Buffer>;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Every file under dir (relative path -> bytes). */
export function readImage(dir: string): DirImage {
  const image: DirImage = new Map();
  for (const sub of ['wal', 'snap']) {
    let names: string[] = [];
    try {
      names = readdirSync(join(dir, sub));
    } catch {
      continue;
    }
    for (const name of names) image.set(`${sub}/${name}`, readFileSync(join(dir, sub, name)));
  }
  return image;
}

export function writeImage(dir: string, image: DirImage): void {
  mkdirSync(join(dir, 'wal'), { recursive: true });
  mkdirSync(join(dir, 'snap'), { recursive: true });
  for (const [path, bytes] of image) writeFileSync(join(dir, path), bytes);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The same image inside a fresh fault-injecting file system at dir (durable, as after a clean shutdown). */
export async function faultFsWithImage(dir: string, image: DirImage): Promise<FaultFileSystem> {
  const fs = new FaultFileSystem();
  await fs.mkdirp(join(dir, 'wal'));
  await fs.mkdirp(join(dir, 'snap'));
  for (const [path, bytes] of image) {
    const file = await fs.createTruncate(join(dir, path));
    await file.append(bytes);
    await file.sync();
    await file.close();
  }
  await fs.fsyncDir(join(dir, 'wal'));
  await fs.fsyncDir(join(dir, 'snap'));
  return fs;
}
