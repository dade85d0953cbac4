/**
 * The member's discovery client and protocol steps (spec §11.1) against an in-process registry
 * with canned answers: the exact requests (register with a week's TTL, the `_state` claim,
 * the recursive listing, `_config/size`), what the listing yields (own name, `_`-keys and dirs
 * skipped, values stripped to host:port), 307s followed, 5xx and unreachable retried then a
 * DiscoveryError with the cause, bad JSON, and the refresh that never throws.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DiscoveryClient, DiscoveryError, hostPortOf } from '../../src/discovery/client.js';
import { discoverCluster, NO_REGISTERED_PEERS, RegistrationRefresher } from '../../src/discovery/registration.js';
import { freePort } from '../support/ports.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: string;
  readonly contentType: string;
}

type Answer = { status: number; body?: string; headers?: Record<string, string> };

/** A registry that answers from `answer(request)` and records every request. */
class FakeRegistry {
  readonly seen: Seen[] = [];
  answer: (request: Seen) => Answer = () => ({ status: 500 });
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', body, contentType: req.headers['content-type'] ?? '' };
      this.seen.push(request);
      const answer = this.answer(request);
      res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers }).end(answer.body ?? '');
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const logs: string[] = [];
function client(url: string, attempts = 3): DiscoveryClient {
  return new DiscoveryClient(url, { requestTimeoutMs: 1000, attempts, retryPauseMs: 10, log: (line) => logs.push(line) });
}

const created = (key: string, value: string): Answer => ({
  status: 201,
  body: JSON.stringify({ action: 'set', node: { key, value, ttl: 604800, modifiedIndex: 5, createdIndex: 5 } }),
});
const exists = (key: string): Answer => ({ status: 412, body: JSON.stringify({ errorCode: 105, message: 'Key already exists', cause: key, index: 6 }) });
const notFound = (key: string): Answer => ({ status: 404, body: JSON.stringify({ errorCode: 100, message: 'Key not found', cause: key, index: 6 }) });

const LISTING = JSON.stringify({
  action: 'get',
  node: {
    key: '/_etcd/registry/tok',
    dir: true,
    nodes: [
      { key: '/_etcd/registry/tok/m1', value: 'http://10.0.0.1:7001', ttl: 604000, modifiedIndex: 3, createdIndex: 3 },
      { key: '/_etcd/registry/tok/me', value: 'http://10.0.0.9:7001', ttl: 604000, modifiedIndex: 4, createdIndex: 4 },
      { key: '/_etcd/registry/tok/_config', dir: true, modifiedIndex: 2, createdIndex: 2 },
      { key: '/_etcd/registry/tok/m2', value: '10.0.0.2:7002', ttl: 604000, modifiedIndex: 5, createdIndex: 5 },
      { key: '/_etcd/registry/tok/m3', value: 'not a url at all', ttl: 604000, modifiedIndex: 6, createdIndex: 6 },
    ],
    modifiedIndex: 2,
    createdIndex: 2,
  },
});

describe('discovery client', () => {
  const registry = new FakeRegistry();
  before(() => registry.start());
  after(() => registry.close());

  test('a founder: register (a week), claim _state with prevExist=false, read _config/size', async () => {
    registry.seen.length = 0;
    registry.answer = (r) => {
      if (r.url === '/tok/me') return created('/_etcd/registry/tok/me', 'http://10.0.0.9:7001');
      if (r.url === '/tok/_state?prevExist=false') return created('/_etcd/registry/tok/_state', 'started');
      if (r.url === '/tok/_config/size') return { status: 200, body: '{"action":"get","node":{"key":"/_etcd/registry/tok/_config/size","value":"5"}}' };
      return { status: 500 };
    };
    const outcome = await discoverCluster(client(`${registry.url}/tok/`), { name: 'me', peerUrl: 'http://10.0.0.9:7001' }, () => undefined);
    assert.deepEqual(outcome, { kind: 'found', size: 5 });
    assert.deepEqual(registry.seen, [
      { method: 'PUT', url: '/tok/me', body: 'value=http%3A%2F%2F10.0.0.9%3A7001&ttl=604800', contentType: 'application/x-www-form-urlencoded' },
      { method: 'PUT', url: '/tok/_state?prevExist=false', body: 'value=started', contentType: 'application/x-www-form-urlencoded' },
      { method: 'GET', url: '/tok/_config/size', body: '', contentType: '' },
    ]);
  });

  test('a founder of a token without _config/size (404) gets size null', async () => {
    registry.answer = (r) => {
      if (r.url === '/v2/keys/_etcd/registry/tok/_config/size') return notFound('/_etcd/registry/tok/_config');
      return r.method === 'PUT' ? created('/x', 'y') : { status: 500 };
    };
    const outcome = await discoverCluster(client(`${registry.url}/v2/keys/_etcd/registry/tok`), { name: 'me', peerUrl: 'http://10.0.0.9:7001' }, () => undefined);
    assert.deepEqual(outcome, { kind: 'found', size: null });
  });

  test('a joiner: 412/105 on _state, then the recursive listing without itself, _-keys, dirs and unusable values', async () => {
    registry.seen.length = 0;
    registry.answer = (r) => {
      if (r.url === '/tok/me') return created('/_etcd/registry/tok/me', 'http://10.0.0.9:7001');
      if (r.url === '/tok/_state?prevExist=false') return exists('/_etcd/registry/tok/_state');
      if (r.url === '/tok?recursive=true') return { status: 200, body: LISTING };
      return { status: 500 };
    };
    const outcome = await discoverCluster(client(`${registry.url}/tok`), { name: 'me', peerUrl: 'http://10.0.0.9:7001' }, () => undefined);
    assert.deepEqual(outcome, { kind: 'join', peers: [{ name: 'm1', address: '10.0.0.1:7001' }, { name: 'm2', address: '10.0.0.2:7002' }] });
    assert.deepEqual(registry.seen.map((r) => `${r.method} ${r.url}`), ['PUT /tok/me', 'PUT /tok/_state?prevExist=false', 'GET /tok?recursive=true']);
  });

  test('a founded token where nobody else is registered: 0.4.6 words', async () => {
    registry.answer = (r) => {
      if (r.url === '/tok/_state?prevExist=false') return exists('/_etcd/registry/tok/_state');
      if (r.url === '/tok?recursive=true') return { status: 200, body: '{"action":"get","node":{"key":"/_etcd/registry/tok","dir":true,"nodes":[{"key":"/_etcd/registry/tok/me","value":"http://10.0.0.9:7001"}]}}' };
      return created('/_etcd/registry/tok/me', 'http://10.0.0.9:7001');
    };
    await assert.rejects(discoverCluster(client(`${registry.url}/tok`), { name: 'me', peerUrl: 'http://10.0.0.9:7001' }, () => undefined), (error: unknown) => {
      assert.ok(error instanceof DiscoveryError);
      assert.equal(error.message, NO_REGISTERED_PEERS);
      assert.equal(error.message, 'Discovery found an initialized cluster but no reachable peers are registered.');
      return true;
    });
  });

  test('a 307 (a plain etcd follower) is followed with the same method and body', async () => {
    registry.seen.length = 0;
    registry.answer = (r) => (r.url.startsWith('/follower/') ? { status: 307, headers: { Location: `${registry.url}${r.url.replace('/follower/', '/leader/')}` } } : created('/k', 'v'));
    await client(`${registry.url}/follower/tok`).register('me', 'http://10.0.0.9:7001');
    assert.deepEqual(registry.seen.map((r) => `${r.method} ${r.url} ${r.body}`), [
      'PUT /follower/tok/me value=http%3A%2F%2F10.0.0.9%3A7001&ttl=604800',
      'PUT /leader/tok/me value=http%3A%2F%2F10.0.0.9%3A7001&ttl=604800',
    ]);
  });

  test('5xx is retried; a third 5xx is the error, with status and body', async () => {
    registry.seen.length = 0;
    let calls = 0;
    registry.answer = () => (++calls < 3 ? { status: 503, body: 'busy' } : created('/k', 'v'));
    await client(`${registry.url}/tok`).register('me', 'http://h:1');
    assert.equal(registry.seen.length, 3);
    registry.answer = () => ({ status: 502, body: 'bad gateway' });
    await assert.rejects(client(`${registry.url}/tok`).register('me', 'http://h:1'), new DiscoveryError(`PUT ${registry.url}/tok/me answered 502: bad gateway`));
  });

  test('an answer that is not JSON, or an unexpected status, is a DiscoveryError at once (no retry)', async () => {
    registry.seen.length = 0;
    registry.answer = () => ({ status: 412, body: '<html>nope</html>' });
    await assert.rejects(client(`${registry.url}/tok`).claimFounding(), new DiscoveryError(`PUT ${registry.url}/tok/_state?prevExist=false answered 412 with a body that is not JSON: <html>nope</html>`));
    assert.equal(registry.seen.length, 1);
    registry.answer = () => ({ status: 403, body: '{"errorCode":110,"message":"The request requires user authentication"}' });
    await assert.rejects(client(`${registry.url}/tok`).claimFounding(), new DiscoveryError(`PUT ${registry.url}/tok/_state?prevExist=false answered 403: {"errorCode":110,"message":"The request requires user authentication"}`));
    registry.answer = () => ({ status: 200, body: '[1,2]' });
    await assert.rejects(client(`${registry.url}/tok`).registeredPeers('me'), new DiscoveryError(`GET ${registry.url}/tok?recursive=true answered 200 with JSON that is not a v2 keys answer: [1,2]`));
  });

  test('a URL nobody listens on fails after its attempts with the cause, in well under a second', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(client(`http://127.0.0.1:${port}/tok`).register('me', 'http://h:1'), new DiscoveryError(`cannot reach http://127.0.0.1:${port}/tok/me: ECONNREFUSED`));
    assert.ok(Date.now() - started < 1000);
    assert.ok(logs.includes(`discovery: cannot reach http://127.0.0.1:${port}/tok/me: ECONNREFUSED; retrying (2 of 3)`), logs.join('\n'));
  });

  test('hostPortOf keeps host:port of a peer URL', () => {
    assert.equal(hostPortOf('http://10.0.0.1:7001'), '10.0.0.1:7001');
    assert.equal(hostPortOf('https://[::1]:7001/'), '[::1]:7001');
    assert.equal(hostPortOf('10.0.0.1:7001'), '10.0.0.1:7001');
    assert.equal(hostPortOf(''), null);
    assert.equal(hostPortOf('not a url at all'), null);
  });

  test('the refresher re-registers every interval, logs a failure without throwing, and stops', async () => {
    registry.seen.length = 0;
    let fail = true;
    registry.answer = () => (fail ? { status: 400, body: '{"errorCode":209}' } : created('/k', 'v'));
    const lines: string[] = [];
    const refresher = new RegistrationRefresher(client(`${registry.url}/tok`, 1), { name: 'me', peerUrl: 'http://10.0.0.9:7001' }, { intervalMs: 40, log: (line) => lines.push(line) });
    refresher.start(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    fail = false;
    await new Promise((resolve) => setTimeout(resolve, 150));
    refresher.stop();
    const count = registry.seen.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(registry.seen.length, count, 'no refresh after stop()');
    assert.ok(count >= 3, `only ${count} registrations`);
    assert.ok(registry.seen.every((r) => r.method === 'PUT' && r.url === '/tok/me' && r.body === 'value=http%3A%2F%2F10.0.0.9%3A7001&ttl=604800'));
    assert.equal(lines[0], `discovery: cannot refresh me at ${registry.url}/tok: PUT ${registry.url}/tok/me answered 400: {"errorCode":209}`);
    assert.ok(lines.includes(`discovery: refreshed me = http://10.0.0.9:7001 at ${registry.url}/tok`), lines.join('\n'));
  });
});
