/**
 * The link proxy on its own: an echo server behind it, a raw TCP client in front. Each mode is
 * checked by the exact bytes that do (or do not) cross, and close() must leave no socket open.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { SeededPrng } from '../../src/common/prng.js';
import { freePorts } from '../support/ports.js';
import { LinkProxy } from './proxy.js';

interface EchoTarget {
  readonly port: number;
  /** Everything received, per accepted connection, in accept order. */
  readonly received: Buffer[][];
  connections(): Promise<number>;
  close(): Promise<void>;
}

async function startEcho(port: number): Promise<EchoTarget> {
  const received: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const chunks: Buffer[] = [];
    received.push(chunks);
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      socket.write(chunk);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    received,
    connections: () => new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n)))),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client socket and everything it received and how it ended. */
interface Client {
  readonly socket: net.Socket;
  readonly received: Buffer[];
  ended: 'open' | 'end' | 'reset' | 'error';
  readonly closed: Promise<void>;
}

function connect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let markClosed: () => void = () => undefined;
    const client: Client = {
      socket,
      received: [],
      ended: 'open',
      closed: new Promise<void>((r) => (markClosed = r)),
    };
    socket.on('data', (chunk: Buffer) => client.received.push(chunk));
    socket.on('end', () => {
      if (client.ended === 'open') client.ended = 'end';
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      client.ended = error.code === 'ECONNRESET' ? 'reset' : 'error';
    });
    socket.on('close', () => markClosed());
    socket.once('connect', () => resolve(client));
    socket.once('error', reject);
  });
}

function bytes(client: Client): string {
  return Buffer.concat(client.received).toString('utf8');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

describe('LinkProxy', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  async function setup(): Promise<{ proxy: LinkProxy; target: EchoTarget }> {
    const [proxyPort, targetPort] = await freePorts(2);
    assert.ok(proxyPort !== undefined && targetPort !== undefined);
    const target = await startEcho(targetPort);
    const proxy = await LinkProxy.start({ name: 'a->b', listenPort: proxyPort, targetPort });
    cleanup.push(async () => {
      await proxy.close();
      assert.equal(proxy.connectionCount(), 0, 'proxy connections left after close()');
      assert.equal(await canBind(proxyPort), true, 'proxy port still bound after close()');
      await target.close();
    });
    return { proxy, target };
  }

  it('pass: bytes cross both ways unchanged', async () => {
    const { proxy, target } = await setup();
    assert.equal(proxy.url, `http://127.0.0.1:${proxy.port}`);
    const client = await connect(proxy.port);
    client.socket.write('hello ');
    client.socket.write(Buffer.from([0, 1, 2, 255]));
    await until('echo', () => Buffer.concat(client.received).length === 10);
    assert.deepEqual(Buffer.concat(client.received), Buffer.concat([Buffer.from('hello '), Buffer.from([0, 1, 2, 255])]));
    assert.deepEqual(Buffer.concat(target.received[0] ?? []), Buffer.concat(client.received));
    assert.equal(proxy.connectionCount(), 1);
    client.socket.destroy();
  });

  it('clean close: an end from either side reaches the other, and nothing stays open', async () => {
    const { proxy, target } = await setup();
    const client = await connect(proxy.port);
    client.socket.write('x');
    await until('echo', () => bytes(client) === 'x');
    client.socket.end();
    await client.closed;
    assert.equal(client.ended, 'end');
    await until('proxy to drop the connection', () => proxy.connectionCount() === 0);
    await sleep(50);
    assert.equal(await target.connections(), 0);
  });

  it('blackhole: connections are held with no RST, bytes dropped both ways; heal ends them and new ones pass', async () => {
    const { proxy, target } = await setup();
    const before = await connect(proxy.port);
    before.socket.write('a');
    await until('echo', () => bytes(before) === 'a');
    proxy.blackhole();
    before.socket.write('dropped');
    const during = await connect(proxy.port); // accepted, never connected upstream
    during.socket.write('also dropped');
    await sleep(300);
    assert.equal(bytes(before), 'a');
    assert.equal(bytes(during), '');
    assert.equal(Buffer.concat(target.received[0] ?? []).toString(), 'a');
    assert.equal(target.received.length, 1, 'a connection made during the blackhole reached the target');
    assert.equal(before.ended, 'open');
    assert.equal(during.ended, 'open');
    assert.equal(proxy.connectionCount(), 2);

    proxy.heal();
    await Promise.all([before.closed, during.closed]);
    assert.equal(before.ended, 'reset');
    assert.equal(during.ended, 'reset');
    const after = await connect(proxy.port);
    after.socket.write('back');
    await until('echo after heal', () => bytes(after) === 'back');
    assert.equal(Buffer.concat(target.received[1] ?? []).toString(), 'back');
    after.socket.destroy();
  });

  it('blackhole does not pass a close on: the target does not learn the dialer left', async () => {
    const { proxy, target } = await setup();
    const client = await connect(proxy.port);
    client.socket.write('a');
    await until('echo', () => bytes(client) === 'a');
    proxy.blackhole();
    client.socket.end();
    await client.closed;
    await sleep(200);
    assert.equal(await target.connections(), 1);
    proxy.heal();
    await until('target connection closed after heal', () => proxy.connectionCount() === 0);
    await sleep(50);
    assert.equal(await target.connections(), 0);
  });

  it('reset: open and new connections get an RST', async () => {
    const { proxy, target } = await setup();
    const open = await connect(proxy.port);
    open.socket.write('a');
    await until('echo', () => bytes(open) === 'a');
    proxy.reset();
    await open.closed;
    assert.equal(open.ended, 'reset');
    const fresh = await connect(proxy.port).catch((error: NodeJS.ErrnoException) => error);
    if (!(fresh instanceof Error)) {
      await fresh.closed;
      assert.equal(fresh.ended, 'reset');
    } else {
      assert.equal(fresh.code, 'ECONNRESET');
    }
    assert.equal(proxy.connectionCount(), 0);
    await sleep(50);
    assert.equal(await target.connections(), 0);
    proxy.heal();
    const after = await connect(proxy.port);
    after.socket.write('ok');
    await until('echo after heal', () => bytes(after) === 'ok');
    after.socket.destroy();
  });

  it('delay: each direction waits at least ms (no jitter)', async () => {
    const { proxy } = await setup();
    const client = await connect(proxy.port);
    proxy.delay(150, 0, new SeededPrng(1));
    const t0 = performance.now();
    client.socket.write('slow');
    await until('echo', () => bytes(client) === 'slow');
    const roundTrip = performance.now() - t0;
    assert.ok(roundTrip >= 295, `round trip ${roundTrip} ms < 2 × 150 ms`);
    assert.ok(roundTrip < 1500, `round trip ${roundTrip} ms`);
    proxy.heal();
    const t1 = performance.now();
    client.socket.write('fast');
    await until('echo', () => bytes(client) === 'slowfast');
    assert.ok(performance.now() - t1 < 150, 'heal() still delays');
    client.socket.destroy();
  });

  it('delay with jitter keeps the order of a stream (seeded)', async () => {
    const seed = Number(process.env.PROXY_SEED ?? 424242);
    console.log(`proxy jitter seed ${seed} (PROXY_SEED to replay)`);
    const { proxy, target } = await setup();
    const client = await connect(proxy.port);
    proxy.delay(30, 30, new SeededPrng(seed));
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      const piece = `<${i}>`;
      expected.push(piece);
      client.socket.write(piece);
      if (i % 10 === 0) await sleep(1); // separate chunks, so they get separate delays
    }
    const want = expected.join('');
    await until('all echoed', () => bytes(client).length === want.length, 5000);
    assert.equal(Buffer.concat(target.received[0] ?? []).toString(), want);
    assert.equal(bytes(client), want);
    client.socket.destroy();
  });

  it('pause: nothing crosses while paused; everything arrives in order on heal', async () => {
    const { proxy, target } = await setup();
    const client = await connect(proxy.port);
    client.socket.write('1');
    await until('echo', () => bytes(client) === '1');
    proxy.pause();
    client.socket.write('2');
    client.socket.write('3');
    await sleep(300);
    assert.equal(Buffer.concat(target.received[0] ?? []).toString(), '1');
    assert.equal(bytes(client), '1');
    assert.equal(client.ended, 'open');
    proxy.heal();
    await until('echo after heal', () => bytes(client) === '123');
    assert.equal(Buffer.concat(target.received[0] ?? []).toString(), '123');
    client.socket.destroy();
  });

  it('a dead target: the dialer gets an RST, as if the target refused', async () => {
    const [proxyPort, deadPort] = await freePorts(2);
    assert.ok(proxyPort !== undefined && deadPort !== undefined);
    const proxy = await LinkProxy.start({ name: 'a->dead', listenPort: proxyPort, targetPort: deadPort });
    cleanup.push(() => proxy.close());
    const client = await connect(proxy.port);
    await client.closed;
    assert.equal(client.ended, 'reset');
    assert.equal(proxy.connectionCount(), 0);
  });

  it('close(): every connection ends and the port is free', async () => {
    const { proxy, target } = await setup();
    const clients = await Promise.all([connect(proxy.port), connect(proxy.port), connect(proxy.port)]);
    for (const c of clients) c.socket.write('z');
    await until('echoes', () => clients.every((c) => bytes(c) === 'z'));
    assert.equal(proxy.connectionCount(), 3);
    await proxy.close();
    await Promise.all(clients.map((c) => c.closed));
    assert.equal(proxy.connectionCount(), 0);
    await sleep(50);
    assert.equal(await target.connections(), 0);
  });
});
