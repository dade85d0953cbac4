/**
 * The peer transport between real loopback HTTP servers in one process: ordering, reconnect,
 * handshake refusals, snapshots beside heartbeats, failures, the queue bound, garbage input,
 * and that stop() leaves nothing running (checked in a child process that must exit by itself).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import https from 'node:https';
import type tls from 'node:tls';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Message, MessageType, NodeId } from '../raft/types.js';
import { freePort } from '../../test/support/ports.js';
import { createPeerTransport } from './transport.js';
import { LATENCY_MINIMUM_UNSET } from './stats.js';
import type { PeerTransport, TransportConfig } from './types.js';

const EMPTY = new Uint8Array(0);

function msg(type: MessageType, from: NodeId, to: NodeId, index: number, extra: Partial<Message> = {}): Message {
  return { type, from, to, term: 1, logTerm: 1, index, entries: [], commit: 0, reject: false, rejectHint: 0, context: EMPTY, ...extra };
}

function appWithEntries(from: NodeId, to: NodeId, index: number): Message {
  const entries = Array.from({ length: 30 }, (_, i) => ({ term: 1, index: index + i + 1, type: 'normal' as const, data: new Uint8Array(150).fill(i) }));
  return msg('MsgApp', from, to, index, { entries });
}

interface Events {
  readonly received: Message[];
  readonly unreachable: NodeId[];
  readonly snapshotStatus: string[];
  readonly peersSeen: string[];
  removedFromCluster: number;
}

interface Node {
  readonly id: NodeId;
  readonly url: string;
  readonly transport: PeerTransport;
  readonly events: Events;
  readonly server: http.Server;
  close(): Promise<void>;
}

interface NodeOptions {
  readonly port?: number;
  readonly clusterId?: string;
  readonly removed?: readonly NodeId[];
  readonly config?: Partial<TransportConfig>;
  /** Called for every received message, after it is recorded. */
  readonly onMessage?: (m: Message) => void;
}

function newEvents(): Events {
  return { received: [], unreachable: [], snapshotStatus: [], peersSeen: [], removedFromCluster: 0 };
}

async function startNode(id: NodeId, options: NodeOptions = {}): Promise<Node> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const events = newEvents();
  const transport = createPeerTransport(
    {
      selfId: id,
      clusterId: options.clusterId ?? 'cluster-1',
      selfPeerUrls: [url],
      tls: null,
      dialTimeoutMs: 1000,
      minBackoffMs: 20,
      maxBackoffMs: 200,
      maxQueuedMessages: 4096,
      ...options.config,
    },
    {
      onMessage: (m) => {
        events.received.push(m);
        options.onMessage?.(m);
      },
      onUnreachable: (peer) => events.unreachable.push(peer),
      onSnapshotStatus: (peer, status) => events.snapshotStatus.push(`${peer}:${status}`),
      onPeerSeen: (peer, urls) => events.peersSeen.push(`${peer}=${urls.join(',')}`),
      isRemoved: (peer) => (options.removed ?? []).includes(peer),
      onRemovedFromCluster: () => void events.removedFromCluster++,
    },
  );
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', transport.handleUpgrade);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = async (): Promise<void> => {
    await transport.stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { id, url, transport, events, server, close };
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Two nodes that know each other. */
async function pair(optionsA: NodeOptions = {}, optionsB: NodeOptions = {}): Promise<[Node, Node]> {
  const a = await startNode('a', optionsA);
  const b = await startNode('b', optionsB);
  a.transport.setPeer('b', [b.url]);
  b.transport.setPeer('a', [a.url]);
  return [a, b];
}

/** A raw handshake on the peer port; resolves with the status line and the socket. */
function rawHandshake(port: number, headers: Record<string, string>): Promise<{ statusLine: string; body: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`GET /raft HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: etcd-raft/1\r\n${lines}\r\n`);
    let text = '';
    socket.on('error', reject);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const statusLine = text.slice(0, text.indexOf('\r\n'));
      if (!statusLine.includes(' 101 ')) {
        const length = Number(/Content-Length: (\d+)/i.exec(text)?.[1] ?? 0);
        if (text.length < end + 4 + length) return;
      }
      socket.off('data', onData);
      resolve({ statusLine, body: text.slice(end + 4), socket });
    };
    socket.on('data', onData);
  });
}

const connectionCounts = new Map<http.Server, number>();
/** The server's open connections, as last counted (refreshed on every call). */
function connectionCount(server: http.Server): number {
  server.getConnections((_error, count) => connectionCounts.set(server, count));
  return connectionCounts.get(server) ?? -1;
}

const CHILD = process.env.TRANSPORT_EXIT_CHILD === '1';

if (CHILD) {
  // The child of the "stop() leaves no handles" test: exchange traffic (incl. a snapshot and a
  // dead peer in back-off), stop, close the servers, and then simply return — the process must exit.
  const [a, b] = await pair();
  a.transport.setPeer('dead', [`http://127.0.0.1:${await freePort()}`]);
  a.transport.send([msg('MsgApp', 'a', 'b', 1), msg('MsgHeartbeat', 'a', 'dead', 0)]);
  a.transport.send([msg('MsgSnap', 'a', 'b', 0, { snapshot: { data: new Uint8Array(1 << 20), metadata: { index: 5, term: 1, confState: { voters: ['a', 'b'], learners: [] } } } })]);
  b.transport.send([msg('MsgAppResp', 'b', 'a', 1)]);
  await waitFor('traffic', () => b.events.received.length === 2 && a.events.received.length === 1 && a.events.unreachable.includes('dead'));
  a.transport.send([msg('MsgHeartbeat', 'a', 'dead', 0)]);
  await a.close();
  await b.close();
  console.log('child: stopped');
} else {
  test('messages arrive in order, batched per turn, with the append stats on both sides', async () => {
    const [a, b] = await pair({}, { onMessage: (m) => m.type === 'MsgApp' && b.transport.send([msg('MsgAppResp', 'b', 'a', m.index)]) });
    try {
      let index = 0;
      for (let turn = 0; turn < 20; turn++) {
        const batch: Message[] = [];
        for (let i = 0; i < 50; i++) batch.push(i % 5 === 0 ? msg('MsgHeartbeat', 'a', 'b', index++) : appWithEntries('a', 'b', index++));
        a.transport.send(batch.slice(0, 25));
        a.transport.send(batch.slice(25));
        if (turn % 3 === 0) await sleep(1);
      }
      await waitFor('1000 messages at b', () => b.events.received.length === 1000);
      assert.deepStrictEqual(b.events.received.map((m) => m.index), Array.from({ length: 1000 }, (_, i) => i));
      assert.deepStrictEqual(b.events.received[1], appWithEntries('a', 'b', 1));
      assert.deepStrictEqual(b.events.peersSeen, [`a=${a.url}`]);
      await waitFor('800 MsgAppResp at a', () => a.events.received.length === 800);

      const sent = a.transport.appendStats();
      assert.equal(sent.sendAppendRequestCnt, 800);
      assert.equal(sent.recvAppendRequestCnt, 0);
      assert.ok(sent.sendPkgRate !== undefined && sent.sendPkgRate > 0, JSON.stringify(sent));
      assert.ok(sent.sendBandwidthRate !== undefined && sent.sendBandwidthRate > sent.sendPkgRate * 30 * 150, JSON.stringify(sent));
      assert.equal(sent.recvPkgRate, undefined);
      const recv = b.transport.appendStats();
      assert.equal(recv.recvAppendRequestCnt, 800);
      assert.equal(recv.sendAppendRequestCnt, 0);
      assert.ok(recv.recvPkgRate !== undefined && recv.recvPkgRate > 0, JSON.stringify(recv));
      assert.equal(recv.sendPkgRate, undefined);

      const follower = a.transport.followerStats('b');
      assert.deepStrictEqual(follower.counts, { fail: 0, success: 800 });
      const l = follower.latency;
      assert.ok(l.minimum >= 0 && l.minimum <= l.average && l.average <= l.maximum && l.maximum < 5000, JSON.stringify(l));
      assert.ok(l.standardDeviation >= 0);
      // No heartbeat response came back, so heartbeats count nothing.
      assert.deepStrictEqual(b.transport.followerStats('a'), {
        latency: { current: 0, average: 0, standardDeviation: 0, minimum: LATENCY_MINIMUM_UNSET, maximum: 0 },
        counts: { fail: 0, success: 0 },
      });
      assert.equal(LATENCY_MINIMUM_UNSET, 9223372036854775808);
      assert.deepStrictEqual(a.events.unreachable, []);
      // Stale rates: more than a second after the last append they are omitted.
      await sleep(1100);
      assert.deepStrictEqual(a.transport.appendStats(), { recvAppendRequestCnt: 0, sendAppendRequestCnt: 800 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('three members: each peer gets its own messages in order; removePeer closes the connection', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    const c = await startNode('c');
    try {
      for (const [x, others] of [[a, [b, c]], [b, [a, c]], [c, [a, b]]] as const) for (const o of others) x.transport.setPeer(o.id, [o.url]);
      for (let i = 0; i < 100; i++) {
        a.transport.send([msg('MsgApp', 'a', 'b', i), msg('MsgApp', 'a', 'c', 1000 + i), msg('MsgHeartbeat', 'a', 'b', 2000 + i)]);
        b.transport.send([msg('MsgVote', 'b', 'c', i)]);
      }
      await waitFor('b and c', () => b.events.received.length === 200 && c.events.received.length === 200);
      const byFrom = (n: Node, from: NodeId): number[] => n.events.received.filter((m) => m.from === from).map((m) => m.index);
      const range = (lo: number, n: number): number[] => Array.from({ length: n }, (_, i) => lo + i);
      assert.deepStrictEqual(byFrom(b, 'a'), range(0, 100).flatMap((i) => [i, 2000 + i]));
      assert.deepStrictEqual(byFrom(c, 'a'), range(1000, 100));
      assert.deepStrictEqual(byFrom(c, 'b'), range(0, 100));
      assert.deepStrictEqual(a.transport.appendStats().sendAppendRequestCnt, 200);
      assert.deepStrictEqual([b.transport.appendStats().recvAppendRequestCnt, c.transport.appendStats().recvAppendRequestCnt], [100, 100]);

      await waitFor('two connections at c', () => connectionCount(c.server) === 2);
      a.transport.removePeer('c');
      await waitFor("a's connection to c closed", () => connectionCount(c.server) === 1);
      a.transport.send([msg('MsgHeartbeat', 'a', 'c', 1)]);
      await waitFor('unreachable c', () => a.events.unreachable.length === 1);
      assert.deepStrictEqual(a.events.unreachable, ['c']);
      assert.equal(c.events.received.length, 200);
    } finally {
      await a.close();
      await b.close();
      await c.close();
    }
  });

  test('a peer that is down is reported unreachable; once it is up it gets the later messages', async () => {
    const portB = await freePort();
    const a = await startNode('a');
    let b: Node | null = null;
    try {
      a.transport.setPeer('b', [`http://127.0.0.1:${portB}`]);
      a.transport.send([msg('MsgHeartbeat', 'a', 'b', 1)]);
      await waitFor('unreachable b', () => a.events.unreachable.length > 0);
      assert.deepStrictEqual(a.events.unreachable, ['b']);
      assert.ok(a.transport.followerStats('b').counts.fail >= 1);

      b = await startNode('b', { port: portB });
      let next = 100;
      const deadline = Date.now() + 5000;
      while (b.events.received.length === 0 && Date.now() < deadline) {
        a.transport.send([msg('MsgHeartbeat', 'a', 'b', next++)]);
        await sleep(10);
      }
      assert.ok(b.events.received.length > 0, 'b never got a message after coming up');
      const firstIndex = (b.events.received[0] as Message).index;
      assert.ok(firstIndex >= 100, `got ${firstIndex}, a message from before b was up`);
      // The connection breaks (b restarts on the same port): a reconnects and delivers again.
      await b.close();
      b = await startNode('b', { port: portB });
      const restarted = b;
      await waitFor('delivery after restart', () => {
        a.transport.send([msg('MsgHeartbeat', 'a', 'b', next++)]);
        return restarted.events.received.length > 0;
      });
    } finally {
      await a.close();
      await b?.close();
    }
  });

  test('handshake answers: 101, 412 on another cluster, 410 to a removed member, 404 for someone else, 400 for junk', async () => {
    const b = await startNode('b', { removed: ['gone'] });
    const port = Number(new URL(b.url).port);
    try {
      const ok = await rawHandshake(port, { 'X-Etcd-Cluster-Id': 'cluster-1', 'X-Etcd-From': 'a', 'X-Etcd-To': 'b', 'X-Etcd-Peer-Urls': 'http://x:1,http://y:2' });
      assert.equal(ok.statusLine, 'HTTP/1.1 101 Switching Protocols');
      ok.socket.destroy();
      await waitFor('peer seen', () => b.events.peersSeen.length === 1);
      assert.deepStrictEqual(b.events.peersSeen, ['a=http://x:1,http://y:2']);

      const cases: [Record<string, string>, string, string][] = [
        [{ 'X-Etcd-Cluster-Id': 'other', 'X-Etcd-From': 'a', 'X-Etcd-To': 'b' }, 'HTTP/1.1 412 Precondition Failed', 'cluster ID mismatch: this member is in cluster-1, the dialer in other\n'],
        [{ 'X-Etcd-Cluster-Id': 'cluster-1', 'X-Etcd-From': 'gone', 'X-Etcd-To': 'b' }, 'HTTP/1.1 410 Gone', 'member gone was removed from the cluster\n'],
        [{ 'X-Etcd-Cluster-Id': 'cluster-1', 'X-Etcd-From': 'a', 'X-Etcd-To': 'c' }, 'HTTP/1.1 404 Not Found', 'this member is b, not c\n'],
        [{ 'X-Etcd-Cluster-Id': 'cluster-1', 'X-Etcd-To': 'b' }, 'HTTP/1.1 400 Bad Request', 'missing X-Etcd-From\n'],
      ];
      for (const [headers, statusLine, body] of cases) {
        const answer = await rawHandshake(port, headers);
        answer.socket.destroy();
        assert.deepStrictEqual([answer.statusLine, answer.body], [statusLine, body]);
      }
      assert.equal(b.events.peersSeen.length, 1);
    } finally {
      await b.close();
    }
  });

  test('a member of another cluster is refused: nothing delivered, the dialer sees the peer unreachable', async () => {
    const [a, b] = await pair({ clusterId: 'cluster-1' }, { clusterId: 'cluster-2' });
    try {
      a.transport.send([msg('MsgHeartbeat', 'a', 'b', 1)]);
      await waitFor('unreachable', () => a.events.unreachable.length === 1);
      await sleep(100);
      assert.deepStrictEqual(b.events.received, []);
      assert.deepStrictEqual(b.events.peersSeen, []);
      assert.equal(a.events.removedFromCluster, 0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a removed member is told so by the 410 answer', async () => {
    const [a, b] = await pair({}, { removed: ['a'] });
    try {
      a.transport.send([msg('MsgHeartbeat', 'a', 'b', 1)]);
      await waitFor('onRemovedFromCluster', () => a.events.removedFromCluster === 1);
      // Redials (after back-off) are refused again, but the member is told only once.
      await sleep(150);
      a.transport.send([msg('MsgHeartbeat', 'a', 'b', 2)]);
      await sleep(150);
      assert.equal(a.events.removedFromCluster, 1);
      assert.deepStrictEqual(b.events.received, []);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a 20 MB snapshot goes on its own connection: heartbeats overtake it, then finish', async () => {
    const data = new Uint8Array(20 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 1000) data[i] = (i / 1000) % 256;
    const snapshot = { data, metadata: { index: 2 ** 33, term: 7, confState: { voters: ['a', 'b'], learners: ['c'] } } };
    const [a, b] = await pair();
    try {
      a.transport.send([msg('MsgSnap', 'a', 'b', 0, { snapshot }), msg('MsgHeartbeat', 'a', 'b', 1)]);
      let beat = 2;
      const timer = setInterval(() => a.transport.send([msg('MsgHeartbeat', 'a', 'b', beat++)]), 2);
      try {
        await waitFor('snapshot finish', () => a.events.snapshotStatus.length > 0, 15000);
      } finally {
        clearInterval(timer);
      }
      assert.deepStrictEqual(a.events.snapshotStatus, ['b:finish']);
      const types = b.events.received.map((m) => m.type);
      const snapAt = types.indexOf('MsgSnap');
      assert.ok(snapAt > 0 && types[0] === 'MsgHeartbeat', `the heartbeat sent after the snapshot must arrive first: ${types.slice(0, 5).join(',')}`);
      const received = b.events.received[snapAt] as Message;
      assert.deepStrictEqual(received.snapshot?.metadata, snapshot.metadata);
      assert.ok(Buffer.from(received.snapshot?.data ?? EMPTY).equals(Buffer.from(data)), 'snapshot data differs');
      // Heartbeats kept flowing, in order, around the snapshot.
      const beats = b.events.received.filter((m) => m.type === 'MsgHeartbeat').map((m) => m.index);
      assert.deepStrictEqual(beats, Array.from({ length: beats.length }, (_, i) => i + 1));
      assert.deepStrictEqual(a.events.unreachable, []);
      // The snapshot connection is closed on both ends once done: only a's message stream stays.
      await waitFor('one connection left at b', () => connectionCount(b.server) === 1, 2000);
    } finally {
      await a.close();
      await b.close();
    }
  });

  /** A peer port that accepts the raft upgrade and then misbehaves as `behave` says. */
  async function fakePeer(behave: (socket: net.Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
    const port = await freePort();
    const server = http.createServer();
    const sockets = new Set<net.Socket>();
    server.on('upgrade', (_req, socket: net.Socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: etcd-raft/1\r\nConnection: Upgrade\r\n\r\n');
      behave(socket);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => {
        // Upgraded sockets are no longer the HTTP server's to close.
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  const bigSnap = (to: NodeId): Message =>
    msg('MsgSnap', 'a', to, 0, { snapshot: { data: new Uint8Array(8 * 1024 * 1024), metadata: { index: 9, term: 1, confState: { voters: ['a'], learners: [] } } } });

  test('snapshot failure: the receiver dies mid-transfer, never acks, or is not there', async () => {
    let seen = 0;
    const dying = await fakePeer((socket) =>
      socket.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > 1024 * 1024) socket.destroy();
      }),
    );
    const silent = await fakePeer((socket) => socket.resume());
    const a = await startNode('a', { config: { snapshotTimeoutMs: 300 } });
    try {
      a.transport.setPeer('dying', [dying.url]);
      a.transport.setPeer('silent', [silent.url]);
      a.transport.setPeer('absent', [`http://127.0.0.1:${await freePort()}`]);
      const started = Date.now();
      a.transport.send([bigSnap('dying'), bigSnap('silent'), bigSnap('absent'), bigSnap('unknown')]);
      await waitFor('four statuses', () => a.events.snapshotStatus.length === 4);
      assert.deepStrictEqual([...a.events.snapshotStatus].sort(), ['absent:failure', 'dying:failure', 'silent:failure', 'unknown:failure']);
      assert.equal(a.events.snapshotStatus[3], 'silent:failure', 'the silent peer fails last, by the timeout');
      assert.ok(Date.now() - started >= 290);
      assert.ok(seen > 1024 * 1024);
    } finally {
      await a.close();
      await dying.close();
      await silent.close();
    }
  });

  test('all messages sent in one turn leave in one write', async () => {
    const chunks: number[] = [];
    const peer = await fakePeer((socket) => socket.on('data', (chunk: Buffer) => chunks.push(chunk.length)));
    const a = await startNode('a');
    try {
      a.transport.setPeer('b', [peer.url]);
      a.transport.send([msg('MsgHeartbeat', 'a', 'b', 0)]);
      await waitFor('the first message', () => chunks.length === 1);
      const one = chunks[0] as number;
      for (let i = 1; i <= 40; i++) a.transport.send([msg('MsgHeartbeat', 'a', 'b', i)]);
      await waitFor('the batch', () => chunks.reduce((x, y) => x + y, 0) === 41 * one);
      assert.deepStrictEqual(chunks, [one, 40 * one]);
    } finally {
      await a.close();
      await peer.close();
    }
  });

  test('https peer URLs: the handshake and messages go over TLS with the configured certificates', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'transport-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    if (made.status !== 0) return t.skip('openssl could not make a certificate');
    const port = await freePort();
    const seenClientCert: boolean[] = [];
    const b = createPeerTransport(
      { selfId: 'b', clusterId: 'c', selfPeerUrls: [`https://127.0.0.1:${port}`], tls: null, dialTimeoutMs: 1000, minBackoffMs: 20, maxBackoffMs: 200, maxQueuedMessages: 100 },
      { onMessage: (m) => received.push(m), onUnreachable: () => undefined, onSnapshotStatus: () => undefined, onPeerSeen: () => undefined, isRemoved: () => false, onRemovedFromCluster: () => undefined },
    );
    const received: Message[] = [];
    const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(cert), requestCert: true, rejectUnauthorized: true });
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      seenClientCert.push((socket as tls.TLSSocket).authorized);
      b.handleUpgrade(req, socket, head);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const aUnreachable: string[] = [];
    const a = createPeerTransport(
      { selfId: 'a', clusterId: 'c', selfPeerUrls: [], tls: { certFile: cert, keyFile: key, caFile: cert }, dialTimeoutMs: 1000, minBackoffMs: 20, maxBackoffMs: 200, maxQueuedMessages: 100 },
      { onMessage: () => undefined, onUnreachable: (p) => aUnreachable.push(p), onSnapshotStatus: () => undefined, onPeerSeen: () => undefined, isRemoved: () => false, onRemovedFromCluster: () => undefined },
    );
    try {
      a.setPeer('b', [`https://127.0.0.1:${port}`]);
      a.send([msg('MsgHeartbeat', 'a', 'b', 7)]);
      await waitFor('delivery over TLS', () => received.length === 1);
      assert.deepStrictEqual([received.map((m) => m.index), seenClientCert, aUnreachable], [[7], [true], []]);
    } finally {
      await a.stop();
      await b.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('a peer that stops reading is dropped after the stall timeout and redialed', async () => {
    const connections: net.Socket[] = [];
    const stuck = await fakePeer((socket) => {
      connections.push(socket);
      socket.pause();
    });
    const a = await startNode('a', { config: { stallTimeoutMs: 300 } });
    try {
      a.transport.setPeer('b', [stuck.url]);
      const big = msg('MsgApp', 'a', 'b', 1, { entries: [{ term: 1, index: 2, type: 'normal', data: new Uint8Array(1 << 20) }] });
      for (let i = 0; i < 40; i++) a.transport.send([big]);
      await waitFor('unreachable after the stall', () => a.events.unreachable.length === 1, 5000);
      a.transport.send([msg('MsgHeartbeat', 'a', 'b', 1)]);
      await waitFor('a second connection', () => connections.length === 2);
      assert.ok(a.transport.followerStats('b').counts.fail >= 1);
    } finally {
      await a.close();
      await stuck.close();
    }
  });

  test('the queue is bounded: overflow is dropped, counted and reported once per 100 ms', async () => {
    // This peer accepts TCP but never answers the handshake: messages wait in the queue.
    const port = await freePort();
    const held: net.Socket[] = [];
    const mute = net.createServer((s) => held.push(s));
    await new Promise<void>((resolve) => mute.listen(port, '127.0.0.1', resolve));
    const a = await startNode('a', { config: { maxQueuedMessages: 50, dialTimeoutMs: 10_000 } });
    try {
      a.transport.setPeer('b', [`http://127.0.0.1:${port}`]);
      for (let i = 0; i < 60; i++) a.transport.send([msg('MsgHeartbeat', 'a', 'b', i)]);
      await sleep(20);
      assert.deepStrictEqual(a.events.unreachable, ['b']);
      assert.equal(a.transport.followerStats('b').counts.fail, 10);
      await sleep(110);
      a.transport.send([msg('MsgHeartbeat', 'a', 'b', 99)]);
      await sleep(20);
      assert.deepStrictEqual(a.events.unreachable, ['b', 'b']);
      assert.equal(a.transport.followerStats('b').counts.fail, 11);
    } finally {
      await a.close();
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    }
  });

  test('garbage on an upgraded connection closes that connection; the member carries on', async () => {
    const [a, b] = await pair();
    const port = Number(new URL(b.url).port);
    try {
      const cases = [
        Buffer.from('GET / HTTP/1.1\r\n\r\n'),
        Buffer.from([0, 0, 0, 5, 1, 250, 0, 0, 0]),
        Buffer.from([0, 0, 0, 0]),
        Buffer.alloc(64, 0xff),
      ];
      for (const garbage of cases) {
        const { socket, statusLine } = await rawHandshake(port, { 'X-Etcd-Cluster-Id': 'cluster-1', 'X-Etcd-From': 'x', 'X-Etcd-To': 'b' });
        assert.equal(statusLine, 'HTTP/1.1 101 Switching Protocols');
        const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
        socket.on('error', () => undefined);
        socket.resume();
        socket.write(garbage);
        await closed;
      }
      // A well-formed message claiming to be from someone else than the handshake said: closed too.
      const { socket } = await rawHandshake(port, { 'X-Etcd-Cluster-Id': 'cluster-1', 'X-Etcd-From': 'x', 'X-Etcd-To': 'b' });
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.resume();
      const { encodeFrames } = await import('./codec.js');
      socket.write(encodeFrames([msg('MsgHeartbeat', 'a', 'b', 1)]));
      await closed;
      assert.equal(b.events.received.length, 0);

      a.transport.send([msg('MsgHeartbeat', 'a', 'b', 42)]);
      await waitFor('delivery after garbage', () => b.events.received.length === 1);
      assert.deepStrictEqual(b.events.received.map((m) => [m.from, m.index]), [['a', 42]]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('after stop() nothing is left running: the process exits on its own', async () => {
    const file = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, [...process.execArgv.filter((arg) => !arg.startsWith("--test")), file], {
      env: { ...process.env, TRANSPORT_EXIT_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    assert.deepStrictEqual({ code, signal, stopped: out.includes('child: stopped') }, { code: 0, signal: null, stopped: true }, out);
  });
}
