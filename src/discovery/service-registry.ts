/**
 * The discovery service's way to its registry: one HTTP request sent to the backing etcd's
 * `/v2/keys/_etcd/registry/...`, following a follower's 307 to the leader (same method and
 * body, as 0.4.6 clients do) and trying the next backing URL when one does not answer.
 *
 * The connection gets a deadline, and so does the answer's head — except for a proxied
 * `wait=true` long-poll, which may legitimately stay silent for minutes once connected.
 */
import http from 'node:http';
import https from 'node:https';

export interface RegistryRequest {
  readonly method: string;
  /** Path and query on the backing etcd, e.g. `/v2/keys/_etcd/registry/<token>?recursive=true`. */
  readonly target: string;
  readonly body: Buffer;
  readonly contentType: string | undefined;
  /** Aborts the request (the service's own client went away). */
  readonly signal?: AbortSignal;
}

export interface RegistryRoute {
  /** Backing client URLs, tried in order (no trailing slash). */
  readonly backingUrls: readonly string[];
  readonly maxRedirects: number;
  readonly connectTimeoutMs: number;
  readonly answerTimeoutMs: number;
}

/** The backing etcd's answer; its body is still unread (the caller pipes or reads it). */
export interface RegistryAnswer {
  readonly response: http.IncomingMessage;
  /** The URL that finally answered (after redirects). */
  readonly url: string;
}

/** No backing URL gave an answer; `reasons` has one line per URL tried. */
export class RegistryUnavailableError extends Error {
  override name = 'RegistryUnavailableError';
  constructor(readonly reasons: readonly string[]) {
    super(`no backing etcd answered: ${reasons.join('; ')}`);
  }
}

/** One backing URL failed (no connection, a broken answer, a redirect loop): try the next. */
class BackingFailedError extends Error {
  override name = 'BackingFailedError';
}

export async function sendToRegistry(route: RegistryRoute, request: RegistryRequest): Promise<RegistryAnswer> {
  const reasons: string[] = [];
  for (const backingUrl of route.backingUrls) {
    try {
      return await followRedirects(route, `${backingUrl}${request.target}`, request);
    } catch (error) {
      if (!(error instanceof BackingFailedError)) throw error;
      reasons.push(`${backingUrl}: ${error.message}`);
    }
  }
  throw new RegistryUnavailableError(reasons);
}

async function followRedirects(route: RegistryRoute, startUrl: string, request: RegistryRequest): Promise<RegistryAnswer> {
  let url = startUrl;
  for (let hop = 0; hop <= route.maxRedirects; hop++) {
    const response = await sendOnce(url, request, route.connectTimeoutMs, isLongPoll(request.target) ? null : route.answerTimeoutMs);
    const location = response.headers.location;
    if (response.statusCode !== 307 || location === undefined) return { response, url };
    response.resume();
    url = resolveLocation(location, url);
  }
  throw new BackingFailedError(`more than ${route.maxRedirects} redirects (last to ${url})`);
}

function isLongPoll(target: string): boolean {
  const query = target.indexOf('?');
  if (query < 0) return false;
  const wait = new URLSearchParams(target.slice(query + 1)).get('wait');
  return wait !== null && ['true', '1', 't'].includes(wait.toLowerCase());
}

function resolveLocation(location: string, base: string): string {
  try {
    return new URL(location, base).toString();
  } catch {
    throw new BackingFailedError(`a redirect to an unusable location "${location}"`);
  }
}

function sendOnce(url: string, request: RegistryRequest, connectTimeoutMs: number, answerTimeoutMs: number | null): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'Content-Length': request.body.length };
    if (request.contentType !== undefined) headers['Content-Type'] = request.contentType;
    const options: http.RequestOptions = { method: request.method, headers, ...(request.signal !== undefined ? { signal: request.signal } : {}) };
    const client = url.startsWith('https:') ? https : http;
    let outgoing: http.ClientRequest;
    try {
      outgoing = client.request(url, options, resolve);
    } catch (error) {
      reject(new BackingFailedError(error instanceof Error ? error.message : String(error)));
      return;
    }
    const connectTimer = setTimeout(() => outgoing.destroy(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    outgoing.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once('connect', () => clearTimeout(connectTimer));
    });
    const answerTimer =
      answerTimeoutMs === null ? undefined : setTimeout(() => outgoing.destroy(new Error(`no answer within ${answerTimeoutMs} ms`)), answerTimeoutMs);
    outgoing.on('response', () => {
      clearTimeout(connectTimer);
      clearTimeout(answerTimer);
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      clearTimeout(answerTimer);
      // An abort is our own client leaving, not a backing failure: no failover for it.
      if (error.name === 'AbortError') reject(error);
      else reject(new BackingFailedError(error.code ?? error.message));
    });
    outgoing.end(request.body);
  });
}

/** Reads an answer's whole body (for the service's own requests: /new, /health). */
export async function readAnswerBody(answer: RegistryAnswer): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer.response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
