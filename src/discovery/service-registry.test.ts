import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { RegistryUnavailableError, readAnswerBody, sendToRegistry } from './service-registry.js';

/** A backing that accepts connections and never answers (a stuck process, a full disk). */
async function silentBacking(): Promise<{ url: string; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

async function answeringBacking(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => res.end(`answered ${req.method} ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

const request = (target: string) => ({ method: 'GET', target, body: Buffer.alloc(0), contentType: undefined });

test('registry: a backing that never answers is given up on after the answer deadline, and the next one is tried', async () => {
  const silent = await silentBacking();
  const good = await answeringBacking();
  try {
    const started = Date.now();
    await assert.rejects(
      sendToRegistry({ backingUrls: [silent.url], maxRedirects: 10, connectTimeoutMs: 1000, answerTimeoutMs: 300 }, request('/v2/keys/_etcd/registry/t')),
      (error: unknown) => error instanceof RegistryUnavailableError && /no answer within 300 ms/.test(error.message),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 3000, `gave up after ${elapsed} ms`);
    const answer = await sendToRegistry({ backingUrls: [silent.url, good.url], maxRedirects: 10, connectTimeoutMs: 1000, answerTimeoutMs: 300 }, request('/v2/keys/x'));
    assert.equal(await readAnswerBody(answer), 'answered GET /v2/keys/x');
  } finally {
    silent.close();
    good.close();
  }
});

test('registry: a wait=true long-poll has no answer deadline', async () => {
  const silent = await silentBacking();
  try {
    const controller = new AbortController();
    const pending = sendToRegistry(
      { backingUrls: [silent.url], maxRedirects: 10, connectTimeoutMs: 1000, answerTimeoutMs: 200 },
      { ...request('/v2/keys/_etcd/registry/t?wait=true&recursive=true'), signal: controller.signal },
    );
    const outcome = await Promise.race([pending.then(() => 'answered', () => 'failed'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 800))]);
    assert.equal(outcome, 'still waiting');
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
  } finally {
    silent.close();
  }
});
