import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeededPrng } from '../common/prng.js';
import { RECORD_HEADER_BYTES, RecordType, decodeRecordAt, encodeRecords, type WalRecord } from './wal-record.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const samples: WalRecord[] = [
  { type: RecordType.Metadata, metadata: new TextEncoder().encode('{"member":"abc"}') },
  { type: RecordType.Entry, entry: { index: 7, term: 3, type: 'normal', data: new TextEncoder().encode('hello') } },
  { type: RecordType.Entry, entry: { index: MAX_SAFE, term: 2 ** 40 + 5, type: 'confChange', data: new Uint8Array([0, 255]) } },
  { type: RecordType.Entry, entry: { index: 1, term: 1, type: 'normal', data: new Uint8Array(0) } },
  { type: RecordType.HardState, hardState: { term: 9, vote: 'a1b2c3d4e5f60718', commit: 2 ** 33 } },
  { type: RecordType.HardState, hardState: { term: 0, vote: '', commit: 0 } },
  { type: RecordType.SnapshotMarker, marker: { index: 100, term: 4, kind: 'saved' } },
  { type: RecordType.SnapshotMarker, marker: { index: 200, term: 5, kind: 'applied' } },
];

function decodeAll(buf: Buffer): WalRecord[] {
  const out: WalRecord[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const result = decodeRecordAt(buf, offset);
    assert.ok(result.ok, `record at ${offset} must decode`);
    out.push(result.record);
    offset = result.next;
  }
  return out;
}

describe('wal records', () => {
  it('every record type round-trips, including 2^53-1 indexes', () => {
    const buf = encodeRecords(samples);
    assert.deepEqual(decodeAll(buf), samples);
  });

  it('the header is length u32 LE | type u8 | crc u32 LE', () => {
    const buf = encodeRecords([{ type: RecordType.SnapshotMarker, marker: { index: 1, term: 1, kind: 'saved' } }]);
    assert.equal(buf.length, RECORD_HEADER_BYTES + 17);
    assert.equal(buf.readUInt32LE(0), 17);
    assert.equal(buf[4], RecordType.SnapshotMarker);
  });

  it('a flipped bit anywhere in a record (header included) is detected', () => {
    const buf = encodeRecords([samples[1] as WalRecord]);
    for (let byte = 0; byte < buf.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(buf);
        copy[byte] = (copy[byte] ?? 0) ^ (1 << bit);
        const result = decodeRecordAt(copy, 0);
        assert.equal(result.ok, false, `flip of byte ${byte} bit ${bit} must not decode`);
      }
    }
  });

  it('a cut record reports a short header or a short payload', () => {
    const buf = encodeRecords([samples[1] as WalRecord]);
    const shortHeader = decodeRecordAt(buf.subarray(0, 5), 0);
    assert.deepEqual(shortHeader, { ok: false, reason: 'short record header (5 bytes)' });
    const shortPayload = decodeRecordAt(buf.subarray(0, buf.length - 1), 0);
    assert.deepEqual(shortPayload, { ok: false, reason: 'short record payload (21 of 22 bytes)' });
  });

  it('random bytes never throw from the decoder', () => {
    const seed = Number(process.env.SEED ?? 20261123);
    console.log(`wal-record fuzz seed ${seed}`);
    const prng = new SeededPrng(seed);
    for (let round = 0; round < 2000; round++) {
      const buf = Buffer.alloc(prng.int(64));
      for (let k = 0; k < buf.length; k++) buf[k] = prng.int(256);
      if (buf.length >= 5 && prng.int(2) === 0) buf.writeUInt32LE(prng.int(buf.length), 0);
      const result = decodeRecordAt(buf, 0);
      assert.equal(typeof result.ok, 'boolean');
    }
  });
});
