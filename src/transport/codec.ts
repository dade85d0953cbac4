/**
 * The binary wire format of Raft messages between members.
 *
 * A connection carries frames: u32 BE body length, then the body = one kind byte and the
 * payload. Each Message is its own frame, so a batch is just frames back to back in one Buffer
 * and the receiver learns every message's size (the append bandwidth stats need it).
 *
 * Numbers (term, index, commit, ...) are float64: every safe integer is exact in one, they cost
 * one write, and the decoder rejects anything that is not a safe non-negative integer. Strings
 * and byte strings are a u32 byte length then the bytes.
 *
 * The encoder is two passes (size, then write into one allocation): this is the hot path of
 * every replicated write, so it avoids per-field Buffers and concatenation.
 */
import type { ConfState, Entry, EntryType, Message, MessageType, Snapshot } from '../raft/types.js';

/** Frame kinds. Only messages exist today; the byte keeps the format open. */
export const FRAME_MESSAGE = 1;

/** A frame this big is garbage or an attack: a v2 store snapshot is far smaller. */
export const MAX_FRAME_BYTES = 1024 * 1024 * 1024;

const FRAME_HEADER_BYTES = 4;
const NUMBER_BYTES = 8;
const LENGTH_BYTES = 4;

const MESSAGE_TYPES: readonly MessageType[] = [
  'MsgHup',
  'MsgBeat',
  'MsgProp',
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgSnap',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgUnreachable',
  'MsgSnapStatus',
  'MsgCheckQuorum',
  'MsgTransferLeader',
  'MsgTimeoutNow',
  'MsgReadIndex',
  'MsgReadIndexResp',
];
const MESSAGE_TYPE_CODES = new Map<MessageType, number>(MESSAGE_TYPES.map((t, i) => [t, i]));

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'confChange'];

/** A frame that cannot be decoded: the connection carrying it is closed. */
export class FrameError extends Error {
  override name = 'FrameError';
}

// ---------------------------------------------------------------------------------------------
// Encoding

function stringBytes(s: string): number {
  return LENGTH_BYTES + Buffer.byteLength(s, 'utf8');
}

function entryBytes(e: Entry): number {
  return NUMBER_BYTES * 2 + 1 + LENGTH_BYTES + e.data.byteLength;
}

function idsBytes(ids: readonly string[]): number {
  let n = LENGTH_BYTES;
  for (const id of ids) n += stringBytes(id);
  return n;
}

function snapshotBytes(s: Snapshot | undefined): number {
  if (s === undefined) return 1;
  const cs = s.metadata.confState;
  return 1 + LENGTH_BYTES + s.data.byteLength + NUMBER_BYTES * 2 + idsBytes(cs.voters) + idsBytes(cs.learners);
}

/** Size of the frame body (kind byte + payload) of one message. */
function messageBodyBytes(m: Message): number {
  let n = 1 + 1 + stringBytes(m.from) + stringBytes(m.to) + NUMBER_BYTES * 5 + 1 + LENGTH_BYTES;
  for (const e of m.entries) n += entryBytes(e);
  n += snapshotBytes(m.snapshot);
  n += LENGTH_BYTES + m.context.byteLength;
  return n;
}

/** Bytes `encodeFrames` writes for this message (its share of the batch, header included). */
export function frameBytes(m: Message): number {
  return FRAME_HEADER_BYTES + messageBodyBytes(m);
}

class Writer {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  u8(v: number): void {
    this.buf[this.offset++] = v;
  }
  u32(v: number): void {
    this.buf.writeUInt32BE(v, this.offset);
    this.offset += 4;
  }
  number(v: number, what: string): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be a safe non-negative integer, got ${v}`);
    this.buf.writeDoubleBE(v, this.offset);
    this.offset += NUMBER_BYTES;
  }
  string(s: string): void {
    const written = this.buf.write(s, this.offset + LENGTH_BYTES, 'utf8');
    this.u32(written);
    this.offset += written;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.byteLength);
    this.buf.set(b, this.offset);
    this.offset += b.byteLength;
  }
}

function writeSnapshot(w: Writer, s: Snapshot | undefined): void {
  if (s === undefined) return w.u8(0);
  w.u8(1);
  w.bytes(s.data);
  w.number(s.metadata.index, 'snapshot index');
  w.number(s.metadata.term, 'snapshot term');
  writeIds(w, s.metadata.confState.voters);
  writeIds(w, s.metadata.confState.learners);
}

function writeIds(w: Writer, ids: readonly string[]): void {
  w.u32(ids.length);
  for (const id of ids) w.string(id);
}

function writeMessage(w: Writer, m: Message, bodyBytes: number): void {
  const typeCode = MESSAGE_TYPE_CODES.get(m.type);
  if (typeCode === undefined) throw new RangeError(`unknown message type ${String(m.type)}`);
  const start = w.offset;
  w.u32(bodyBytes);
  w.u8(FRAME_MESSAGE);
  w.u8(typeCode);
  w.string(m.from);
  w.string(m.to);
  w.number(m.term, 'term');
  w.number(m.logTerm, 'logTerm');
  w.number(m.index, 'index');
  w.number(m.commit, 'commit');
  w.number(m.rejectHint, 'rejectHint');
  w.u8(m.reject ? 1 : 0);
  w.u32(m.entries.length);
  for (const e of m.entries) {
    w.number(e.term, 'entry term');
    w.number(e.index, 'entry index');
    w.u8(e.type === 'normal' ? 0 : 1);
    w.bytes(e.data);
  }
  writeSnapshot(w, m.snapshot);
  w.bytes(m.context);
  // The size pass and the write pass must agree, or the receiver would misframe everything after.
  if (w.offset - start !== FRAME_HEADER_BYTES + bodyBytes) {
    throw new RangeError(`frame size mismatch for ${m.type}: wrote ${w.offset - start}, sized ${FRAME_HEADER_BYTES + bodyBytes}`);
  }
}

/**
 * Encodes messages as consecutive frames in one Buffer (one socket write for the batch).
 * `frameSizes`, when given, receives each message's frame size (for the bandwidth stats).
 */
export function encodeFrames(messages: readonly Message[], frameSizes?: number[]): Buffer {
  const bodies = new Array<number>(messages.length);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const body = messageBodyBytes(messages[i] as Message);
    bodies[i] = body;
    total += FRAME_HEADER_BYTES + body;
    frameSizes?.push(FRAME_HEADER_BYTES + body);
  }
  const w = new Writer(Buffer.allocUnsafe(total));
  for (let i = 0; i < messages.length; i++) writeMessage(w, messages[i] as Message, bodies[i] as number);
  return w.buf;
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  offset: number;
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.offset = start;
  }

  private need(n: number, what: string): void {
    if (this.end - this.offset < n) throw new FrameError(`truncated frame: ${what} needs ${n} bytes, ${this.end - this.offset} left`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.offset++] as number;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  number(what: string): number {
    this.need(NUMBER_BYTES, what);
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += NUMBER_BYTES;
    if (!Number.isSafeInteger(v) || v < 0) throw new FrameError(`${what} is not a safe non-negative integer: ${v}`);
    return v;
  }
  string(what: string): string {
    const n = this.u32(what);
    this.need(n, what);
    const s = this.buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return s;
  }
  /** A view into the frame's own copy (see decodeFrameBody), not into a socket chunk. */
  bytes(what: string): Uint8Array {
    const n = this.u32(what);
    this.need(n, what);
    const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.offset, n);
    this.offset += n;
    return out;
  }
  /** A count of items each at least `minItemBytes` long, checked before anything is allocated. */
  count(minItemBytes: number, what: string): number {
    const n = this.u32(what);
    this.need(n * minItemBytes, what);
    return n;
  }
  atEnd(): boolean {
    return this.offset === this.end;
  }
}

function readEntry(r: Reader): Entry {
  const term = r.number('entry term');
  const index = r.number('entry index');
  const type = ENTRY_TYPES[r.u8('entry type')];
  if (type === undefined) throw new FrameError('unknown entry type');
  return { term, index, type, data: r.bytes('entry data') };
}

function readIds(r: Reader, what: string): string[] {
  const n = r.count(LENGTH_BYTES, what);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(r.string(what));
  return ids;
}

function readSnapshot(r: Reader): Snapshot | undefined {
  const present = r.u8('snapshot flag');
  if (present === 0) return undefined;
  if (present !== 1) throw new FrameError(`bad snapshot flag ${present}`);
  const data = r.bytes('snapshot data');
  const index = r.number('snapshot index');
  const term = r.number('snapshot term');
  const confState: ConfState = { voters: readIds(r, 'voters'), learners: readIds(r, 'learners') };
  return { data, metadata: { index, term, confState } };
}

function readMessage(r: Reader): Message {
  const type = MESSAGE_TYPES[r.u8('message type')];
  if (type === undefined) throw new FrameError('unknown message type');
  const from = r.string('from');
  const to = r.string('to');
  const term = r.number('term');
  const logTerm = r.number('logTerm');
  const index = r.number('index');
  const commit = r.number('commit');
  const rejectHint = r.number('rejectHint');
  const rejectByte = r.u8('reject');
  if (rejectByte > 1) throw new FrameError(`bad reject flag ${rejectByte}`);
  const entryCount = r.count(NUMBER_BYTES * 2 + 1 + LENGTH_BYTES, 'entries');
  const entries: Entry[] = [];
  for (let i = 0; i < entryCount; i++) entries.push(readEntry(r));
  const snapshot = readSnapshot(r);
  const context = r.bytes('context');
  if (!r.atEnd()) throw new FrameError('trailing bytes after message');
  const m: Message = { type, from, to, term, logTerm, index, entries, commit, reject: rejectByte === 1, rejectHint, context };
  return snapshot === undefined ? m : { ...m, snapshot };
}

/**
 * Decodes one frame body (kind byte + payload) at buf[start, end). The body is copied once into
 * memory of its own and every byte field (entry data, snapshot, context) is a view into that
 * copy: one allocation per message instead of one per entry, and nothing decoded keeps a
 * socket's read buffer alive.
 */
export function decodeFrameBody(buf: Buffer, start: number, end: number): Message {
  // Unpooled: a view must not share (and pin) a pool slab with unrelated buffers.
  const own = Buffer.allocUnsafeSlow(end - start);
  buf.copy(own, 0, start, end);
  const r = new Reader(own, 0, own.length);
  const kind = r.u8('frame kind');
  if (kind !== FRAME_MESSAGE) throw new FrameError(`unknown frame kind ${kind}`);
  return readMessage(r);
}

/**
 * Turns a byte stream into messages. Chunks are kept as a list until a whole frame is buffered,
 * then joined once: a many-MB snapshot arriving in 64 KiB chunks is copied once, not per chunk.
 * After a FrameError the decoder is unusable; the caller closes the connection.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Feeds bytes; calls `onFrame` for every complete frame (size = its bytes on the wire). */
  push(chunk: Buffer, onFrame: (message: Message, size: number) => void): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= FRAME_HEADER_BYTES) {
      const bodyBytes = this.peekLength();
      if (bodyBytes < 1 || bodyBytes > MAX_FRAME_BYTES) throw new FrameError(`bad frame length ${bodyBytes}`);
      const frameBytes = FRAME_HEADER_BYTES + bodyBytes;
      if (this.buffered < frameBytes) return;
      const head = this.joinFirst(frameBytes);
      const message = decodeFrameBody(head, FRAME_HEADER_BYTES, frameBytes);
      this.consume(frameBytes);
      onFrame(message, frameBytes);
    }
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    return this.joinFirst(FRAME_HEADER_BYTES).readUInt32BE(0);
  }

  /** Makes chunks[0] at least n bytes long (n <= buffered) and returns it. */
  private joinFirst(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first;
    let take = 0;
    let length = 0;
    while (length < n) length += (this.chunks[take++] as Buffer).length;
    const joined = Buffer.concat(this.chunks.slice(0, take), length);
    this.chunks.splice(0, take, joined);
    return joined;
  }

  private consume(n: number): void {
    const first = this.chunks[0] as Buffer;
    this.buffered -= n;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
  }
}
