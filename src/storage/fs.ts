/**
 * The FileSystem seam of the storage layer. The WAL and the snapshot files do all their I/O
 * through this interface so tests can inject the failures real disks produce (EIO on fsync,
 * ENOSPC on write) and simulate a power cut that loses every byte not yet fsynced.
 *
 * Only what durability needs is here: append-only files with an explicit sync, whole-file
 * reads at start-up, rename and directory sync for atomic file replacement.
 */
import { open, mkdir, readdir, readFile, rename, unlink, truncate, type FileHandle } from 'node:fs/promises';
import { assert } from '../common/assert.js';

/** A file opened for appending. Writes go to the end; nothing is durable before sync(). */
export interface AppendFile {
  readonly path: string;
  /** Bytes in the file (including unsynced ones). */
  readonly size: number;
  /** Appends every byte of data (one write). Rejects on error; the file may then hold a prefix. */
  append(data: Uint8Array): Promise<void>;
  /** Makes every appended byte durable (fdatasync). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileSystem {
  /** mkdir -p. */
  mkdirp(path: string): Promise<void>;
  /** Entry names of a directory, sorted; [] when the directory does not exist. */
  list(path: string): Promise<string[]>;
  readFile(path: string): Promise<Uint8Array>;
  /** Opens (creating it if missing) for appending at the current end. */
  openAppend(path: string): Promise<AppendFile>;
  /** Creates the file empty (truncating any old content) and opens it for appending. */
  createTruncate(path: string): Promise<AppendFile>;
  /** Cuts the file to length bytes and makes the cut durable. */
  truncateSync(path: string, length: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Makes creations, renames and unlinks inside the directory durable. */
  fsyncDir(path: string): Promise<void>;
}

class NodeAppendFile implements AppendFile {
  private sizeBytes: number;

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    initialSizeBytes: number,
  ) {
    this.sizeBytes = initialSizeBytes;
  }

  get size(): number {
    return this.sizeBytes;
  }

  async append(data: Uint8Array): Promise<void> {
    let written = 0;
    // A write may be short (e.g. near a full disk); keep writing the rest, at explicit positions
    // so a failed attempt never leaves the in-process size out of step with what we asked for.
    while (written < data.length) {
      const { bytesWritten } = await this.handle.write(data, written, data.length - written, this.sizeBytes);
      assert(bytesWritten > 0, () => `write to ${this.path} made no progress`);
      written += bytesWritten;
      this.sizeBytes += bytesWritten;
    }
  }

  async sync(): Promise<void> {
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** The real file system (node:fs/promises; every call is asynchronous, off the event loop). */
export class NodeFileSystem implements FileSystem {
  async mkdirp(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  }

  async list(path: string): Promise<string[]> {
    try {
      return (await readdir(path)).sort();
    } catch (err) {
      if (isErrnoCode(err, 'ENOENT')) return [];
      throw err;
    }
  }

  async readFile(path: string): Promise<Uint8Array> {
    return await readFile(path);
  }

  async openAppend(path: string): Promise<AppendFile> {
    const handle = await open(path, 'a+');
    const { size } = await handle.stat();
    return new NodeAppendFile(path, handle, size);
  }

  async createTruncate(path: string): Promise<AppendFile> {
    // 'w' then writes at explicit positions: same behaviour as an append file starting empty.
    const handle = await open(path, 'w');
    return new NodeAppendFile(path, handle, 0);
  }

  async truncateSync(path: string, length: number): Promise<void> {
    await truncate(path, length);
    const handle = await open(path, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    await unlink(path);
  }

  async fsyncDir(path: string): Promise<void> {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

export function isErrnoCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

/** An Error shaped like the ones node:fs throws, for the fault-injecting file system. */
export function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${syscall} '${path}'`);
  err.code = code;
  err.syscall = syscall;
  err.path = path;
  return err;
}
