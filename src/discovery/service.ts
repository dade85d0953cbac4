/**
 * The discovery service (spec §11.2, what discovery.etcd.io was): it hands out fresh tokens
 * and proxies each token's registry to `/_etcd/registry/<token>` on a backing etcd, so members
 * started with `-discovery <base-url>/<token>` find each other (§11.1).
 *
 * Routes:
 *   GET|PUT /new[?size=N]          a fresh token; answers `<base-url>/<token>` as text
 *   GET|PUT /<token>[/]            the registry directory
 *   GET|PUT|DELETE /<token>/<m>    one registered machine (also `_state`)
 *   GET /<token>/_config/size      the expected cluster size written by /new?size=N
 *   GET /health                    creates and deletes a throwaway token
 *   GET /                          301 to the discovery documentation
 * Anything else answers 404, as does a token that is not exactly 32 lowercase hex digits.
 * Proxied answers keep the backing etcd's status, body and index headers, so a member sees
 * exactly what a plain etcd's `/v2/keys/_etcd/registry/<token>` would answer.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { readAnswerBody, RegistryUnavailableError, sendToRegistry, type RegistryAnswer, type RegistryRequest } from './service-registry.js';

export interface DiscoveryServiceConfig {
  /** What /new answers before the token (no trailing slash), e.g. `https://discovery.etcd.io`. */
  readonly baseUrl: string;
  /** Client URLs of the backing etcd cluster, tried in order. */
  readonly backingUrls: readonly string[];
  /** A follower's 307 to its leader is followed at most this many times per request. */
  readonly maxRedirects: number;
  /** A backing URL that does not accept a connection within this is skipped. */
  readonly connectTimeoutMs: number;
  /**
   * A connected backing that sends no answer head within this is given up on (503), so a stuck
   * backing cannot hang the service's clients; `wait=true` long-polls are exempt.
   */
  readonly answerTimeoutMs: number;
  /** A proxied request body larger than this is refused with 413 (registrations are tiny). */
  readonly maxBodyBytes: number;
  /** Where `GET /` sends a browser. */
  readonly docsUrl: string;
}

export const REGISTRY_PREFIX = '/v2/keys/_etcd/registry';

/** 0.4.6's own page on discovery: the protocol this service speaks. */
export const DISCOVERY_DOCS_URL = 'https://github.com/coreos/etcd/blob/v0.4.6/Documentation/cluster-discovery.md';

export function defaultDiscoveryServiceConfig(baseUrl: string, backingUrls: readonly string[]): DiscoveryServiceConfig {
  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    backingUrls: backingUrls.map((url) => url.replace(/\/+$/, '')),
    maxRedirects: 10,
    connectTimeoutMs: 2_000,
    answerTimeoutMs: 10_000,
    maxBodyBytes: 64 * 1024,
    docsUrl: DISCOVERY_DOCS_URL,
  };
}

/** Returns the problems found, one precise sentence each; empty means valid. */
export function validateDiscoveryServiceConfig(config: DiscoveryServiceConfig): string[] {
  const problems: string[] = [];
  const httpUrl = (url: string, what: string): void => {
    const problem = httpUrlProblem(url);
    if (problem !== null) problems.push(`${what} "${url}" ${problem}`);
  };
  httpUrl(config.baseUrl, 'base URL');
  if (config.backingUrls.length === 0) problems.push('at least one backing etcd URL is required');
  for (const url of config.backingUrls) httpUrl(url, 'backing etcd URL');
  const positive = (value: number, what: string): void => {
    if (!Number.isSafeInteger(value) || value <= 0) problems.push(`${what} must be a positive integer, got ${value}`);
  };
  positive(config.maxRedirects, 'max redirects');
  positive(config.connectTimeoutMs, 'connect timeout (ms)');
  positive(config.answerTimeoutMs, 'answer timeout (ms)');
  positive(config.maxBodyBytes, 'max body size (bytes)');
  return problems;
}

/** null when `url` is an http(s) URL with nothing after its path (no trailing `/`); else why not. */
export function httpUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must start with http:// or https://';
  if (parsed.search !== '' || parsed.hash !== '') return 'must not have a query or fragment';
  if (url.endsWith('/')) return 'must not end with "/"';
  return null;
}

const TOKEN = /^[0-9a-f]{32}$/;
const SIZE = /^[1-9][0-9]*$/;

/** A fresh token: 128 random bits as 32 lowercase hex digits (the tutorial's form). */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

type Handler = (config: DiscoveryServiceConfig, req: http.IncomingMessage, res: http.ServerResponse, query: string) => Promise<void>;

export function createDiscoveryHandler(config: DiscoveryServiceConfig): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const problems = validateDiscoveryServiceConfig(config);
  if (problems.length > 0) throw new Error(`invalid discovery service config: ${problems.join('; ')}`);
  return (req, res) => {
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const path = queryAt === -1 ? target : target.slice(0, queryAt);
    const query = queryAt === -1 ? '' : target.slice(queryAt + 1);
    const handler = routeOf(req.method ?? 'GET', path);
    handler(config, req, res, query).catch((error: unknown) => answerFailure(res, error));
  };
}

/** The handler for a method and raw (still percent-encoded) path. */
function routeOf(method: string, path: string): Handler {
  if (path === '/') return method === 'GET' || method === 'HEAD' ? handleDocsRedirect : handleNotFound;
  if (path === '/new') return method === 'GET' || method === 'PUT' ? handleNew : handleNotFound;
  if (path === '/health') return method === 'GET' ? handleHealth : handleNotFound;
  const slash = path.indexOf('/', 1);
  const token = slash === -1 ? path.slice(1) : path.slice(1, slash);
  if (!TOKEN.test(token)) return handleNotFound;
  const rest = slash === -1 ? '' : path.slice(slash);
  return registryMethods(rest).includes(method) ? proxyTo(token, rest) : handleNotFound;
}

/** Which methods reach the registry under `/<token><rest>`; none for an unknown shape. */
function registryMethods(rest: string): readonly string[] {
  if (rest === '' || rest === '/') return ['GET', 'PUT'];
  if (rest === '/_config/size') return ['GET'];
  const machine = rest.slice(1);
  if (machine === '' || machine.includes('/') || machine === '.' || machine === '..') return [];
  return ['GET', 'PUT', 'DELETE'];
}

// ---- handlers ---------------------------------------------------------------------------------

const handleNotFound: Handler = async (_config, req, res) => {
  await discardBody(req);
  sendText(res, 404, '404 page not found\n');
};

const handleDocsRedirect: Handler = async (config, req, res) => {
  await discardBody(req);
  res.writeHead(301, { Location: config.docsUrl, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 });
  res.end();
};

const handleNew: Handler = async (config, req, res, query) => {
  await discardBody(req);
  const sizeText = new URLSearchParams(query).get('size');
  if (sizeText !== null && !SIZE.test(sizeText)) {
    sendText(res, 400, `invalid size "${sizeText}": size must be a positive decimal integer\n`);
    return;
  }
  const token = newToken();
  const problem = await createToken(config, token, sizeText);
  if (problem !== null) {
    // 503: nothing answered (as for proxied requests); 502: the registry answered, but not 201.
    sendText(res, problem.unreachable ? 503 : 502, `cannot create a token: ${problem.text}\n`);
    return;
  }
  sendText(res, 200, `${config.baseUrl}/${token}`);
};

const handleHealth: Handler = async (config, req, res) => {
  await discardBody(req);
  const token = newToken();
  // A TTL, so a throwaway token left by a crash between the two steps goes away by itself.
  const created = await expectStatus(config, { method: 'PUT', target: `${REGISTRY_PREFIX}/${token}`, form: 'dir=true&prevExist=false&ttl=60' }, 201);
  const problem = created ?? (await expectStatus(config, { method: 'DELETE', target: `${REGISTRY_PREFIX}/${token}?dir=true&recursive=true`, form: '' }, 200));
  if (problem !== null) sendText(res, 503, `unhealthy: ${problem.text}\n`);
  else sendText(res, 200, 'OK');
};

function proxyTo(token: string, rest: string): Handler {
  return async (config, req, res, query) => {
    const body = await readBody(req, config.maxBodyBytes);
    if (body === null) {
      sendText(res, 413, `request body larger than ${config.maxBodyBytes} bytes\n`);
      return;
    }
    const aborter = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborter.abort();
    });
    const request: RegistryRequest = {
      method: req.method ?? 'GET',
      target: `${REGISTRY_PREFIX}/${token}${rest}${query === '' ? '' : `?${query}`}`,
      body,
      contentType: req.headers['content-type'],
      signal: aborter.signal,
    };
    relayAnswer(await sendToRegistry(config, request), res);
  };
}

// ---- the service's own registry requests --------------------------------------------------------

/** Creates the token's registry: an empty dir, or `_config/size` when a size was asked for. */
async function createToken(config: DiscoveryServiceConfig, token: string, size: string | null): Promise<RegistryProblem | null> {
  const creation =
    size === null
      ? { method: 'PUT', target: `${REGISTRY_PREFIX}/${token}`, form: 'dir=true&prevExist=false' }
      : { method: 'PUT', target: `${REGISTRY_PREFIX}/${token}/_config/size`, form: `value=${size}&prevExist=false` };
  return expectStatus(config, creation, 201);
}

/** Why one of the service's own registry requests failed. */
interface RegistryProblem {
  /** No backing URL answered at all (rather than answering something unexpected). */
  readonly unreachable: boolean;
  readonly text: string;
}

/** Sends a form request to the registry; null when it answered `status`, else what went wrong. */
async function expectStatus(config: DiscoveryServiceConfig, request: { method: string; target: string; form: string }, status: number): Promise<RegistryProblem | null> {
  let answer: RegistryAnswer;
  try {
    answer = await sendToRegistry(config, {
      method: request.method,
      target: request.target,
      body: Buffer.from(request.form, 'utf8'),
      contentType: 'application/x-www-form-urlencoded',
    });
  } catch (error) {
    if (error instanceof RegistryUnavailableError) return { unreachable: true, text: error.message };
    throw error;
  }
  const body = await readAnswerBody(answer);
  if (answer.response.statusCode === status) return null;
  return { unreachable: false, text: `${request.method} ${answer.url} answered ${answer.response.statusCode ?? '?'} ${body.trim()}` };
}

// ---- HTTP plumbing --------------------------------------------------------------------------------

/** Headers a member (or a person) needs from the backing etcd's answer, spelled as it spelled them. */
function relayedHeaders(response: http.IncomingMessage): string[] {
  const relayed: string[] = [];
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (lower === 'content-type' || lower === 'content-length' || lower === 'x-etcd-index' || lower.startsWith('x-raft-')) relayed.push(name, raw[i + 1] ?? '');
  }
  return relayed;
}

function relayAnswer(answer: RegistryAnswer, res: http.ServerResponse): void {
  const { response } = answer;
  res.writeHead(response.statusCode ?? 502, relayedHeaders(response));
  response.pipe(res);
  response.on('error', () => res.destroy());
}

function answerFailure(res: http.ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof RegistryUnavailableError) {
    sendText(res, 503, `registry unavailable: ${error.message}\n`);
    return;
  }
  if (error instanceof Error && error.name === 'AbortError') {
    res.destroy();
    return;
  }
  // A bug, not a condition of the request: say so and keep serving the others.
  process.stderr.write(`etcd-discovery: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  sendText(res, 500, 'internal error\n');
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The whole request body, or null when it exceeds `limitBytes`. An oversized body is still read
 * to its end (and dropped): leaving the loop early would destroy the socket before the 413.
 */
function readBody(req: http.IncomingMessage, limitBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let totalBytes = 0;
    req.on('data', (chunk: Buffer) => {
      totalBytes += chunk.length;
      if (totalBytes <= limitBytes) chunks.push(chunk);
    });
    req.on('end', () => resolve(totalBytes <= limitBytes ? Buffer.concat(chunks) : null));
    req.on('error', reject);
  });
}

async function discardBody(req: http.IncomingMessage): Promise<void> {
  for await (const _chunk of req) {
    // drained: the connection can carry the next request
  }
}
