/**
 * One keep-alive HTTP/1.1 connection that carries one request at a time, written for the load
 * client: node:http's client spends several times more CPU per request (agent bookkeeping,
 * header objects, streams), and on a 2-core machine the generator's CPU is taken from the
 * servers being measured. Only what the benchmark needs: a request line, Host, a form body;
 * a response read by Content-Length, chunked encoding, or until close; the status and Location.
 */
import net from 'node:net';

export interface Http1Answer {
  readonly status: number;
  readonly location: string | undefined;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** How the body of the response being read ends. */
type BodyFraming =
  | { readonly kind: 'length'; readonly remaining: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' };

interface Head {
  readonly status: number;
  readonly location: string | undefined;
  readonly framing: BodyFraming;
  readonly closeAfter: boolean;
}

/** Parses a response head (status line and headers, without the blank line). */
export function parseResponseHead(text: string): Head {
  const lines = text.split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (statusLine === null) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const status = Number(statusLine[1]);
  let location: string | undefined;
  let length: number | null = null;
  let chunked = false;
  let closeAfter = /^HTTP\/1\.0/.test(lines[0] ?? '');
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'location') location = value;
    else if (name === 'content-length') length = Number(value);
    else if (name === 'transfer-encoding') chunked = /chunked/i.test(value);
    else if (name === 'connection') closeAfter = /close/i.test(value);
  }
  const bodyless = status === 204 || status === 304 || (status >= 100 && status < 200);
  let framing: BodyFraming;
  if (bodyless) framing = { kind: 'length', remaining: 0 };
  else if (chunked) framing = { kind: 'chunked' };
  else if (length !== null && Number.isInteger(length) && length >= 0) framing = { kind: 'length', remaining: length };
  else framing = { kind: 'close' };
  return { status, location, framing, closeAfter: closeAfter || framing.kind === 'close' };
}

/**
 * Consumes whole chunks from `buf`; returns the bytes used and whether the last chunk (and its
 * trailer section) was seen. Chunk data is skipped, never kept.
 */
export function consumeChunks(buf: Buffer): { readonly used: number; readonly done: boolean } {
  let at = 0;
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd < 0) return { used: at, done: false };
    const size = parseInt(buf.toString('latin1', at, lineEnd).split(';')[0] ?? '', 16);
    if (!Number.isInteger(size) || size < 0) throw new Error('bad chunk size');
    if (size === 0) {
      // Trailers end with an empty line; with none, the CRLF follows the size line at once.
      const trailerEnd = buf.indexOf(CRLF, lineEnd + 2);
      if (trailerEnd < 0) return { used: at, done: false };
      if (trailerEnd === lineEnd + 2) return { used: trailerEnd + 2, done: true };
      const end = buf.indexOf(HEAD_END, lineEnd);
      return end < 0 ? { used: at, done: false } : { used: end + 4, done: true };
    }
    const next = lineEnd + 2 + size + 2;
    if (buf.length < next) return { used: at, done: false };
    at = next;
  }
}

interface Pending {
  readonly resolve: (answer: Http1Answer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class Http1Connection {
  private socket: net.Socket | null = null;
  private pending: Pending | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private head: Head | null = null;
  /** Body bytes still expected when the framing is by length. */
  private remaining = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  request(method: string, path: string, body: string | null): Promise<Http1Answer> {
    if (this.pending !== null) throw new Error('Http1Connection: one request at a time');
    const socket = this.socket ?? this.connect();
    const bodyBytes = body === null ? null : Buffer.from(body);
    let text = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n`;
    if (bodyBytes !== null) text += `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${bodyBytes.length}\r\n`;
    text += '\r\n';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`timeout after ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending = { resolve, reject, timer };
      socket.write(bodyBytes === null ? text : Buffer.concat([Buffer.from(text, 'latin1'), bodyBytes]));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(): net.Socket {
    const socket = net.connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    // Events of a socket this connection already let go of (closed after a response, or
    // failed) must not touch its successor.
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.onData(chunk);
    });
    socket.on('error', (err) => {
      if (this.socket === socket) this.fail(err);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.head?.framing.kind === 'close') this.finish();
      else this.fail(new Error('connection closed before the response ended'));
    });
    this.socket = socket;
    this.buffered = Buffer.alloc(0);
    this.head = null;
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    try {
      this.advance();
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private advance(): void {
    if (this.head === null) {
      const end = this.buffered.indexOf(HEAD_END);
      if (end < 0) return;
      this.head = parseResponseHead(this.buffered.toString('latin1', 0, end));
      this.buffered = this.buffered.subarray(end + 4);
      this.remaining = this.head.framing.kind === 'length' ? this.head.framing.remaining : 0;
    }
    const framing = this.head.framing;
    if (framing.kind === 'length') {
      const used = Math.min(this.remaining, this.buffered.length);
      this.remaining -= used;
      this.buffered = this.buffered.subarray(used);
      if (this.remaining === 0) this.finish();
    } else if (framing.kind === 'chunked') {
      const { used, done } = consumeChunks(this.buffered);
      this.buffered = this.buffered.subarray(used);
      if (done) this.finish();
    } else {
      // Read until the server closes: 'close' finishes it.
      this.buffered = Buffer.alloc(0);
    }
  }

  private finish(): void {
    const head = this.head;
    const pending = this.pending;
    this.head = null;
    this.pending = null;
    if (head === null || pending === null) return;
    clearTimeout(pending.timer);
    if (head.closeAfter) this.close();
    pending.resolve({ status: head.status, location: head.location });
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    this.head = null;
    this.close();
    if (pending === null) return;
    clearTimeout(pending.timer);
    pending.reject(error);
  }
}
