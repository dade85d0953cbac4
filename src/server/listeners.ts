/**
 * HTTP(S) listeners for the client and peer ports. A member listens only on the URLs it was
 * given (`-bind-addr`, `--listen-client-urls`, ...), each with its scheme's server.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsFiles } from '../cli/config-types.js';

/** The kernel caps this at net.core.somaxconn (4096 on current Linux). */
const LISTEN_BACKLOG = 4096;

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export class ListenError extends Error {
  override name = 'ListenError';
}

export interface ListenTarget {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
}

/** `http://127.0.0.1:4001` → host and port; `[::]` style hosts lose their brackets. */
export function listenTargetOf(url: string): ListenTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ListenError(`cannot listen on "${url}": not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ListenError(`cannot listen on "${url}": scheme must be http or https`);
  }
  const secure = parsed.protocol === 'https:';
  const port = parsed.port === '' ? (secure ? 443 : 80) : Number(parsed.port);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port, secure };
}

function tlsOptions(tls: TlsFiles): https.ServerOptions {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.caFile !== '' ? { ca: readFileSync(tls.caFile) } : {}),
    requestCert: tls.clientCertAuth,
    rejectUnauthorized: tls.clientCertAuth,
  };
}

/** Starts one server per URL; rejects (closing what it opened) if any address cannot be bound. */
export async function listenAll(urls: readonly string[], handler: RequestHandler, tls: TlsFiles | null): Promise<http.Server[]> {
  const servers: http.Server[] = [];
  try {
    for (const url of urls) servers.push(await listenOne(url, handler, tls));
  } catch (error) {
    await closeAll(servers);
    throw error;
  }
  return servers;
}

function listenOne(url: string, handler: RequestHandler, tls: TlsFiles | null): Promise<http.Server> {
  const target = listenTargetOf(url);
  if (target.secure && tls === null) {
    return Promise.reject(new ListenError(`cannot listen on "${url}": https needs -cert-file and -key-file`));
  }
  const server = target.secure && tls !== null ? https.createServer(tlsOptions(tls), handler) : http.createServer(handler);
  // Long-poll watches may stay idle for minutes; Node's default timeouts would cut them.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError(`cannot listen on "${url}": ${err.code ?? err.message}`)));
    // A deep accept queue: thousands of watchers connecting at once must not see refused SYNs.
    server.listen({ host: target.host, port: target.port, backlog: LISTEN_BACKLOG }, () => resolve(server));
  });
}

export function boundPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

export async function closeAll(servers: readonly http.Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
}
