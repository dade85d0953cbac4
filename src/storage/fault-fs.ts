/**
 * An in-memory FileSystem that fails the way disks fail, for tests of the WAL and snapshots.
 *
 * Model: a file is an inode with its current bytes and its durable bytes (what survives a power
 * cut: updated by sync()). Names live in two namespaces: the current one, and the durable one
 * that fsyncDir() copies the directory's names into. crash() replaces the current state by the
 * durable one — every byte and every name change not yet synced is lost — optionally keeping a
 * torn prefix of the unsynced bytes. Directories themselves are treated as durable at once.
 *
 * Faults are injected per operation (`inject`): fsync EIO, ENOSPC on append (optionally after
 * writing a prefix), and so on. Counters record how many appends and syncs were issued, so tests
 * can assert group commit (one write and one fsync per batch).
 */
import { assert } from '../common/assert.js';
import type { Prng } from '../common/prng.js';
import { errnoError, type AppendFile, type FileSystem } from './fs.js';

export type FaultOp = 'append' | 'sync' | 'createTruncate' | 'openAppend' | 'rename' | 'unlink' | 'fsyncDir' | 'truncateSync';

export interface FaultRule {
  readonly op: FaultOp;
  /** errno code to throw, e.g. 'EIO', 'ENOSPC'. */
  readonly code: string;
  /** Only paths containing this substring (default: any path). */
  readonly pathIncludes?: string;
  /** How many times the fault fires before it is used up (default 1; Infinity = forever). */
  readonly times?: number;
  /** append only: bytes of the data that reach the file before the error (default 0). */
  readonly keepBytes?: number;
}

class Inode {
  bytes: Uint8Array = new Uint8Array(0);
  length = 0;
  durable: Uint8Array = new Uint8Array(0);

  content(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  appendBytes(data: Uint8Array): void {
    if (this.length + data.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + data.length, 256));
      grown.set(this.content());
      this.bytes = grown;
    }
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  /** Copy on sync: later appends and truncations must not change what is durable. */
  sync(): void {
    this.durable = this.content().slice();
  }

  truncate(length: number): void {
    assert(length <= this.length, 'fault-fs truncate only shrinks');
    const kept = this.content().slice(0, length);
    this.bytes = kept;
    this.length = length;
  }
}

interface Rule {
  readonly op: FaultOp;
  readonly code: string;
  readonly pathIncludes: string;
  remaining: number;
  readonly keepBytes: number;
}

export class FaultFileSystem implements FileSystem {
  private names = new Map<string, Inode>();
  private durableNames = new Map<string, Inode>();
  private dirs = new Set<string>(['/']);
  private rules: Rule[] = [];
  /** Bumped by crash(): handles opened before it are dead. */
  private generation = 0;
  appendCalls = 0;
  syncCalls = 0;

  inject(rule: FaultRule): void {
    this.rules.push({
      op: rule.op,
      code: rule.code,
      pathIncludes: rule.pathIncludes ?? '',
      remaining: rule.times ?? 1,
      keepBytes: rule.keepBytes ?? 0,
    });
  }

  clearFaults(): void {
    this.rules = [];
  }

  /** The matching rule, used up by one firing; undefined when the operation should succeed. */
  takeFault(op: FaultOp, path: string): Rule | undefined {
    const rule = this.rules.find((r) => r.op === op && r.remaining > 0 && path.includes(r.pathIncludes));
    if (rule === undefined) return undefined;
    rule.remaining -= 1;
    return rule;
  }

  private throwIfFault(op: FaultOp, path: string): void {
    const rule = this.takeFault(op, path);
    if (rule !== undefined) throw errnoError(rule.code, op, path);
  }

  /**
   * Power cut: every name change not fsyncDir'ed and every byte not synced is lost. With a prng,
   * each file keeps a random prefix of its unsynced tail (a torn write), as disks do.
   */
  crash(prng?: Prng): void {
    this.generation += 1;
    const survivors = new Map<string, Inode>();
    const seen = new Set<Inode>();
    for (const [path, inode] of this.durableNames) {
      if (!seen.has(inode)) {
        seen.add(inode);
        restoreDurable(inode, prng);
      }
      survivors.set(path, inode);
    }
    this.names = new Map(survivors);
    this.durableNames = survivors;
  }

  /** Test helper: the current bytes of a file. */
  bytesOf(path: string): Uint8Array {
    const inode = this.names.get(path);
    assert(inode !== undefined, () => `fault-fs: no file ${path}`);
    return inode.content().slice();
  }

  async mkdirp(path: string): Promise<void> {
    await tick();
    let dir = normalise(path);
    while (!this.dirs.has(dir)) {
      this.dirs.add(dir);
      dir = parentOf(dir);
    }
  }

  async list(path: string): Promise<string[]> {
    await tick();
    const dir = normalise(path);
    const names: string[] = [];
    for (const file of this.names.keys()) if (parentOf(file) === dir) names.push(baseOf(file));
    for (const sub of this.dirs) if (sub !== dir && parentOf(sub) === dir) names.push(baseOf(sub));
    return names.sort();
  }

  async readFile(path: string): Promise<Uint8Array> {
    await tick();
    const inode = this.names.get(normalise(path));
    if (inode === undefined) throw errnoError('ENOENT', 'open', path);
    return inode.content().slice();
  }

  async openAppend(path: string): Promise<AppendFile> {
    await tick();
    const file = normalise(path);
    this.throwIfFault('openAppend', file);
    this.requireDir(parentOf(file), path);
    let inode = this.names.get(file);
    if (inode === undefined) {
      inode = new Inode();
      this.names.set(file, inode);
    }
    return new FaultAppendFile(this, file, inode, this.generation);
  }

  async createTruncate(path: string): Promise<AppendFile> {
    await tick();
    const file = normalise(path);
    this.throwIfFault('createTruncate', file);
    this.requireDir(parentOf(file), path);
    const inode = new Inode();
    this.names.set(file, inode);
    return new FaultAppendFile(this, file, inode, this.generation);
  }

  async truncateSync(path: string, length: number): Promise<void> {
    await tick();
    const file = normalise(path);
    this.throwIfFault('truncateSync', file);
    const inode = this.names.get(file);
    if (inode === undefined) throw errnoError('ENOENT', 'truncate', path);
    inode.truncate(length);
    inode.sync();
  }

  async rename(from: string, to: string): Promise<void> {
    await tick();
    const source = normalise(from);
    this.throwIfFault('rename', source);
    const inode = this.names.get(source);
    if (inode === undefined) throw errnoError('ENOENT', 'rename', from);
    this.requireDir(parentOf(normalise(to)), to);
    this.names.delete(source);
    this.names.set(normalise(to), inode);
  }

  async unlink(path: string): Promise<void> {
    await tick();
    const file = normalise(path);
    this.throwIfFault('unlink', file);
    if (!this.names.delete(file)) throw errnoError('ENOENT', 'unlink', path);
  }

  async fsyncDir(path: string): Promise<void> {
    await tick();
    const dir = normalise(path);
    this.throwIfFault('fsyncDir', dir);
    for (const file of [...this.durableNames.keys()]) {
      if (parentOf(file) === dir) this.durableNames.delete(file);
    }
    for (const [file, inode] of this.names) {
      if (parentOf(file) === dir) this.durableNames.set(file, inode);
    }
  }

  /** For FaultAppendFile: a handle from before a crash must not touch the new world. */
  checkAlive(generation: number, path: string): void {
    if (generation !== this.generation) throw errnoError('EBADF', 'write', path);
  }

  private requireDir(dir: string, path: string): void {
    if (!this.dirs.has(dir)) throw errnoError('ENOENT', 'open', path);
  }
}

class FaultAppendFile implements AppendFile {
  private closed = false;

  constructor(
    private readonly fs: FaultFileSystem,
    readonly path: string,
    private readonly inode: Inode,
    private readonly generation: number,
  ) {}

  get size(): number {
    return this.inode.length;
  }

  async append(data: Uint8Array): Promise<void> {
    await tick();
    this.checkUsable();
    this.fs.appendCalls += 1;
    const rule = this.fs.takeFault('append', this.path);
    if (rule !== undefined) {
      this.inode.appendBytes(data.subarray(0, Math.min(rule.keepBytes, data.length)));
      throw errnoError(rule.code, 'write', this.path);
    }
    this.inode.appendBytes(data);
  }

  async sync(): Promise<void> {
    await tick();
    this.checkUsable();
    this.fs.syncCalls += 1;
    const rule = this.fs.takeFault('sync', this.path);
    if (rule !== undefined) throw errnoError(rule.code, 'fsync', this.path);
    this.inode.sync();
  }

  async close(): Promise<void> {
    await tick();
    this.closed = true;
  }

  private checkUsable(): void {
    if (this.closed) throw errnoError('EBADF', 'write', this.path);
    this.fs.checkAlive(this.generation, this.path);
  }
}

function restoreDurable(inode: Inode, prng: Prng | undefined): void {
  const current = inode.content();
  const durable = inode.durable;
  let kept = durable;
  const extendsDurable = current.length > durable.length && sameBytes(current.subarray(0, durable.length), durable);
  if (prng !== undefined && extendsDurable) {
    const tornBytes = prng.int(current.length - durable.length + 1);
    kept = current.slice(0, durable.length + tornBytes);
  }
  inode.bytes = kept.slice();
  inode.length = kept.length;
  inode.durable = kept.slice();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Real file systems answer asynchronously; so does this one, to keep the same interleavings. */
function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function normalise(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
