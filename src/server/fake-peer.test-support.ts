/**
 * In-process HTTP servers playing 0.4.6 peers for the join and standby tests: canned answers
 * for `/version`, `/v2/admin/machines`, `/v2/admin/config` and `PUT /join`, each changeable
 * while the test runs, and a record of every request they received.
 */
import http from 'node:http';
import { freePort } from '../../test/support/ports.js';
import type { AdminMachine, ClusterConfigValues } from './peer-admin.js';

export interface CannedAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

export interface FakePeer {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  version: string;
  machines: AdminMachine[];
  config: ClusterConfigValues;
  /** Answer to PUT /join (default: 404). */
  join: ((body: string) => CannedAnswer) | null;
  /** When true, requests are accepted and never answered. */
  silent: boolean;
  close(): Promise<void>;
}

export const DEFAULT_CONFIG: ClusterConfigValues = { activeSize: 9, removeDelay: 1800, syncInterval: 5 };

export async function startFakePeer(): Promise<FakePeer> {
  const port = await freePort();
  const held: http.ServerResponse[] = [];
  const peer: FakePeer = {
    url: `http://127.0.0.1:${port}`,
    requests: [],
    version: '2',
    machines: [],
    config: { ...DEFAULT_CONFIG },
    join: null,
    silent: false,
    close: () =>
      new Promise((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      peer.requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      if (peer.silent) {
        held.push(res);
        return;
      }
      answer(res, route(peer, req.method ?? '', req.url ?? '', body));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return peer;
}

function route(peer: FakePeer, method: string, url: string, body: string): CannedAnswer {
  if (method === 'GET' && url === '/version') return { status: 200, body: peer.version };
  if (method === 'GET' && url === '/v2/admin/machines') return { status: 200, body: JSON.stringify(peer.machines) + '\n' };
  if (method === 'GET' && url === '/v2/admin/config') return { status: 200, body: JSON.stringify(peer.config) + '\n' };
  if (method === 'PUT' && url === '/join' && peer.join !== null) return peer.join(body);
  return { status: 404, body: '404 page not found\n' };
}

function answer(res: http.ServerResponse, canned: CannedAnswer): void {
  const body = canned.body ?? '';
  res.writeHead(canned.status, { ...(canned.headers ?? {}), 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function machine(name: string, state: 'leader' | 'follower', clientURL: string, peerURL: string): AdminMachine {
  return { name, state, clientURL, peerURL };
}

/** n followers with unreachable-looking URLs, to fill a cluster. */
export function fillerMachines(n: number): AdminMachine[] {
  return Array.from({ length: n }, (_, i) => machine(`m${i}`, 'follower', `http://10.255.0.${i}:4001`, `http://10.255.0.${i}:7001`));
}
