/**
 * A small HTTP/1.1 client on node:http for the oracle: any method (PATCH, PROPFIND, TRACE), the
 * path sent byte for byte (so `//` and `..` reach the server), no redirect following, and
 * long-poll watches whose headers and body are awaited separately.
 */
import http from 'node:http';

export interface RawRequest {
  readonly method: string;
  /** Path and query exactly as sent. */
  readonly path: string;
  /** Form-encoded body, or null for none. */
  readonly body: string | null;
}

export interface RawResponse {
  readonly status: number;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface PendingWatch {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body once the server ends the response, or null if it is still open after `timeoutMs`. */
  body(timeoutMs: number): Promise<string | null>;
  /** What has arrived so far (for streams that never end). */
  received(): string;
  close(): void;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function start(baseUrl: string, raw: RawRequest): http.ClientRequest {
  const url = new URL(baseUrl);
  const headers: Record<string, string | number> = {};
  if (raw.body !== null) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = Buffer.byteLength(raw.body);
  }
  const req = http.request({ host: url.hostname, port: url.port, method: raw.method, path: raw.path, headers, agent });
  if (raw.body !== null) req.write(raw.body);
  req.end();
  return req;
}

/** Opens a request and resolves once the status line and headers arrived. */
export function openRequest(baseUrl: string, raw: RawRequest, headerTimeoutMs: number): Promise<PendingWatch> {
  return new Promise((resolve, reject) => {
    const req = start(baseUrl, raw);
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no response headers within ${headerTimeoutMs} ms: ${raw.method} ${raw.path}`));
    }, headerTimeoutMs);
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.once('response', (res) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const ended = new Promise<string>((done) => {
        res.once('end', () => done(Buffer.concat(chunks).toString('utf8')));
        // A destroyed response (close() or server gone) never ends: body() then times out.
      });
      res.once('error', () => undefined);
      resolve({
        status: res.statusCode ?? 0,
        headers: flatHeaders(res.headers),
        body: (timeoutMs) => raceTimeout(ended, timeoutMs),
        received: () => Buffer.concat(chunks).toString('utf8'),
        close: () => req.destroy(),
      });
    });
  });
}

async function raceTimeout(body: Promise<string>, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    return await Promise.race([body, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One complete request. A response still open after `timeoutMs` is an error. */
export async function send(baseUrl: string, raw: RawRequest, timeoutMs: number): Promise<RawResponse> {
  const pending = await openRequest(baseUrl, raw, timeoutMs);
  const body = await pending.body(timeoutMs);
  if (body === null) {
    pending.close();
    throw new Error(`response body not finished within ${timeoutMs} ms: ${raw.method} ${raw.path}`);
  }
  return { status: pending.status, headers: pending.headers, body };
}

/** Closes idle keep-alive sockets so the process can exit. */
export function closeIdleConnections(): void {
  agent.destroy();
}
