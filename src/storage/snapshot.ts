/**
 * Snapshot files `<dir>/<term>-<index>.snap` (16 hex digits each):
 *
 *   crc32 u32 LE | metadata length u32 LE | metadata JSON {index, term, confState} | data
 *
 * with the CRC over everything after it. A snapshot is written to `<name>.tmp`, fsynced, renamed
 * into place and the directory fsynced, so a crash leaves either the whole file or none (a
 * leftover .tmp is deleted on start).
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { assert, assertSafeIndex } from '../common/assert.js';
import type { ConfState, Snapshot, SnapshotMetadata } from '../raft/types.js';
import type { FileSystem } from './fs.js';

export interface SnapshotFile {
  readonly path: string;
  readonly index: number;
  readonly term: number;
}

/** A snapshot file that cannot be used; `reason` says why. */
export class SnapshotCorruptError extends Error {
  override name = 'SnapshotCorruptError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`snapshot corrupt: ${path}: ${reason}`);
  }
}

const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const TMP_SUFFIX = '.tmp';
const BROKEN_SUFFIX = '.broken';
const HEADER_BYTES = 8;

export function snapshotName(term: number, index: number): string {
  assertSafeIndex(term, 'snapshot term');
  assertSafeIndex(index, 'snapshot index');
  return `${term.toString(16).padStart(16, '0')}-${index.toString(16).padStart(16, '0')}.snap`;
}

export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const { index, term, confState } = snapshot.metadata;
  const meta = Buffer.from(JSON.stringify({ index, term, confState: { voters: confState.voters, learners: confState.learners } }));
  const buf = Buffer.allocUnsafe(HEADER_BYTES + meta.length + snapshot.data.length);
  buf.writeUInt32LE(meta.length, 4);
  meta.copy(buf, HEADER_BYTES);
  buf.set(snapshot.data, HEADER_BYTES + meta.length);
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0);
  return buf;
}

/** Decodes and verifies a snapshot file's bytes; throws SnapshotCorruptError. */
export function decodeSnapshot(path: string, bytes: Uint8Array): Snapshot {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES) throw new SnapshotCorruptError(path, `short file (${buf.length} bytes)`);
  if (crc32(buf.subarray(4)) !== buf.readUInt32LE(0)) throw new SnapshotCorruptError(path, 'crc mismatch');
  const metaBytes = buf.readUInt32LE(4);
  if (HEADER_BYTES + metaBytes > buf.length) throw new SnapshotCorruptError(path, 'metadata length past end of file');
  const metadata = parseMetadata(path, buf.toString('utf8', HEADER_BYTES, HEADER_BYTES + metaBytes));
  return { metadata, data: new Uint8Array(buf.subarray(HEADER_BYTES + metaBytes)) };
}

function parseMetadata(path: string, text: string): SnapshotMetadata {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SnapshotCorruptError(path, 'metadata is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new SnapshotCorruptError(path, 'metadata is not an object');
  const { index, term, confState } = parsed as { index?: unknown; term?: unknown; confState?: unknown };
  if (!isIndex(index) || !isIndex(term)) throw new SnapshotCorruptError(path, 'metadata index/term invalid');
  return { index, term, confState: parseConfState(path, confState) };
}

function parseConfState(path: string, value: unknown): ConfState {
  const { voters, learners } = (typeof value === 'object' && value !== null ? value : {}) as { voters?: unknown; learners?: unknown };
  if (!isStringArray(voters) || !isStringArray(learners)) throw new SnapshotCorruptError(path, 'metadata confState invalid');
  return { voters, learners };
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** The snapshot directory. */
export class SnapshotStore {
  constructor(
    readonly dir: string,
    private readonly fs: FileSystem,
  ) {}

  /** Creates the directory and deletes temp files a crash left behind. */
  async init(): Promise<void> {
    await this.fs.mkdirp(this.dir);
    const leftovers = (await this.fs.list(this.dir)).filter((name) => name.endsWith(TMP_SUFFIX));
    for (const name of leftovers) await this.fs.unlink(join(this.dir, name));
    if (leftovers.length > 0) await this.fs.fsyncDir(this.dir);
  }

  /** Snapshot files, newest (highest index) first. */
  async list(): Promise<SnapshotFile[]> {
    const files: SnapshotFile[] = [];
    for (const name of await this.fs.list(this.dir)) {
      const match = SNAP_NAME.exec(name);
      if (match === null || match[1] === undefined || match[2] === undefined) continue;
      files.push({ path: join(this.dir, name), term: parseInt(match[1], 16), index: parseInt(match[2], 16) });
    }
    return files.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /** Reads and verifies one file, including that its name matches its content. */
  async load(file: SnapshotFile): Promise<Snapshot> {
    const snapshot = decodeSnapshot(file.path, await this.fs.readFile(file.path));
    const { index, term } = snapshot.metadata;
    if (index !== file.index || term !== file.term) {
      throw new SnapshotCorruptError(file.path, `content is snapshot ${term}-${index}, not the file name's`);
    }
    return snapshot;
  }

  /** temp file, fsync, rename, fsync dir: the snapshot is durable and whole when this resolves. */
  async save(snapshot: Snapshot): Promise<SnapshotFile> {
    const { index, term } = snapshot.metadata;
    const path = join(this.dir, snapshotName(term, index));
    const tmpPath = path + TMP_SUFFIX;
    const file = await this.fs.createTruncate(tmpPath);
    try {
      await file.append(encodeSnapshot(snapshot));
      await file.sync();
    } finally {
      await file.close();
    }
    await this.fs.rename(tmpPath, path);
    await this.fs.fsyncDir(this.dir);
    return { path, index, term };
  }

  /** Renames unusable snapshot files to `<name>.broken` (kept for inspection, never loaded). */
  async setAside(files: readonly SnapshotFile[]): Promise<void> {
    for (const file of files) await this.fs.rename(file.path, file.path + BROKEN_SUFFIX);
    if (files.length > 0) await this.fs.fsyncDir(this.dir);
  }

  /** Deletes all but the newest `keep` snapshots; returns those kept, newest first. */
  async purge(keep: number): Promise<SnapshotFile[]> {
    assert(Number.isSafeInteger(keep) && keep >= 1, 'snapshot purge must keep at least one');
    const files = await this.list();
    const doomed = files.slice(keep);
    for (const file of doomed) await this.fs.unlink(file.path);
    if (doomed.length > 0) await this.fs.fsyncDir(this.dir);
    return files.slice(0, keep);
  }
}
