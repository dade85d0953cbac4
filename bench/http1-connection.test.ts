/** The load client's HTTP/1.1 connection against raw loopback servers with known bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { consumeChunks, Http1Connection, parseResponseHead } from './http1-connection.js';

test('response heads: status, Location, framing, close', () => {
  assert.deepEqual(parseResponseHead('HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:5/v2/keys/a\r\nContent-Length: 0'), {
    status: 307,
    location: 'http://127.0.0.1:5/v2/keys/a',
    framing: { kind: 'length', remaining: 0 },
    closeAfter: false,
  });
  assert.deepEqual(parseResponseHead('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nConnection: close'), {
    status: 200,
    location: undefined,
    framing: { kind: 'chunked' },
    closeAfter: true,
  });
  assert.deepEqual(parseResponseHead('HTTP/1.0 201 Created\r\nX-Etcd-Index: 5'), {
    status: 201,
    location: undefined,
    framing: { kind: 'close' },
    closeAfter: true,
  });
  assert.deepEqual(parseResponseHead('HTTP/1.1 204 No Content'), { status: 204, location: undefined, framing: { kind: 'length', remaining: 0 }, closeAfter: false });
  assert.throws(() => parseResponseHead('SPDY/3 200'), /bad status line/);
});

test('chunked bodies are consumed only when whole', () => {
  const body = Buffer.from('5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\n\r\nNEXT');
  assert.deepEqual(consumeChunks(body), { used: body.length - 4, done: true });
  assert.deepEqual(consumeChunks(body.subarray(0, 9)), { used: 0, done: false });
  assert.deepEqual(consumeChunks(body.subarray(0, 12)), { used: 10, done: false });
  assert.deepEqual(consumeChunks(body.subarray(0, body.length - 6)), { used: 24, done: false });
  const trailers = Buffer.from('0\r\nX-T: 1\r\n\r\n');
  assert.deepEqual(consumeChunks(trailers), { used: trailers.length, done: true });
});

/** A server that answers the n-th request on a connection with answers[n], written one byte at a time. */
async function scriptedServer(answers: readonly string[]): Promise<{ port: number; requests: string[]; connections: () => number; close(): Promise<void> }> {
  const requests: string[] = [];
  let connections = 0;
  let next = 0;
  const server = net.createServer((socket) => {
    connections++;
    let pending = '';
    socket.on('data', async (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /content-length: (\d+)/i.exec(pending.slice(0, end));
      const total = end + 4 + Number(length?.[1] ?? 0);
      if (pending.length < total) return;
      requests.push(pending.slice(0, total));
      pending = pending.slice(total);
      const answer = answers[next++] ?? 'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n';
      for (const byte of Buffer.from(answer, 'latin1')) {
        socket.write(Buffer.from([byte]));
        await new Promise((r) => setImmediate(r));
      }
      if (/connection: close|^HTTP\/1\.0/i.test(answer)) socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('one connection carries responses framed by length, chunks and close, split byte by byte', { timeout: 20_000 }, async () => {
  const server = await scriptedServer([
    'HTTP/1.1 201 Created\r\nContent-Length: 17\r\n\r\n{"action":"set"}\n',
    'HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:9/x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
    'HTTP/1.0 404 Not Found\r\n\r\n{"errorCode":100}\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  ]);
  const conn = new Http1Connection('127.0.0.1', server.port, 5_000);
  try {
    assert.deepEqual(await conn.request('PUT', '/v2/keys/a', 'value=1'), { status: 201, location: undefined });
    assert.deepEqual(await conn.request('GET', '/v2/keys/a?quorum=true', null), { status: 307, location: 'http://127.0.0.1:9/x' });
    assert.deepEqual(await conn.request('GET', '/v2/keys/b', null), { status: 200, location: undefined });
    assert.deepEqual(await conn.request('GET', '/v2/keys/c', null), { status: 404, location: undefined });
    assert.deepEqual(await conn.request('GET', '/v2/keys/d', null), { status: 200, location: undefined });
    assert.equal(server.connections(), 3, 'a new connection after each close, none before');
    assert.equal(server.requests[0], `PUT /v2/keys/a HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=1`);
    assert.equal(server.requests[1], `GET /v2/keys/a?quorum=true HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
  } finally {
    conn.close();
    await server.close();
  }
});

test('a request fails on a timeout or a connection closed mid-response, and the next one reconnects', { timeout: 20_000 }, async () => {
  const server = await scriptedServer([
    'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  ]);
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const conn = new Http1Connection('127.0.0.1', server.port, 5_000);
  const slow = new Http1Connection('127.0.0.1', (silent.address() as AddressInfo).port, 200);
  try {
    await assert.rejects(conn.request('GET', '/a', null), /closed before the response ended/);
    assert.deepEqual(await conn.request('GET', '/b', null), { status: 200, location: undefined });
    await assert.rejects(slow.request('GET', '/c', null), /timeout after 200 ms/);
  } finally {
    conn.close();
    slow.close();
    silent.close();
    await server.close();
  }
});
