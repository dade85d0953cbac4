/**
 * The client side of the peer port's public endpoints (spec §9.1) as a joiner or a standby
 * uses them: `/version`, `/v2/admin/machines`, `/v2/admin/config`, and one raw request for the
 * join. Plain node:http/https with a deadline on every request, because a peer that accepts the
 * connection and never answers must not stall a join round.
 */
import http from 'node:http';
import https from 'node:https';
import type { AdminMachine, ClusterConfigValues } from './peer-admin.js';

/** TLS material for https peers (`-peer-ca-file`, `-peer-cert-file`, `-peer-key-file`). */
export interface PeerTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface PeerRequestOptions {
  readonly timeoutMs: number;
  readonly tls?: PeerTls;
  readonly signal?: AbortSignal;
}

export interface PeerResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A peer that could not be asked or answered something we cannot use. */
export class PeerRequestError extends Error {
  override name = 'PeerRequestError';
}

/** Bodies on the peer port are small (a machine list of at most activeSize entries). */
const MAX_PEER_BODY_BYTES = 1024 * 1024;

/**
 * `http://127.0.0.1:7001`, `127.0.0.1:7001` (0.4.6's `-peers` form) or with a trailing slash →
 * the origin we append paths to. Unparseable input is returned as given so the request fails
 * with a message naming it.
 */
export function normalizePeerUrl(peer: string): string {
  const trimmed = peer.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  try {
    return new URL(withScheme).origin;
  } catch {
    return withScheme.replace(/\/+$/, '');
  }
}

export function peerRequest(method: string, url: string, body: string | null, options: PeerRequestOptions): Promise<PeerResponse> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new PeerRequestError(`${url} is not a URL`));
      return;
    }
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') {
      reject(new PeerRequestError(`${url}: scheme must be http or https`));
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    if (body !== null) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const requestOptions: https.RequestOptions = { method, headers, agent: false, ...(secure ? (options.tls ?? {}) : {}) };
    const request = (secure ? https : http).request(target, requestOptions);
    let settled = false;
    const finish = (error: Error | null, response?: PeerResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      if (error !== null) {
        request.destroy();
        reject(error);
      } else if (response !== undefined) {
        resolve(response);
      }
    };
    // One deadline for connect + answer + body: a peer that trickles bytes is as useless as a silent one.
    const deadline = setTimeout(() => finish(new PeerRequestError(`${method} ${url}: no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    const onAbort = (): void => finish(new PeerRequestError(`${method} ${url}: aborted`));
    if (options.signal?.aborted === true) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort);
    request.on('error', (error) => finish(new PeerRequestError(`${method} ${url}: ${error.message}`)));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_PEER_BODY_BYTES) finish(new PeerRequestError(`${method} ${url}: answer larger than ${MAX_PEER_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', (error) => finish(new PeerRequestError(`${method} ${url}: ${error.message}`)));
      response.on('end', () => finish(null, { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.end(body ?? undefined);
  });
}

/** The peer protocol version a peer speaks (`/version` answers the text `2`). */
export async function fetchPeerVersion(peer: string, options: PeerRequestOptions): Promise<string> {
  const response = await peerRequest('GET', `${peer}/version`, null, options);
  if (response.status !== 200) throw new PeerRequestError(`GET ${peer}/version answered ${response.status}`);
  return response.body.toString('utf8').trim();
}

export async function fetchMachines(peer: string, options: PeerRequestOptions): Promise<AdminMachine[]> {
  const parsed = await fetchJson(`${peer}/v2/admin/machines`, options);
  if (!Array.isArray(parsed)) throw new PeerRequestError(`GET ${peer}/v2/admin/machines: not a JSON array`);
  return parsed.map((item: unknown) => {
    const machine = asAdminMachine(item);
    if (machine === null) throw new PeerRequestError(`GET ${peer}/v2/admin/machines: not a machine: ${JSON.stringify(item)}`);
    return machine;
  });
}

export async function fetchClusterConfig(peer: string, options: PeerRequestOptions): Promise<ClusterConfigValues> {
  const parsed = await fetchJson(`${peer}/v2/admin/config`, options);
  const config = asClusterConfig(parsed);
  if (config === null) throw new PeerRequestError(`GET ${peer}/v2/admin/config: not a cluster config: ${JSON.stringify(parsed)}`);
  return config;
}

async function fetchJson(url: string, options: PeerRequestOptions): Promise<unknown> {
  const response = await peerRequest('GET', url, null, options);
  if (response.status !== 200) throw new PeerRequestError(`GET ${url} answered ${response.status}`);
  try {
    return JSON.parse(response.body.toString('utf8')) as unknown;
  } catch {
    throw new PeerRequestError(`GET ${url}: the answer is not JSON`);
  }
}

export function asAdminMachine(value: unknown): AdminMachine | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const { name, state, clientURL, peerURL } = record;
  if (typeof name !== 'string' || typeof clientURL !== 'string' || typeof peerURL !== 'string') return null;
  if (state !== 'leader' && state !== 'follower') return null;
  return { name, state, clientURL, peerURL };
}

export function asClusterConfig(value: unknown): ClusterConfigValues | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const { activeSize, removeDelay, syncInterval } = record;
  // Zeros are passed on: a 0.4.6 cluster whose /_etcd/config was written directly can hold them,
  // and each user decides what a zero means to it (the standby polls no faster than once a second).
  if (!isCount(activeSize) || !isCount(removeDelay) || !isCount(syncInterval)) return null;
  return { activeSize, removeDelay, syncInterval };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
