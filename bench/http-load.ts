/**
 * A closed-loop Node load client that follows 307 redirects per request, for rows wrk cannot
 * measure honestly (wrk counts a 307 as an answered request). Each of `connections` workers sends
 * one request at a time; a 307 is followed at once to its Location with the same method and body
 * (what a v2 client does with our follower's redirect), and the request's latency covers every
 * hop. Each worker keeps one keep-alive connection per server it talks to, so a redirected write
 * costs one extra round trip, not a new connection. Nothing is cached between requests: every
 * request starts at the member it was sent to.
 *
 * It is dearer per request than wrk (JavaScript, one thread), so a row measured with it is only
 * comparable with rows measured with it; the benchmark uses it for both servers on such rows.
 */
import http from 'node:http';
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

interface HopAnswer {
  readonly status: number;
  readonly location: string | undefined;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function sendOnce(agent: http.Agent, url: URL, req: LoadRequest, timeoutMs: number): Promise<HopAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = req.body === null ? {} : { ...FORM, 'content-length': Buffer.byteLength(req.body) };
    const r = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method, agent, headers }, (res) => {
      // The body is drained so the connection can carry the next request.
      res.on('data', () => undefined);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
      res.once('error', reject);
    });
    r.setTimeout(timeoutMs, () => r.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    r.once('error', reject);
    r.end(req.body ?? undefined);
  });
}

/** One worker's keep-alive connection to each origin it is sent to. */
class WorkerConnections {
  private readonly agents = new Map<string, http.Agent>();

  agentFor(origin: string): http.Agent {
    let agent = this.agents.get(origin);
    if (agent === undefined) {
      agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      this.agents.set(origin, agent);
    }
    return agent;
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
  }
}

type Outcome = { readonly ok: true; readonly redirects: number } | { readonly ok: false; readonly redirects: number };

async function sendFollowing(conns: WorkerConnections, base: URL, req: LoadRequest, maxRedirects: number, timeoutMs: number): Promise<Outcome> {
  let url = new URL(req.path, base);
  for (let hop = 0; hop <= maxRedirects; hop++) {
    const answer = await sendOnce(conns.agentFor(url.origin), url, req, timeoutMs);
    if (answer.status === 307 && answer.location !== undefined) {
      url = new URL(answer.location, url);
      continue;
    }
    return { ok: answer.status >= 200 && answer.status < 300, redirects: hop };
  }
  return { ok: false, redirects: maxRedirects + 1 };
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
    const conns = new WorkerConnections();
    try {
      while (performance.now() < endMs) {
        const sentMs = performance.now();
        try {
          const outcome = await sendFollowing(conns, base, run.next(), maxRedirects, timeoutMs);
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
