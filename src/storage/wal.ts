/**
 * The write-ahead log: append-only segment files `<dir>/<seq>-<firstIndex>.wal` (16 hex digits
 * each) holding framed records (wal-record.ts).
 *
 * Write path (group commit): save() only queues records; everything queued in one event-loop
 * turn is encoded into ONE buffer, written with ONE write and made durable with ONE fdatasync.
 * The promises of that batch resolve only after the sync. While a batch is in flight, new saves
 * queue for the next one. A failed write or sync rejects the batch and everything queued after
 * it, and poisons the WAL: every later save rejects too — the member must exit, because the
 * file may now hold an unknown prefix of the batch.
 *
 * Replay (open): records are applied in order; an entry at index i replaces any earlier entry at
 * i and discards everything after it (a new leader's overwrite). A bad record at the tail of the
 * LAST segment with nothing valid after it is a torn write from a crash: the file is cut there.
 * Any other bad record is corruption: WalCorruptError names the file and the byte offset.
 *
 * Every segment starts with the metadata record and the last written hard state, so segments
 * wholly behind a snapshot can be deleted without losing either. Opening always starts a fresh
 * segment, so a repaired tail is never appended to.
 */
import { join } from 'node:path';
import { assert, assertSafeIndex } from '../common/assert.js';
import type { Entry, HardState } from '../raft/types.js';
import type { AppendFile, FileSystem } from './fs.js';
import {
  MAX_RECORD_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  RecordType,
  decodeRecordAt,
  encodeRecords,
  type SnapshotMarker,
  type WalRecord,
} from './wal-record.js';

export interface WalConfig {
  /** A segment is closed and a new one started once a batch would take it past this size. */
  readonly segmentBytes: number;
  /** Written into a brand-new WAL (member id, cluster id); an existing WAL keeps its own. */
  readonly metadata: Uint8Array;
}

export function defaultWalConfig(): WalConfig {
  return { segmentBytes: 64 * 1024 * 1024, metadata: new Uint8Array(0) };
}

export function validateWalConfig(config: WalConfig): void {
  assert(
    Number.isSafeInteger(config.segmentBytes) && config.segmentBytes >= 1024,
    () => `wal segmentBytes must be an integer >= 1024, got ${config.segmentBytes}`,
  );
  assert(config.metadata.length <= MAX_RECORD_PAYLOAD_BYTES, 'wal metadata too large');
}

/** Corruption the WAL cannot repair: the member prints the message and refuses to start. */
export class WalCorruptError extends Error {
  override name = 'WalCorruptError';
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`wal corrupt: ${path} at offset ${offset}: ${reason}`);
  }
}

/** A write or sync failed: nothing more may be acknowledged; the process must exit. */
export class WalFailedError extends Error {
  override name = 'WalFailedError';
}

/** The log as the WAL recorded it, after overwrites and applied-snapshot resets. */
export interface WalReplay {
  /** False when the directory held no segment (a new member). */
  readonly existed: boolean;
  readonly metadata: Uint8Array;
  readonly hardState: HardState | undefined;
  /** Index just before entries[0] (or the last index when there are no entries). */
  readonly startIndex: number;
  /** Contiguous: entries[k].index === startIndex + 1 + k. */
  readonly entries: Entry[];
  readonly markers: readonly SnapshotMarker[];
  /** Set when a torn tail was cut away on open (for the member's log). */
  readonly repairedTail: { readonly path: string; readonly offset: number; readonly reason: string } | undefined;
}

interface Segment {
  readonly seq: number;
  readonly firstIndex: number;
  readonly path: string;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface Batch {
  readonly records: WalRecord[];
  readonly waiters: Waiter[];
  mustSync: boolean;
}

const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
/** A torn write is at most one batch; a longer bad tail is treated as corruption. */
const MAX_TORN_TAIL_BYTES = 64 * 1024 * 1024;

export function segmentName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

function hex16(value: number): string {
  assertSafeIndex(value, 'wal segment name field');
  return value.toString(16).padStart(16, '0');
}

function newBatch(): Batch {
  return { records: [], waiters: [], mustSync: false };
}

export class Wal {
  private pending: Batch = newBatch();
  private flushScheduled = false;
  private inFlight: Promise<void> | undefined;
  private failure: WalFailedError | undefined;
  private closed = false;
  /** Bytes of records (beyond the header) in the current segment. */
  private currentHasBatches = false;

  private constructor(
    private readonly dir: string,
    private readonly fs: FileSystem,
    private readonly config: WalConfig,
    private readonly segments: Segment[],
    private current: AppendFile,
    private readonly metadata: Uint8Array,
    private writtenHardState: HardState | undefined,
    /** Last log index as of everything written so far (names new segments). */
    private writtenLastIndex: number,
  ) {}

  /** Replays every segment (repairing a torn tail), then opens a fresh segment for appends. */
  static async open(dir: string, fs: FileSystem, config: WalConfig = defaultWalConfig()): Promise<{ wal: Wal; replay: WalReplay }> {
    validateWalConfig(config);
    await fs.mkdirp(dir);
    const segments = parseSegments(await fs.list(dir), dir);
    const replayer = new Replayer(segments[0]?.firstIndex ?? 1);
    let repairedTail: WalReplay['repairedTail'];
    for (const [k, segment] of segments.entries()) {
      const torn = replaySegment(await readBuffer(fs, segment.path), segment.path, k === segments.length - 1, replayer);
      if (torn !== undefined) {
        await fs.truncateSync(segment.path, torn.offset);
        repairedTail = { path: segment.path, ...torn };
      }
    }
    const existed = segments.length > 0;
    const metadata = replayer.metadata ?? config.metadata;
    const lastIndex = replayer.lastIndex();
    const seq = (segments[segments.length - 1]?.seq ?? -1) + 1;
    const wal = await Wal.startSegment(dir, fs, config, segments, seq, lastIndex, metadata, replayer.hardState);
    const replay: WalReplay = {
      existed,
      metadata,
      hardState: replayer.hardState,
      startIndex: replayer.startIndex,
      entries: replayer.entries,
      markers: replayer.markers,
      repairedTail,
    };
    return { wal, replay };
  }

  private static async startSegment(
    dir: string,
    fs: FileSystem,
    config: WalConfig,
    segments: Segment[],
    seq: number,
    lastIndex: number,
    metadata: Uint8Array,
    hardState: HardState | undefined,
  ): Promise<Wal> {
    const segment = { seq, firstIndex: lastIndex + 1, path: join(dir, segmentName(seq, lastIndex + 1)) };
    const file = await fs.createTruncate(segment.path);
    await file.append(encodeRecords(segmentHeader(metadata, hardState)));
    await file.sync();
    await fs.fsyncDir(dir);
    segments.push(segment);
    return new Wal(dir, fs, config, segments, file, metadata, hardState, lastIndex);
  }

  /**
   * Queues entries (then the hard state) for the next group commit. Resolves once written, and
   * fsynced if this or any other save of the batch asked for it. Rejects if the WAL has failed.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], mustSync: boolean): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    assert(!this.closed, 'wal save after close');
    for (const entry of entries) this.pending.records.push({ type: RecordType.Entry, entry });
    if (hardState !== undefined) this.pending.records.push({ type: RecordType.HardState, hardState });
    return this.enqueue(mustSync);
  }

  /** Records that a snapshot file at (index, term) is in place; always synced. */
  saveSnapshotMarker(marker: SnapshotMarker): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    assert(!this.closed, 'wal save after close');
    this.pending.records.push({ type: RecordType.SnapshotMarker, marker });
    return this.enqueue(true);
  }

  /** The error that poisoned the WAL, if any. */
  failed(): WalFailedError | undefined {
    return this.failure;
  }

  /** Paths of the segments currently held (oldest first). */
  segmentPaths(): string[] {
    return this.segments.map((s) => s.path);
  }

  /**
   * Deletes the segments whose every entry is at or before index (they are covered by a
   * snapshot). The current segment is never deleted. Returns how many were deleted.
   */
  async releaseThrough(index: number): Promise<number> {
    let count = 0;
    while (count < this.segments.length - 1) {
      const next = this.segments[count + 1];
      assert(next !== undefined, 'wal segment list hole');
      if (next.firstIndex - 1 > index) break;
      count += 1;
    }
    const released = this.segments.splice(0, count);
    for (const segment of released) await this.fs.unlink(segment.path);
    if (released.length > 0) await this.fs.fsyncDir(this.dir);
    return released.length;
  }

  /** Waits for queued writes, then closes the current segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.inFlight !== undefined || this.pending.waiters.length > 0) {
      await (this.inFlight ?? new Promise<void>((resolve) => setImmediate(resolve)));
    }
    this.closed = true;
    await this.current.close();
  }

  private enqueue(mustSync: boolean): Promise<void> {
    const batch = this.pending;
    batch.mustSync ||= mustSync;
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    this.scheduleFlush();
    return done;
  }

  /** setImmediate: runs after every I/O callback of this turn has queued its records. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight !== undefined) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.inFlight = this.flush().finally(() => {
        this.inFlight = undefined;
        if (this.pending.waiters.length > 0 && this.failure === undefined) this.scheduleFlush();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = newBatch();
    try {
      const bytes = encodeRecords(batch.records);
      if (this.currentHasBatches && this.current.size + bytes.length > this.config.segmentBytes) {
        await this.rollover();
      }
      await this.current.append(bytes);
      this.noteWritten(batch.records);
      if (batch.mustSync) await this.current.sync();
      this.currentHasBatches = true;
    } catch (err) {
      this.fail(err, batch);
      return;
    }
    for (const waiter of batch.waiters) waiter.resolve();
  }

  private noteWritten(records: readonly WalRecord[]): void {
    for (const record of records) {
      if (record.type === RecordType.Entry) this.writtenLastIndex = record.entry.index;
      else if (record.type === RecordType.HardState) this.writtenHardState = record.hardState;
      else if (record.type === RecordType.SnapshotMarker && record.marker.kind === 'applied') {
        this.writtenLastIndex = record.marker.index;
      }
    }
  }

  /** The old segment is synced before the new one exists, so only the last can have a torn tail. */
  private async rollover(): Promise<void> {
    await this.current.sync();
    await this.current.close();
    const last = this.segments[this.segments.length - 1];
    assert(last !== undefined, 'wal has no current segment');
    const seq = last.seq + 1;
    const segment = { seq, firstIndex: this.writtenLastIndex + 1, path: join(this.dir, segmentName(seq, this.writtenLastIndex + 1)) };
    this.current = await this.fs.createTruncate(segment.path);
    await this.current.append(encodeRecords(segmentHeader(this.metadata, this.writtenHardState)));
    await this.current.sync();
    await this.fs.fsyncDir(this.dir);
    this.segments.push(segment);
    this.currentHasBatches = false;
  }

  private fail(err: unknown, batch: Batch): void {
    const cause = err instanceof Error ? err : new Error(String(err));
    this.failure ??= new WalFailedError(`wal failed: ${cause.message}`, { cause });
    const failure = this.failure;
    const queued = this.pending;
    this.pending = newBatch();
    for (const waiter of [...batch.waiters, ...queued.waiters]) waiter.reject(failure);
  }
}

function segmentHeader(metadata: Uint8Array, hardState: HardState | undefined): WalRecord[] {
  const records: WalRecord[] = [{ type: RecordType.Metadata, metadata }];
  if (hardState !== undefined) records.push({ type: RecordType.HardState, hardState });
  return records;
}

function parseSegments(names: readonly string[], dir: string): Segment[] {
  const segments: Segment[] = [];
  for (const name of names) {
    const match = SEGMENT_NAME.exec(name);
    if (match === null || match[1] === undefined || match[2] === undefined) continue;
    segments.push({ seq: parseInt(match[1], 16), firstIndex: parseInt(match[2], 16), path: join(dir, name) });
  }
  segments.sort((a, b) => a.seq - b.seq);
  for (let k = 1; k < segments.length; k++) {
    const prev = segments[k - 1];
    const segment = segments[k];
    assert(prev !== undefined && segment !== undefined, 'segment list hole');
    if (segment.seq !== prev.seq + 1) {
      throw new WalCorruptError(segment.path, 0, `missing segment: sequence ${prev.seq + 1} expected before ${segment.seq}`);
    }
  }
  return segments;
}

async function readBuffer(fs: FileSystem, path: string): Promise<Buffer> {
  const bytes = await fs.readFile(path);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Applies one segment's records; returns where a torn tail starts, or throws on corruption. */
function replaySegment(
  buf: Buffer,
  path: string,
  isLast: boolean,
  replayer: Replayer,
): { offset: number; reason: string } | undefined {
  let offset = 0;
  while (offset < buf.length) {
    const result = decodeRecordAt(buf, offset);
    if (!result.ok) {
      if (isLast && isTornTail(buf, offset)) return { offset, reason: result.reason };
      throw new WalCorruptError(path, offset, result.reason);
    }
    replayer.apply(result.record, path, offset);
    offset = result.next;
  }
  return undefined;
}

/**
 * A bad record is a torn write only if nothing valid follows it: a crash cuts the last write
 * short, it does not leave complete records behind a broken one.
 */
function isTornTail(buf: Buffer, badOffset: number): boolean {
  if (buf.length - badOffset > MAX_TORN_TAIL_BYTES) return false;
  for (let p = badOffset + 1; p + RECORD_HEADER_BYTES <= buf.length; p++) {
    const type = buf[p + 4] ?? 0;
    if (type < RecordType.Metadata || type > RecordType.SnapshotMarker) continue;
    if (buf.readUInt32LE(p) > buf.length - p - RECORD_HEADER_BYTES) continue;
    if (decodeRecordAt(buf, p).ok) return false;
  }
  return true;
}

/** Rebuilds the log from records in write order. */
class Replayer {
  metadata: Uint8Array | undefined;
  hardState: HardState | undefined;
  entries: Entry[] = [];
  markers: SnapshotMarker[] = [];
  /** Index just before entries[0]. */
  startIndex: number;

  constructor(firstIndex: number) {
    this.startIndex = firstIndex - 1;
  }

  lastIndex(): number {
    return this.startIndex + this.entries.length;
  }

  apply(record: WalRecord, path: string, offset: number): void {
    switch (record.type) {
      case RecordType.Metadata:
        this.metadata = record.metadata;
        return;
      case RecordType.HardState:
        this.hardState = record.hardState;
        return;
      case RecordType.SnapshotMarker:
        this.markers.push(record.marker);
        if (record.marker.kind === 'applied') {
          this.entries = [];
          this.startIndex = record.marker.index;
        }
        return;
      case RecordType.Entry:
        this.appendEntry(record.entry, path, offset);
        return;
    }
  }

  private appendEntry(entry: Entry, path: string, offset: number): void {
    const last = this.lastIndex();
    if (entry.index > last + 1) {
      throw new WalCorruptError(path, offset, `entry ${entry.index} leaves a gap after ${last}`);
    }
    if (entry.index <= this.startIndex) {
      // Overwrites everything this replay holds (segments before it were released).
      this.entries = [];
      this.startIndex = entry.index - 1;
    } else {
      this.entries.length = entry.index - this.startIndex - 1;
    }
    this.entries.push(entry);
  }
}
