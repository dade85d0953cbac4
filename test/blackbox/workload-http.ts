/**
 * The workload's HTTP client: one v2 request, following 307s to the leader as etcd clients do,
 * and saying afterwards whether the request can have reached a leader.
 *
 * That last point decides `fail` versus `unknown` in the history, so it is kept strict:
 * - a refused connection means nothing was sent to that member;
 * - a 307 means the member that answered did not propose the request (only a leader does);
 * - so a chain made only of 307s and refusals ends `neverSent`; anything else that is not an
 *   answer (timeout, reset after the request went out) is `indefinite`.
 * node:http rather than fetch: it tells a refused connect (ECONNREFUSED) from a reset after the
 * request was written, and a keep-alive agent is cheaper on a 2-core machine.
 */
import http from 'node:http';

/** How many 307s we follow before calling it a redirect loop (etcd's Go client: 10). */
const MAX_REDIRECTS = 8;

export type Exchange =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly json: unknown;
      /** X-Etcd-Index, or -1 when absent. */
      readonly etcdIndex: number;
      /** X-Raft-Index, or -1 when absent. */
      readonly raftIndex: number;
      /** Client URL of the member that answered. */
      readonly url: string;
    }
  | { readonly kind: 'neverSent'; readonly reason: string; readonly url: string }
  | { readonly kind: 'indefinite'; readonly reason: string; readonly url: string };

export interface V2Request {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path and query, e.g. `/v2/keys/jepsen/r/k0?quorum=true`. */
  readonly target: string;
  /** Form fields for PUT/POST. */
  readonly form?: Readonly<Record<string, string>>;
}

export class V2Client {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

  /**
   * Sends `request` to `baseUrl`, following 307s, all within `timeoutMs`. An abort (`signal`)
   * ends it as `indefinite` with reason 'aborted' (used to end long-polling watches).
   */
  async exchange(baseUrl: string, request: V2Request, timeoutMs: number, signal?: AbortSignal): Promise<Exchange> {
    const deadline = performance.now() + timeoutMs;
    const body = request.form === undefined ? undefined : new URLSearchParams(request.form).toString();
    let url = new URL(request.target, baseUrl);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const left = deadline - performance.now();
      if (left <= 0) return { kind: 'indefinite', reason: 'timeout before a hop', url: url.origin };
      if (signal?.aborted === true) return { kind: 'indefinite', reason: 'aborted', url: url.origin };
      const result = await this.hop(url, request.method, body, left, signal);
      if (result.kind === 'refused') return { kind: 'neverSent', reason: `refused by ${url.origin}`, url: url.origin };
      if (result.kind === 'broken') return { kind: 'indefinite', reason: result.reason, url: url.origin };
      if (result.status === 307) {
        const location = result.headers.location;
        if (location === undefined) return { kind: 'indefinite', reason: '307 without Location', url: url.origin };
        url = new URL(location, url);
        continue;
      }
      return {
        kind: 'answer',
        status: result.status,
        json: parseJson(result.text),
        etcdIndex: headerNumber(result.headers['x-etcd-index']),
        raftIndex: headerNumber(result.headers['x-raft-index']),
        url: url.origin,
      };
    }
    return { kind: 'neverSent', reason: `redirect loop (${MAX_REDIRECTS} × 307)`, url: url.origin };
  }

  /** Closes idle keep-alive sockets (in-flight requests finish or time out on their own). */
  close(): void {
    this.agent.destroy();
  }

  private hop(url: URL, method: string, body: string | undefined, timeoutMs: number, signal: AbortSignal | undefined): Promise<HopResult> {
    return new Promise((resolve) => {
      let settled = false;
      const onAbort = (): void => {
        settle({ kind: 'broken', reason: 'aborted' });
        req.destroy();
      };
      const settle = (result: HopResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      signal?.addEventListener('abort', onAbort);
      const headers: http.OutgoingHttpHeaders = {};
      if (body !== undefined) {
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        headers['Content-Length'] = Buffer.byteLength(body);
      }
      const req = http.request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          settle({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (error) => settle({ kind: 'broken', reason: `response: ${describe(error)}` }));
      });
      const timer = setTimeout(() => {
        settle({ kind: 'broken', reason: `timeout after ${Math.round(timeoutMs)} ms at ${url.origin}` });
        req.destroy();
      }, timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => {
        // Refused at connect: not one byte of the request left this process.
        settle(error.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'broken', reason: `${url.origin}: ${describe(error)}` });
      });
      req.end(body);
    });
  }
}

type HopResult =
  | { readonly kind: 'response'; readonly status: number; readonly headers: http.IncomingHttpHeaders; readonly text: string }
  | { readonly kind: 'refused' }
  | { readonly kind: 'broken'; readonly reason: string };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function headerNumber(value: string | string[] | undefined): number {
  const n = typeof value === 'string' ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n : -1;
}

function describe(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined ? error.message : `${code} ${error.message}`;
}

// ---- reading v2 bodies without `any` ----

export interface V2Node {
  readonly key: string;
  readonly value: string | null;
  readonly dir: boolean;
  readonly modifiedIndex: number;
  readonly createdIndex: number;
  readonly expiration: string | null;
  readonly nodes: readonly V2Node[];
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

export function readNode(value: unknown): V2Node | null {
  const node = record(value);
  if (node === null || typeof node.key !== 'string') return null;
  const children = Array.isArray(node.nodes) ? node.nodes.map(readNode).filter((n): n is V2Node => n !== null) : [];
  return {
    key: node.key,
    value: typeof node.value === 'string' ? node.value : null,
    dir: node.dir === true,
    modifiedIndex: typeof node.modifiedIndex === 'number' ? node.modifiedIndex : -1,
    createdIndex: typeof node.createdIndex === 'number' ? node.createdIndex : -1,
    expiration: typeof node.expiration === 'string' ? node.expiration : null,
    nodes: children,
  };
}

/** A key response: `{action, node, prevNode?}`. */
export function readAction(json: unknown): { action: string; node: V2Node; prevNode: V2Node | null } | null {
  const body = record(json);
  if (body === null || typeof body.action !== 'string') return null;
  const node = readNode(body.node);
  if (node === null) return null;
  return { action: body.action, node, prevNode: readNode(body.prevNode) };
}

/** A v2 error body: `{errorCode, message, cause?, index}`. */
export function readError(json: unknown): { errorCode: number; cause: string; index: number } | null {
  const body = record(json);
  if (body === null || typeof body.errorCode !== 'number') return null;
  return { errorCode: body.errorCode, cause: typeof body.cause === 'string' ? body.cause : '', index: typeof body.index === 'number' ? body.index : -1 };
}
