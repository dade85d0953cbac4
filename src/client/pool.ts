/**
 * The endpoint list and the failover loop. Every operation goes to the preferred endpoint
 * first (the one that last answered, or the leader a redirect pointed at); connection
 * failures and HTTP 5xx answers move on to the next one. A plain operation gives up after
 * trying every endpoint twice (the 0.4 client's rule) or when its total time runs out; a
 * watch keeps trying until no endpoint has answered for the total time.
 */
import { ClientTimeoutError, ClusterUnreachableError, WriteOutcomeUnknownError, type EndpointFailure } from './errors.js';
import { exchangeFollowing, TransportError, type HttpRequest, type HttpResponse } from './http.js';
import type { ClientOptions, RequestTrace, TlsOptions } from './types.js';

export const defaultRequestTimeoutMs = 10_000;
export const defaultTotalTimeoutMs = 30_000;
export const defaultMaxRedirects = 10;
const roundsPerOperation = 2;
const watchRetryPauseMs = 200;

/** `host:port` → `http://host:port`; URLs keep their scheme; a trailing slash is dropped. */
export function normalizeEndpoint(endpoint: string): string {
  const trimmed = endpoint.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  return withScheme.replace(/\/+$/, '');
}

export interface Call {
  readonly method: string;
  /** Path and query, e.g. `/v2/keys/foo?recursive=true`. */
  readonly pathAndQuery: string;
  readonly body: string;
  readonly contentType?: string;
  /** A watch: no per-request timeout, retried until the cluster is gone for the total time. */
  readonly longPoll: boolean;
  readonly signal?: AbortSignal;
}

export class EndpointPool {
  private endpoints: string[];
  private preferred = 0;
  readonly requestTimeoutMs: number;
  readonly totalTimeoutMs: number;
  private readonly maxRedirects: number;
  private readonly tls: TlsOptions | undefined;
  private readonly onRequest: ((trace: RequestTrace) => void) | undefined;

  constructor(options: ClientOptions) {
    if (options.endpoints.length === 0) throw new RangeError('etcd client: at least one endpoint is required');
    this.endpoints = options.endpoints.map(normalizeEndpoint);
    this.requestTimeoutMs = positive(options.requestTimeoutMs ?? defaultRequestTimeoutMs, 'requestTimeoutMs');
    this.totalTimeoutMs = positive(options.totalTimeoutMs ?? defaultTotalTimeoutMs, 'totalTimeoutMs');
    this.maxRedirects = options.maxRedirects ?? defaultMaxRedirects;
    this.tls = options.tls;
    this.onRequest = options.onRequest;
  }

  list(): readonly string[] {
    return this.endpoints;
  }

  /** Replaces the list (after a cluster sync); keeps the preferred endpoint when still present. */
  replace(endpoints: readonly string[]): void {
    if (endpoints.length === 0) return;
    const current = this.endpoints[this.preferred];
    this.endpoints = endpoints.map(normalizeEndpoint);
    const kept = current === undefined ? -1 : this.endpoints.indexOf(current);
    this.preferred = kept >= 0 ? kept : 0;
  }

  /** One exchange with one endpoint (no failover): used by sync and health checks. */
  async callOne(endpoint: string, call: Call): Promise<HttpResponse> {
    return exchangeFollowing(this.request(endpoint, call, this.requestTimeoutMs), this.maxRedirects, (r) => this.trace(r));
  }

  async call(call: Call): Promise<HttpResponse> {
    const startMs = Date.now();
    const failures: EndpointFailure[] = [];
    let lastAnswerMs = startMs;
    let lastServerError: HttpResponse | undefined;
    for (let attempt = 0; ; attempt++) {
      const round = Math.floor(attempt / this.endpoints.length);
      if (!call.longPoll && round >= roundsPerOperation) {
        // Every member answered a read with 5xx (no leader): that error is the answer.
        if (lastServerError !== undefined) return lastServerError;
        throw new ClusterUnreachableError(failures);
      }
      const idleMs = Date.now() - (call.longPoll ? lastAnswerMs : startMs);
      if (idleMs >= this.totalTimeoutMs) {
        if (call.longPoll || lastServerError !== undefined) throw new ClusterUnreachableError(failures);
        throw new ClientTimeoutError(this.totalTimeoutMs, failures);
      }
      if (call.longPoll && attempt > 0 && attempt % this.endpoints.length === 0) await pause(watchRetryPauseMs, call.signal);
      const index = (this.preferred + attempt) % this.endpoints.length;
      const endpoint = this.endpoints[index] ?? '';
      const timeoutMs = call.longPoll ? 0 : Math.max(1, Math.min(this.requestTimeoutMs, this.totalTimeoutMs - idleMs));
      try {
        const res = await exchangeFollowing(this.request(endpoint, call, timeoutMs), this.maxRedirects, (r) => this.trace(r));
        // A write answered 5xx (commit timeout) may still commit: its answer stands.
        if (res.status >= 500 && call.method !== 'GET') return res;
        if (res.status >= 500) {
          failures.push({ endpoint, reason: `HTTP ${res.status}: ${res.body.trim()}` });
          lastServerError = res;
          continue;
        }
        lastAnswerMs = Date.now();
        this.prefer(index, res.url);
        return res;
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        if (err.reachedServer && call.method !== 'GET') throw new WriteOutcomeUnknownError(endpoint, err.message);
        failures.push({ endpoint, reason: err.message });
      }
    }
  }

  /** Remembers who answered; a redirect to another listed member (the leader) wins. */
  private prefer(index: number, answeredBy: URL): void {
    const redirectedTo = this.endpoints.indexOf(answeredBy.origin);
    this.preferred = redirectedTo >= 0 ? redirectedTo : index;
  }

  private request(endpoint: string, call: Call, timeoutMs: number): HttpRequest {
    const req: HttpRequest = {
      method: call.method,
      url: new URL(endpoint + call.pathAndQuery),
      body: call.body,
      timeoutMs,
      ...(call.contentType !== undefined ? { contentType: call.contentType } : {}),
      ...(this.tls !== undefined ? { tls: this.tls } : {}),
      ...(call.signal !== undefined ? { signal: call.signal } : {}),
    };
    return req;
  }

  private trace(req: HttpRequest): void {
    this.onRequest?.({ method: req.method, url: req.url.href, body: req.body });
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`etcd client: ${name} must be a positive number, got ${value}`);
  return value;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new DOMException('The operation was aborted', 'AbortError'));
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new DOMException('The operation was aborted', 'AbortError'));
      },
      { once: true },
    );
  });
}
