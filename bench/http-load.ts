/**
 * A closed-loop Node load client that follows 307 redirects per request, for rows wrk cannot
 * measure honestly (wrk counts a 307 as an answered request). Each of `connections` workers sends
 * one request at a time; a 307 is followed at once to its Location with the same method and body
 * (what a v2 client does with our follower's redirect), and the request's latency covers every
 * hop. Each worker keeps one keep-alive connection per server it talks to (http1-connection.ts),
 * so a redirected write costs one extra round trip, not a new connection. Nothing is cached
 * between requests: every request starts at the member it was sent to.
 *
 * It is dearer per request than wrk (JavaScript, one thread), so a row measured with it is only
 * comparable with rows measured with it; the benchmark uses it for both servers on such rows.
 */
import { Http1Connection } from './http1-connection.js';
import type { WrkResult } from './wrk.js';

export interface LoadRequest {
  readonly method: 'GET' | 'PUT';
  /** Path and query, e.g. `/v2/keys/bench/p17`. */
  readonly path: string;
  readonly body: string | null;
}

export interface HttpLoadRun {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  /** Builds the next request (a fresh random key each time). */
  next(): LoadRequest;
  /** Redirects followed per request before it counts as failed (default 3). */
  readonly maxRedirects?: number;
  /** Per-hop timeout (default 10 s, as wrk's --timeout). */
  readonly timeoutMs?: number;
}

export interface HttpLoadResult extends WrkResult {
  /** 307s followed (a redirected write or quorum read counts one). */
  readonly redirectsFollowed: number;
}

/** One worker's keep-alive connection to each origin it is sent to. */
class WorkerConnections {
  private readonly byOrigin = new Map<string, Http1Connection>();

  constructor(private readonly timeoutMs: number) {}

  to(origin: URL): Http1Connection {
    let conn = this.byOrigin.get(origin.origin);
    if (conn === undefined) {
      conn = new Http1Connection(origin.hostname, Number(origin.port || 80), this.timeoutMs);
      this.byOrigin.set(origin.origin, conn);
    }
    return conn;
  }

  close(): void {
    for (const conn of this.byOrigin.values()) conn.close();
  }
}

interface Outcome {
  readonly ok: boolean;
  readonly redirects: number;
}

async function sendFollowing(conns: WorkerConnections, base: URL, first: Http1Connection, req: LoadRequest, maxRedirects: number): Promise<Outcome> {
  // The first hop skips URL parsing (it is the generator's hot path); only a Location is parsed.
  let answer = await first.request(req.method, req.path, req.body);
  let url: URL | null = null;
  for (let hop = 0; hop < maxRedirects; hop++) {
    if (answer.status !== 307 || answer.location === undefined) return { ok: answer.status >= 200 && answer.status < 300, redirects: hop };
    url = new URL(answer.location, url ?? new URL(req.path, base));
    answer = await conns.to(url).request(req.method, url.pathname + url.search, req.body);
  }
  if (answer.status === 307) return { ok: false, redirects: maxRedirects };
  return { ok: answer.status >= 200 && answer.status < 300, redirects: maxRedirects };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sortedAscending: Float64Array, p: number): number {
  if (sortedAscending.length === 0) return NaN;
  const rank = Math.min(sortedAscending.length - 1, Math.max(0, Math.ceil((p / 100) * sortedAscending.length) - 1));
  return sortedAscending[rank] ?? NaN;
}

class LatencyLog {
  private values = new Float64Array(1 << 16);
  private count = 0;

  add(ms: number): void {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = ms;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.count).sort();
  }
}

export async function runHttpLoad(run: HttpLoadRun): Promise<HttpLoadResult> {
  if (!(run.connections >= 1 && run.durationS >= 1)) throw new Error('http load: connections and durationS must be >= 1');
  const base = new URL(run.url);
  const maxRedirects = run.maxRedirects ?? 3;
  const timeoutMs = run.timeoutMs ?? 10_000;
  const latencies = new LatencyLog();
  let errors = 0;
  let redirectsFollowed = 0;
  const startMs = performance.now();
  const endMs = startMs + run.durationS * 1000;
  const worker = async (): Promise<void> => {
    const conns = new WorkerConnections(timeoutMs);
    const first = conns.to(base);
    try {
      while (performance.now() < endMs) {
        const sentMs = performance.now();
        try {
          const outcome = await sendFollowing(conns, base, first, run.next(), maxRedirects);
          redirectsFollowed += outcome.redirects;
          if (outcome.ok) latencies.add(performance.now() - sentMs);
          else errors++;
        } catch {
          errors++;
        }
      }
    } finally {
      conns.close();
    }
  };
  await Promise.all(Array.from({ length: run.connections }, worker));
  const elapsedS = (performance.now() - startMs) / 1000;
  const sorted = latencies.sorted();
  return {
    requestsPerSec: sorted.length / elapsedS,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    requests: sorted.length + errors,
    errors,
    redirectsFollowed,
  };
}

/** PUT of a random key out of `keys` with a 64-byte value: the body wrk's PUT script sends. */
export function putRandomKey(keys: number): () => LoadRequest {
  const body = `value=${'v'.repeat(64)}`;
  return () => ({ method: 'PUT', path: `/v2/keys/bench/p${Math.floor(Math.random() * keys)}`, body });
}

/** GET of a random preloaded key out of `keys`, with a query suffix such as `?quorum=true`. */
export function getRandomKey(keys: number, suffix: string): () => LoadRequest {
  return () => ({ method: 'GET', path: `/v2/keys/bench/k${Math.floor(Math.random() * keys)}${suffix}`, body: null });
}
