/**
 * Dialing a peer's raft endpoint: the HTTP upgrade handshake over plain TCP or TLS, bounded by
 * the dial timeout, cancellable (stop() and address changes abandon dials in progress).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import type { TransportTls } from './types.js';
import { RAFT_PATH, handshakeHeaders, type HandshakeRequest } from './handshake.js';
import { peerDialUrl } from '../common/test-hooks.js';

/** The peer answered the handshake with something other than 101. */
export class HandshakeRefused extends Error {
  override name = 'HandshakeRefused';
  constructor(
    readonly status: number,
    url: string,
    /** 410: why the cluster removed us ('explicit' or 'auto'), from X-Etcd-Removal-Reason. */
    readonly removalReason: string = '',
  ) {
    super(`${url} refused the raft handshake with ${status} ${http.STATUS_CODES[status] ?? ''}`.trimEnd());
  }
}

export interface Dial {
  readonly connected: Promise<net.Socket>;
  cancel(): void;
}

export interface DialOptions {
  readonly url: string;
  readonly handshake: HandshakeRequest;
  readonly tls: TlsFiles | null;
  readonly timeoutMs: number;
}

/** Keep-alive probes find a peer that vanished without a FIN (power loss, partition). */
const KEEPALIVE_MS = 5000;

/** The client certificate material, read once on first use. */
export class TlsFiles {
  private loaded: { cert: Buffer; key: Buffer; ca?: Buffer } | null = null;
  constructor(private readonly files: TransportTls) {}

  options(): { cert: Buffer; key: Buffer; ca?: Buffer } {
    if (this.loaded === null) {
      const f = this.files;
      this.loaded = {
        cert: readFileSync(f.certFile),
        key: readFileSync(f.keyFile),
        ...(f.caFile === '' ? {} : { ca: readFileSync(f.caFile) }),
      };
    }
    return this.loaded;
  }
}

/** `url` names the peer (it is the Host we ask for); `dialUrl` is where we connect — the same
 * address except under the test-only dial map (a fault-injecting proxy in between). */
function requestOptions(url: URL, dialUrl: URL, opts: DialOptions): https.RequestOptions {
  const common: http.RequestOptions = {
    hostname: dialUrl.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: dialUrl.port === '' ? (dialUrl.protocol === 'https:' ? 443 : 80) : Number(dialUrl.port),
    path: RAFT_PATH,
    method: 'GET',
    headers: { Host: url.host, ...handshakeHeaders(opts.handshake) },
    agent: false,
  };
  if (url.protocol !== 'https:') return common;
  return { ...common, ...(opts.tls === null ? {} : opts.tls.options()) };
}

export function dialRaft(opts: DialOptions): Dial {
  let req: http.ClientRequest | null = null;
  let timer: NodeJS.Timeout | null = null;
  let settled = false;
  let fail: (error: Error) => void = () => undefined;
  const connected = new Promise<net.Socket>((resolve, reject) => {
    fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      if (timer !== null) clearTimeout(timer);
      req?.destroy();
      reject(error);
    };
    try {
      const url = new URL(opts.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported peer URL ${opts.url}`);
      const options = requestOptions(url, new URL(peerDialUrl(opts.url)), opts);
      req = url.protocol === 'https:' ? https.request(options) : http.request(options);
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    timer = setTimeout(() => fail(new Error(`dial ${opts.url}: no handshake within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('error', (error) => fail(error));
    req.on('response', (res) => {
      res.resume();
      const reason = res.headers['x-etcd-removal-reason'];
      fail(new HandshakeRefused(res.statusCode ?? 0, opts.url, typeof reason === 'string' ? reason : ''));
    });
    req.on('upgrade', (res, socket, head) => {
      if (settled) return void socket.destroy();
      settled = true;
      if (timer !== null) clearTimeout(timer);
      res.resume();
      socket.setNoDelay(true);
      socket.setKeepAlive(true, KEEPALIVE_MS);
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.end();
  });
  // A cancelled or failed dial nobody awaits any more must not become an unhandled rejection.
  connected.catch(() => undefined);
  // fail() ignores a settled dial: after the upgrade the socket belongs to the caller.
  const cancel = (): void => {
    fail(new Error('dial cancelled'));
  };
  return { connected, cancel };
}
