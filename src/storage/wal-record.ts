/**
 * WAL record framing. Every record is
 *
 *   length u32 LE (payload bytes) | type u8 | crc32 u32 LE | payload
 *
 * where the CRC covers the length, the type and the payload, so a flipped bit anywhere in a
 * record (header included) is detected. Integers inside payloads are u64 LE holding JS safe
 * integers (indexes and terms never exceed 2^53).
 */
import { crc32 } from 'node:zlib';
import { assert, assertSafeIndex, unreachable } from '../common/assert.js';
import type { Entry, EntryType, HardState } from '../raft/types.js';

export const RECORD_HEADER_BYTES = 9;
/** No single record may be larger: a bigger length field is corruption, not a torn write. */
export const MAX_RECORD_PAYLOAD_BYTES = 256 * 1024 * 1024;

export const enum RecordType {
  Metadata = 1,
  Entry = 2,
  HardState = 3,
  SnapshotMarker = 4,
}

/**
 * 'saved': the member snapshotted its own applied state; the log is unchanged.
 * 'applied': a snapshot from the leader replaced the whole log (entries before it are void).
 */
export type SnapshotMarkerKind = 'saved' | 'applied';

export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
  readonly kind: SnapshotMarkerKind;
}

export type WalRecord =
  | { readonly type: RecordType.Metadata; readonly metadata: Uint8Array }
  | { readonly type: RecordType.Entry; readonly entry: Entry }
  | { readonly type: RecordType.HardState; readonly hardState: HardState }
  | { readonly type: RecordType.SnapshotMarker; readonly marker: SnapshotMarker };

const ENTRY_FIXED_BYTES = 17;
const HARD_STATE_FIXED_BYTES = 16;
const MARKER_BYTES = 17;

function payloadBytes(record: WalRecord): number {
  switch (record.type) {
    case RecordType.Metadata:
      return record.metadata.length;
    case RecordType.Entry:
      return ENTRY_FIXED_BYTES + record.entry.data.length;
    case RecordType.HardState:
      return HARD_STATE_FIXED_BYTES + Buffer.byteLength(record.hardState.vote, 'utf8');
    case RecordType.SnapshotMarker:
      return MARKER_BYTES;
    default:
      return unreachable(record);
  }
}

export function encodedBytes(record: WalRecord): number {
  return RECORD_HEADER_BYTES + payloadBytes(record);
}

/** Encodes all records into one buffer: the WAL issues one write per batch. */
export function encodeRecords(records: readonly WalRecord[]): Buffer {
  let total = 0;
  for (const record of records) total += encodedBytes(record);
  const buf = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const record of records) offset = encodeRecordAt(buf, offset, record);
  assert(offset === total, 'wal encode size mismatch');
  return buf;
}

function encodeRecordAt(buf: Buffer, offset: number, record: WalRecord): number {
  const length = payloadBytes(record);
  assert(length <= MAX_RECORD_PAYLOAD_BYTES, () => `wal record of ${length} bytes is too large`);
  buf.writeUInt32LE(length, offset);
  buf.writeUInt8(record.type, offset + 4);
  const payloadAt = offset + RECORD_HEADER_BYTES;
  writePayload(buf, payloadAt, record);
  const crc = crc32(buf.subarray(payloadAt, payloadAt + length), crc32(buf.subarray(offset, offset + 5)));
  buf.writeUInt32LE(crc, offset + 5);
  return payloadAt + length;
}

function writePayload(buf: Buffer, at: number, record: WalRecord): void {
  switch (record.type) {
    case RecordType.Metadata:
      buf.set(record.metadata, at);
      return;
    case RecordType.Entry: {
      const { entry } = record;
      writeU64(buf, at, entry.index);
      writeU64(buf, at + 8, entry.term);
      buf.writeUInt8(entry.type === 'confChange' ? 1 : 0, at + 16);
      buf.set(entry.data, at + ENTRY_FIXED_BYTES);
      return;
    }
    case RecordType.HardState: {
      const { hardState } = record;
      writeU64(buf, at, hardState.term);
      writeU64(buf, at + 8, hardState.commit);
      buf.write(hardState.vote, at + HARD_STATE_FIXED_BYTES, 'utf8');
      return;
    }
    case RecordType.SnapshotMarker: {
      const { marker } = record;
      writeU64(buf, at, marker.index);
      writeU64(buf, at + 8, marker.term);
      buf.writeUInt8(marker.kind === 'applied' ? 1 : 0, at + 16);
      return;
    }
    default:
      unreachable(record);
  }
}

function writeU64(buf: Buffer, at: number, value: number): void {
  assertSafeIndex(value, 'wal u64 field');
  buf.writeUInt32LE(value % 2 ** 32, at);
  buf.writeUInt32LE(Math.floor(value / 2 ** 32), at + 4);
}

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 2 ** 32;
}

/** Outcome of decoding one record at an offset: the record and where the next one starts, or why not. */
export type DecodeResult =
  | { readonly ok: true; readonly record: WalRecord; readonly next: number }
  | { readonly ok: false; readonly reason: string };

/** Decodes the record starting at offset; never throws on bad bytes. */
export function decodeRecordAt(buf: Buffer, offset: number): DecodeResult {
  const remaining = buf.length - offset;
  if (remaining < RECORD_HEADER_BYTES) return { ok: false, reason: `short record header (${remaining} bytes)` };
  const length = buf.readUInt32LE(offset);
  const type = buf.readUInt8(offset + 4);
  if (length > MAX_RECORD_PAYLOAD_BYTES) return { ok: false, reason: `record length ${length} too large` };
  const payloadAt = offset + RECORD_HEADER_BYTES;
  if (payloadAt + length > buf.length) {
    return { ok: false, reason: `short record payload (${buf.length - payloadAt} of ${length} bytes)` };
  }
  const payload = buf.subarray(payloadAt, payloadAt + length);
  const crc = crc32(payload, crc32(buf.subarray(offset, offset + 5)));
  if (crc !== buf.readUInt32LE(offset + 5)) return { ok: false, reason: 'crc mismatch' };
  const record = decodePayload(type, payload);
  if (record === undefined) return { ok: false, reason: `bad record (type ${type}, ${length} bytes)` };
  return { ok: true, record, next: payloadAt + length };
}

function decodePayload(type: number, payload: Buffer): WalRecord | undefined {
  switch (type) {
    case RecordType.Metadata:
      return { type, metadata: new Uint8Array(payload) };
    case RecordType.Entry: {
      if (payload.length < ENTRY_FIXED_BYTES) return undefined;
      const kind = payload.readUInt8(16);
      if (kind > 1) return undefined;
      const entryType: EntryType = kind === 1 ? 'confChange' : 'normal';
      const data = new Uint8Array(payload.subarray(ENTRY_FIXED_BYTES));
      return { type, entry: { index: readU64(payload, 0), term: readU64(payload, 8), type: entryType, data } };
    }
    case RecordType.HardState: {
      if (payload.length < HARD_STATE_FIXED_BYTES) return undefined;
      const vote = payload.toString('utf8', HARD_STATE_FIXED_BYTES);
      return { type, hardState: { term: readU64(payload, 0), vote, commit: readU64(payload, 8) } };
    }
    case RecordType.SnapshotMarker: {
      if (payload.length !== MARKER_BYTES) return undefined;
      const kind = payload.readUInt8(16);
      if (kind > 1) return undefined;
      return { type, marker: { index: readU64(payload, 0), term: readU64(payload, 8), kind: kind === 1 ? 'applied' : 'saved' } };
    }
    default:
      return undefined;
  }
}
