/**
 * One HTTP exchange over node:http / node:https, plus redirect following. Kept apart from the
 * key operations so failover and retries in client.ts see only "answered" or "transport failed".
 */
import http from 'node:http';
import https from 'node:https';
import type { TlsOptions } from './types.js';

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  /** application/x-www-form-urlencoded or JSON body; "" sends none. */
  readonly body: string;
  readonly contentType?: string;
  /** 0 = no limit (watches). */
  readonly timeoutMs: number;
  readonly tls?: TlsOptions;
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The URL that finally answered (after redirects). */
  readonly url: URL;
}

/** A connection-level failure: the request may not have reached the server's store. */
export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    readonly url: URL,
    reason: string,
    /** The connection was up, so the server may have received (and applied) the request. */
    readonly reachedServer: boolean,
  ) {
    super(reason);
  }
}

export function exchange(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const isHttps = req.url.protocol === 'https:';
    const headers: Record<string, string> = {};
    if (req.body !== '') {
      headers['Content-Type'] = req.contentType ?? 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(req.body));
    }
    const options: https.RequestOptions = { method: req.method, headers, agent: false };
    if (isHttps && req.tls !== undefined) {
      if (req.tls.ca !== undefined) options.ca = req.tls.ca;
      if (req.tls.cert !== undefined) options.cert = req.tls.cert;
      if (req.tls.key !== undefined) options.key = req.tls.key;
    }
    let connected = false;
    const request = (isHttps ? https : http).request(req.url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), url: req.url }),
      );
      res.on('error', (err) => reject(new TransportError(req.url, describeSocketError(err), true)));
    });
    request.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    if (req.timeoutMs > 0) {
      request.setTimeout(req.timeoutMs, () => request.destroy(new Error(`timeout after ${req.timeoutMs} ms`)));
    }
    const onAbort = (): void => {
      request.destroy(new DOMException('The operation was aborted', 'AbortError'));
    };
    if (req.signal !== undefined) {
      if (req.signal.aborted) onAbort();
      else req.signal.addEventListener('abort', onAbort, { once: true });
    }
    request.on('error', (err) => {
      if (err instanceof DOMException && err.name === 'AbortError') reject(err);
      else reject(new TransportError(req.url, describeSocketError(err), connected));
    });
    request.on('close', () => req.signal?.removeEventListener('abort', onAbort));
    request.end(req.body === '' ? undefined : req.body);
  });
}

/** Redirect statuses etcd answers with: 307 (follower → leader), 301 (`//` cleaned). */
function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/**
 * Sends the request and follows redirects, re-sending method and body each time (a 0.4 member
 * redirects writes to the leader without replaying the body itself).
 */
export async function exchangeFollowing(
  req: HttpRequest,
  maxRedirects: number,
  onSend: (req: HttpRequest) => void,
): Promise<HttpResponse> {
  let current = req;
  for (let hop = 0; ; hop++) {
    onSend(current);
    const res = await exchange(current);
    const location = res.headers.location;
    if (!isRedirect(res.status) || location === undefined) return res;
    if (hop >= maxRedirects) throw new TransportError(current.url, `stopped after ${maxRedirects} redirects`, true);
    current = { ...current, url: new URL(location, current.url) };
  }
}

function describeSocketError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined ? `${code}: ${err.message}` : err.message;
}
