/**
 * The wire codec: every Message survives encode → decode (whatever the chunking of the byte
 * stream), and garbage is a FrameError, never anything else. Seeded: CODEC_SEED=<n> replays.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Entry, Message, MessageType, Snapshot } from '../raft/types.js';
import { FrameDecoder, FrameError, encodeFrames, frameBytes } from './codec.js';

const seed = process.env.CODEC_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.CODEC_SEED);
console.log(`codec property test seed=${seed} (replay with CODEC_SEED=${seed})`);

const TYPES: MessageType[] = [
  'MsgHup', 'MsgBeat', 'MsgProp', 'MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote',
  'MsgPreVoteResp', 'MsgSnap', 'MsgHeartbeat', 'MsgHeartbeatResp', 'MsgUnreachable', 'MsgSnapStatus',
  'MsgCheckQuorum', 'MsgTransferLeader', 'MsgTimeoutNow', 'MsgReadIndex', 'MsgReadIndexResp',
];

/** Small, around 2^32 and up to 2^53-1: indexes past u32 must stay exact. */
const bigIndex = fc.oneof(
  fc.nat(1000),
  fc.integer({ min: 2 ** 32 - 2, max: 2 ** 32 + 2 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.constant(Number.MAX_SAFE_INTEGER),
);
const id = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constant(''), fc.constant('8e9e05c52164694d'));
const bytes = fc.uint8Array({ maxLength: 64 });

const entry: fc.Arbitrary<Entry> = fc.record({
  term: bigIndex,
  index: bigIndex,
  type: fc.constantFrom('normal' as const, 'confChange' as const),
  data: bytes,
});

const snapshot: fc.Arbitrary<Snapshot> = fc.record({
  data: fc.uint8Array({ maxLength: 4096 }),
  metadata: fc.record({
    index: bigIndex,
    term: bigIndex,
    confState: fc.record({ voters: fc.array(id, { maxLength: 5 }), learners: fc.array(id, { maxLength: 3 }) }),
  }),
});

const message: fc.Arbitrary<Message> = fc
  .record({
    type: fc.constantFrom(...TYPES),
    from: id,
    to: id,
    term: bigIndex,
    logTerm: bigIndex,
    index: bigIndex,
    entries: fc.array(entry, { maxLength: 8 }),
    commit: bigIndex,
    reject: fc.boolean(),
    rejectHint: bigIndex,
    context: bytes,
    snapshot: fc.option(snapshot, { nil: undefined }),
  })
  .map(({ snapshot: snap, ...rest }) => (snap === undefined ? rest : { ...rest, snapshot: snap }));

/** Splits a buffer at the given cut points (sorted, deduplicated, in range). */
function chop(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

function decodeAll(chunks: readonly Buffer[]): { messages: Message[]; sizes: number[] } {
  const decoder = new FrameDecoder();
  const messages: Message[] = [];
  const sizes: number[] = [];
  for (const c of chunks) decoder.push(c, (m, size) => (messages.push(m), sizes.push(size)));
  return { messages, sizes };
}

test(`round trip of message batches under any chunking (seed ${seed})`, () => {
  fc.assert(
    fc.property(fc.array(message, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (batch, cuts) => {
      const wire = encodeFrames(batch);
      const { messages, sizes } = decodeAll(chop(wire, cuts));
      // structuredClone: fast-check builds null-prototype records; the decoder builds plain ones.
      assert.deepStrictEqual(messages, structuredClone(batch));
      assert.deepStrictEqual(sizes, batch.map(frameBytes));
      assert.equal(wire.length, sizes.reduce((a, b) => a + b, 0));
    }),
    { seed, numRuns: 400 },
  );
});

test('a minimal message: empty ids, arrays and context', () => {
  const m: Message = {
    type: 'MsgHeartbeat', from: '', to: '', term: 0, logTerm: 0, index: 0, entries: [],
    commit: 0, reject: false, rejectHint: 0, context: new Uint8Array(0),
  };
  const wire = encodeFrames([m]);
  assert.equal(wire.length, frameBytes(m));
  assert.deepStrictEqual(decodeAll([wire]).messages, [m]);
});

test('a 20 MB snapshot fed in 64 KiB chunks decodes once, intact', () => {
  const data = new Uint8Array(20 * 1024 * 1024);
  for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
  const m: Message = {
    type: 'MsgSnap', from: '1', to: '2', term: 3, logTerm: 0, index: 0, entries: [], commit: 9,
    reject: false, rejectHint: 0, context: new Uint8Array(0),
    snapshot: { data, metadata: { index: 2 ** 40, term: 3, confState: { voters: ['1', '2', '3'], learners: [] } } },
  };
  const wire = encodeFrames([m]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < wire.length; i += 65536) chunks.push(wire.subarray(i, i + 65536));
  const { messages } = decodeAll(chunks);
  assert.equal(messages.length, 1);
  assert.deepStrictEqual(messages[0], m);
});

test('unencodable numbers are refused at the sender', () => {
  const base: Message = {
    type: 'MsgApp', from: '1', to: '2', term: 1, logTerm: 0, index: 0, entries: [],
    commit: 0, reject: false, rejectHint: 0, context: new Uint8Array(0),
  };
  assert.throws(() => encodeFrames([{ ...base, term: -1 }]), /term must be a safe non-negative integer, got -1/);
  assert.throws(() => encodeFrames([{ ...base, index: 2 ** 53 }]), /index must be a safe non-negative integer/);
  assert.throws(() => encodeFrames([{ ...base, commit: 1.5 }]), /commit must be a safe non-negative integer/);
});

test('garbage is a FrameError with a reason, whatever the bytes', () => {
  const http = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.throws(() => decodeAll([http]), (e: unknown) => e instanceof FrameError && /bad frame length/.test(e.message));
  const zeroLength = Buffer.from([0, 0, 0, 0]);
  assert.throws(() => decodeAll([zeroLength]), /bad frame length 0/);
  const badKind = Buffer.from([0, 0, 0, 1, 9]);
  assert.throws(() => decodeAll([badKind]), /unknown frame kind 9/);
  const badType = Buffer.from([0, 0, 0, 2, 1, 200]);
  assert.throws(() => decodeAll([badType]), /unknown message type/);
  // A huge entry count in a short frame is refused before anything is allocated.
  const hugeCount = Buffer.concat([Buffer.from([0, 0, 0, 0, 1, 3]), Buffer.alloc(8 + 40 + 1), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
  hugeCount.writeUInt32BE(hugeCount.length - 4, 0);
  assert.throws(() => decodeAll([hugeCount]), /truncated frame: entries/);

  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (junk) => {
      try {
        decodeAll([Buffer.from(junk)]);
      } catch (e) {
        assert.ok(e instanceof FrameError, `not a FrameError: ${String(e)}`);
      }
    }),
    { seed, numRuns: 2000 },
  );
});

test('a corrupted valid frame fails as FrameError or decodes, never anything else', () => {
  fc.assert(
    fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, value) => {
      const wire = Buffer.from(encodeFrames([m]));
      wire[4 + (at % (wire.length - 4))] = value;
      try {
        decodeAll([wire]);
      } catch (e) {
        assert.ok(e instanceof FrameError, `not a FrameError: ${String(e)}`);
      }
    }),
    { seed, numRuns: 1000 },
  );
});
