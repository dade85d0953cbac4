/**
 * bin/etcd-discovery as a real process (spec §11.2): tokens from /new, the tutorial's registry
 * JSON, the 0.4.6 member protocol's requests through the proxy (registration with a week's TTL,
 * the `_state` claim, the recursive listing without hidden keys), `_config/size`, bad tokens,
 * /health, durability of the embedded registry across a restart, and the `-etcd` backings: our
 * bin/etcd, a follower of a 3-member cluster (307 followed) and the real etcd 3.4.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCluster } from '../support/cluster.js';
import { discoveryBinPath, startDiscoveryService, type DiscoveryService } from '../support/discovery-service.js';
import { startEtcd } from '../support/etcd-process.js';
import { freePort } from '../support/ports.js';
import { startRealEtcd } from '../support/real-etcd.js';

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
}

async function call(url: string, method = 'GET', form?: string): Promise<Reply> {
  const res = await fetch(url, {
    method,
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
    ...(form !== undefined ? { body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

const TOKEN_URL = /^(.*)\/([0-9a-f]{32})$/;

/** GET|PUT /new → the token URL; asserts its exact shape under `baseUrl`. */
async function newToken(service: DiscoveryService, baseUrl = service.url, query = '', method = 'GET'): Promise<string> {
  const reply = await call(`${service.url}/new${query}`, method);
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.headers.get('content-type'), 'text/plain; charset=utf-8');
  const match = TOKEN_URL.exec(reply.body);
  assert.ok(match !== null, `not a token URL: ${JSON.stringify(reply.body)}`);
  assert.equal(match[1], baseUrl);
  return match[2] ?? '';
}

/** The tutorial's first JSON: the fresh token's empty registry directory. */
async function assertEmptyRegistry(url: string, token: string): Promise<number> {
  const reply = await call(url);
  assert.equal(reply.status, 200, reply.body);
  const index = (JSON.parse(reply.body) as { node: { createdIndex: number } }).node.createdIndex;
  assert.equal(
    reply.body,
    `{"action":"get","node":{"key":"/_etcd/registry/${token}","dir":true,"modifiedIndex":${index},"createdIndex":${index}}}\n`,
  );
  assert.equal(reply.headers.get('content-type'), 'application/json');
  assert.match(reply.headers.get('x-etcd-index') ?? '', /^[0-9]+$/);
  return index;
}

const WEEK_SEC = 604_800;

/** A registration as 0.4.6 members make it: 201 and the node with its ttl and expiration. */
async function register(serviceUrl: string, token: string, machine: string, peerUrl: string): Promise<{ index: number; expiration: string }> {
  const before = Date.now();
  const reply = await call(`${serviceUrl}/${token}/${machine}`, 'PUT', `value=${encodeURIComponent(peerUrl)}&ttl=${WEEK_SEC}`);
  assert.equal(reply.status, 201, reply.body);
  const node = (JSON.parse(reply.body) as { node: { expiration: string; modifiedIndex: number } }).node;
  const expiresMs = Date.parse(node.expiration);
  assert.ok(expiresMs >= before + WEEK_SEC * 1000 - 1000 && expiresMs <= Date.now() + WEEK_SEC * 1000 + 1000, node.expiration);
  assert.equal(
    reply.body,
    `{"action":"set","node":{"key":"/_etcd/registry/${token}/${machine}","value":"${peerUrl}","expiration":"${node.expiration}","ttl":${WEEK_SEC},"modifiedIndex":${node.modifiedIndex},"createdIndex":${node.modifiedIndex}}}\n`,
  );
  assert.equal(reply.headers.get('x-etcd-index'), String(node.modifiedIndex));
  return { index: node.modifiedIndex, expiration: node.expiration };
}

/** The `_state` claim of §11.1: 201 for the first, 412/105 for every later one. */
async function assertStateClaim(serviceUrl: string, token: string): Promise<void> {
  const first = await call(`${serviceUrl}/${token}/_state?prevExist=false`, 'PUT', 'value=started');
  assert.equal(first.status, 201, first.body);
  const index = (JSON.parse(first.body) as { node: { modifiedIndex: number } }).node.modifiedIndex;
  assert.equal(first.body, `{"action":"create","node":{"key":"/_etcd/registry/${token}/_state","value":"started","modifiedIndex":${index},"createdIndex":${index}}}\n`);
  const second = await call(`${serviceUrl}/${token}/_state?prevExist=false`, 'PUT', 'value=started');
  assert.equal(second.status, 412, second.body);
  assert.deepEqual(JSON.parse(second.body), { errorCode: 105, message: 'Key already exists', cause: `/_etcd/registry/${token}/_state`, index });
}

describe('etcd-discovery with its embedded registry', () => {
  let service: DiscoveryService;
  before(async () => {
    service = await startDiscoveryService();
  });
  after(async () => {
    await service.remove();
  });

  test('logs one serving line naming the embedded data dir', () => {
    assert.ok(service.output().includes(`etcd-discovery: serving ${service.url} (registry in embedded member, data dir ${service.dataDir})\n`), service.output());
  });

  test('GET and PUT /new give a fresh token whose registry is the tutorial\'s empty directory', async () => {
    const token = await newToken(service);
    const again = await newToken(service, service.url, '', 'PUT');
    assert.notEqual(token, again);
    await assertEmptyRegistry(`${service.url}/${token}`, token);
    await assertEmptyRegistry(`${service.url}/${again}/`, again);
  });

  test('a registration with a week\'s TTL, the listing with it, the _state claim, and no hidden key listed', async () => {
    const token = await newToken(service);
    const dirIndex = await assertEmptyRegistry(`${service.url}/${token}`, token);
    const m1 = await register(service.url, token, 'm1', 'http://10.0.0.1:7001');
    const listing = await call(`${service.url}/${token}`);
    assert.equal(listing.status, 200, listing.body);
    const ttl = (JSON.parse(listing.body) as { node: { nodes: Array<{ ttl: number }> } }).node.nodes[0]?.ttl ?? 0;
    assert.ok(ttl === WEEK_SEC || ttl === WEEK_SEC - 1, `ttl ${ttl}`);
    assert.equal(
      listing.body,
      `{"action":"get","node":{"key":"/_etcd/registry/${token}","dir":true,"nodes":[` +
        `{"key":"/_etcd/registry/${token}/m1","value":"http://10.0.0.1:7001","expiration":"${m1.expiration}","ttl":${ttl},"modifiedIndex":${m1.index},"createdIndex":${m1.index}}` +
        `],"modifiedIndex":${dirIndex},"createdIndex":${dirIndex}}}\n`,
    );
    await assertStateClaim(service.url, token);
    const recursive = await call(`${service.url}/${token}?recursive=true`);
    assert.equal(recursive.status, 200, recursive.body);
    const keys = (JSON.parse(recursive.body) as { node: { nodes: Array<{ key: string }> } }).node.nodes.map((n) => n.key);
    assert.deepEqual(keys, [`/_etcd/registry/${token}/m1`], 'the hidden _state is not listed');
    const state = await call(`${service.url}/${token}/_state`);
    assert.equal(state.status, 200, state.body);
    assert.equal((JSON.parse(state.body) as { node: { value: string } }).node.value, 'started');
  });

  test('a wait=true long-poll through the service is answered by the next registration', async () => {
    const token = await newToken(service);
    const watching = call(`${service.url}/${token}?wait=true&recursive=true`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const m3 = await register(service.url, token, 'm3', 'http://10.0.0.3:7001');
    const event = await watching;
    assert.equal(event.status, 200, event.body);
    assert.deepEqual(JSON.parse(event.body), {
      action: 'set',
      node: { key: `/_etcd/registry/${token}/m3`, value: 'http://10.0.0.3:7001', expiration: m3.expiration, ttl: WEEK_SEC, modifiedIndex: m3.index, createdIndex: m3.index },
    });
  });

  test('DELETE of a machine, and a deleted machine is 404 errorCode 100', async () => {
    const token = await newToken(service);
    const m2 = await register(service.url, token, 'm2', 'http://10.0.0.2:7001');
    const removed = await call(`${service.url}/${token}/m2`, 'DELETE');
    assert.equal(removed.status, 200, removed.body);
    const index = Number(removed.headers.get('x-etcd-index'));
    const prevTtl = (JSON.parse(removed.body) as { prevNode: { ttl: number } }).prevNode.ttl;
    assert.ok(prevTtl === WEEK_SEC || prevTtl === WEEK_SEC - 1, `ttl ${prevTtl}`);
    assert.equal(
      removed.body,
      `{"action":"delete","node":{"key":"/_etcd/registry/${token}/m2","modifiedIndex":${index},"createdIndex":${m2.index}},` +
        `"prevNode":{"key":"/_etcd/registry/${token}/m2","value":"http://10.0.0.2:7001","expiration":"${m2.expiration}","ttl":${prevTtl},"modifiedIndex":${m2.index},"createdIndex":${m2.index}}}\n`,
    );
    const gone = await call(`${service.url}/${token}/m2`);
    assert.equal(gone.status, 404, gone.body);
    assert.equal((JSON.parse(gone.body) as { errorCode: number }).errorCode, 100);
  });

  test('/new?size=5 writes _config/size; a size that is not a positive decimal integer is 400', async () => {
    const token = await newToken(service, service.url, '?size=5');
    const size = await call(`${service.url}/${token}/_config/size`);
    assert.equal(size.status, 200, size.body);
    const index = Number(size.headers.get('x-etcd-index'));
    assert.equal(size.body, `{"action":"get","node":{"key":"/_etcd/registry/${token}/_config/size","value":"5","modifiedIndex":${index},"createdIndex":${index}}}\n`);
    for (const bad of ['abc', '0', '-1', '', '1.5', '05', '+3', '3x']) {
      const reply = await call(`${service.url}/new?size=${encodeURIComponent(bad)}`);
      assert.equal(reply.status, 400, `size=${bad}: ${reply.body}`);
      assert.equal(reply.body, `invalid size "${bad}": size must be a positive decimal integer\n`);
    }
    const huge = await call(`${service.url}/${token}/m1`, 'PUT', `value=${'x'.repeat(70_000)}`);
    assert.equal(huge.status, 413, 'a registration body is tiny');
    assert.equal(huge.body, 'request body larger than 65536 bytes\n');
    const putSize = await call(`${service.url}/${token}/_config/size`, 'PUT', 'value=9');
    assert.equal(putSize.status, 404, '_config/size is read-only through the service');
  });

  test('a token that is not 32 lowercase hex digits is 404; a well-formed unknown one is the registry\'s 100', async () => {
    const hex32 = '0123456789abcdef0123456789abcdef';
    for (const path of ['/abc', `/${hex32.slice(1)}`, `/${hex32}0`, `/${hex32.toUpperCase()}`, '/abc/m1', '/favicon.ico', `/${hex32}/a/b`]) {
      const reply = await call(`${service.url}${path}`);
      assert.equal(reply.status, 404, path);
      assert.equal(reply.body, '404 page not found\n', path);
    }
    const unknown = await call(`${service.url}/${hex32}`);
    assert.equal(unknown.status, 404, unknown.body);
    const index = Number(unknown.headers.get('x-etcd-index'));
    assert.equal(unknown.body, `{"errorCode":100,"message":"Key not found","cause":"/_etcd/registry/${hex32}","index":${index}}\n`);
  });

  test('methods outside the routes are 404; /health is OK; / redirects to the discovery docs', async () => {
    const token = await newToken(service);
    for (const [method, path] of [['DELETE', `/${token}`], ['POST', `/${token}/m1`], ['DELETE', '/new'], ['POST', '/health'], ['POST', '/']]) {
      const reply = await call(`${service.url}${path ?? ''}`, method ?? 'GET');
      assert.equal(reply.status, 404, `${method} ${path}`);
    }
    await assertEmptyRegistry(`${service.url}/${token}`, token);
    const health = await call(`${service.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body, 'OK');
    const root = await call(`${service.url}/`);
    assert.equal(root.status, 301);
    assert.equal(root.headers.get('location'), 'https://github.com/coreos/etcd/blob/v0.4.6/Documentation/cluster-discovery.md');
  });
});

test('-base-url changes what /new answers, and nothing else', async () => {
  const service = await startDiscoveryService({ baseUrl: 'https://discovery.example.com' });
  try {
    const token = await newToken(service, 'https://discovery.example.com');
    await assertEmptyRegistry(`${service.url}/${token}`, token);
    assert.ok(service.output().includes('etcd-discovery: serving https://discovery.example.com (registry in embedded member'), service.output());
  } finally {
    await service.remove();
  }
});

test('durability: SIGTERM exits 0, and a restart on the same data dir still has the token and its entries', async () => {
  const service = await startDiscoveryService();
  try {
    const token = await newToken(service);
    const m1 = await register(service.url, token, 'm1', 'http://10.0.0.1:7001');
    await assertStateClaim(service.url, token);
    const before = await call(`${service.url}/${token}?recursive=true`);
    assert.equal(await service.stop(), 0);
    assert.ok(service.output().includes('etcd-discovery: SIGTERM: shutting down'), service.output());
    await service.restart();
    const afterRestart = await call(`${service.url}/${token}?recursive=true`);
    assert.equal(afterRestart.status, 200, afterRestart.body);
    const strip = (body: string): unknown => JSON.parse(body.replace(/"ttl":[0-9]+,/g, ''));
    assert.deepEqual(strip(afterRestart.body), strip(before.body));
    assert.ok(afterRestart.body.includes(`"value":"http://10.0.0.1:7001","expiration":"${m1.expiration}"`), afterRestart.body);
    const state = await call(`${service.url}/${token}/_state?prevExist=false`, 'PUT', 'value=started');
    assert.equal(state.status, 412, 'the _state claim survived the restart');
    const m2 = await register(service.url, token, 'm2', 'http://10.0.0.2:7001');
    await service.kill9();
    await service.restart();
    const afterKill = await call(`${service.url}/${token}/m2`);
    assert.equal(afterKill.status, 200, 'an acknowledged registration survives kill -9');
    assert.equal((JSON.parse(afterKill.body) as { node: { modifiedIndex: number } }).node.modifiedIndex, m2.index);
  } finally {
    await service.remove();
  }
});

test('a second service on a data dir in use is refused with exit 1', async () => {
  const service = await startDiscoveryService();
  try {
    const port = await freePort();
    const second = spawnSync(process.execPath, [discoveryBinPath(), '-addr', `127.0.0.1:${port}`, '-data-dir', service.dataDir], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(second.status, 1, second.stderr);
    assert.match(second.stderr, /^etcd-discovery: .*/);
  } finally {
    await service.remove();
  }
});

describe('flags', () => {
  const run = (args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [discoveryBinPath(), ...args], { encoding: 'utf8', timeout: 10_000 });

  test('-h and --help print the usage on stdout, exit 0', () => {
    for (const flag of ['-h', '--help', '-help']) {
      const result = run([flag]);
      assert.equal(result.status, 0, flag);
      assert.match(String(result.stdout), /^usage: etcd-discovery \[flags\]\n/);
      assert.equal(result.stderr, '');
    }
  });

  test('an unknown flag, a missing value or a bad address: the problem and the usage on stderr, exit 2', () => {
    const cases: Array<[string[], string]> = [
      [['-bogus'], 'etcd-discovery: flag provided but not defined: -bogus\n'],
      [['-addr'], 'etcd-discovery: flag needs an argument: -addr\n'],
      [['-addr', 'nohost'], 'etcd-discovery: invalid value "nohost" for flag -addr: address must be host:port (missing port)\n'],
      [['--etcd=ftp://x:1'], 'etcd-discovery: invalid value "ftp://x:1" for flag -etcd: URL scheme must be http or https, not "ftp"\n'],
      [['-addr=127.0.0.1:1', 'extra'], 'etcd-discovery: unexpected argument "extra"\n'],
      [['-addr', '127.0.0.1:1', '-base-url', 'discovery.example.com'], 'etcd-discovery: invalid value "discovery.example.com" for flag -base-url: is not a URL\n'],
    ];
    for (const [args, first] of cases) {
      const result = run(args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${String(result.stderr)}`);
      assert.equal(result.stdout, '');
      assert.ok(String(result.stderr).startsWith(`${first}usage: etcd-discovery [flags]\n`), String(result.stderr));
    }
  });

  test('-x=v, --x v and ETCD_DISCOVERY_* all set flags', async () => {
    const service = await startDiscoveryService({ args: ['--base-url', 'http://from-double-dash'], env: { ETCD_DISCOVERY_BASE_URL: 'http://from-env' } });
    try {
      await newToken(service, 'http://from-double-dash');
    } finally {
      await service.remove();
    }
    const fromEnv = await startDiscoveryService({ env: { ETCD_DISCOVERY_BASE_URL: 'http://from-env' } });
    try {
      await newToken(fromEnv, 'http://from-env');
    } finally {
      await fromEnv.remove();
    }
  });
});

describe('-etcd backings', () => {
  test('our bin/etcd: /new and the proxy work, and the registry is that etcd\'s /_etcd/registry', async () => {
    const etcd = await startEtcd();
    const service = await startDiscoveryService({ etcd: [etcd.clientUrl] });
    try {
      assert.ok(service.output().includes(`(registry in ${etcd.clientUrl})\n`), service.output());
      const token = await newToken(service);
      const index = await assertEmptyRegistry(`${service.url}/${token}`, token);
      await assertEmptyRegistry(`${etcd.clientUrl}/v2/keys/_etcd/registry/${token}`, token);
      assert.ok(index > 0);
      await register(service.url, token, 'm1', 'http://10.0.0.1:7001');
      const direct = await call(`${etcd.clientUrl}/v2/keys/_etcd/registry/${token}/m1`);
      assert.equal(direct.status, 200, direct.body);
      assert.equal((JSON.parse(direct.body) as { node: { value: string } }).node.value, 'http://10.0.0.1:7001');
    } finally {
      await service.remove();
      await etcd.remove();
    }
  });

  test('a dead URL first is skipped; with every URL dead the proxy, /new and /health are 503', async () => {
    const etcd = await startEtcd();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const service = await startDiscoveryService({ etcd: [dead, etcd.clientUrl] });
    try {
      const token = await newToken(service);
      await assertStateClaim(service.url, token);
      await etcd.stop();
      const proxied = await call(`${service.url}/${token}`);
      assert.equal(proxied.status, 503, proxied.body);
      assert.match(proxied.body, new RegExp(`^registry unavailable: no backing etcd answered: ${dead}: ECONNREFUSED; ${etcd.clientUrl}: ECONNREFUSED\n$`));
      const fresh = await call(`${service.url}/new`);
      assert.equal(fresh.status, 503, fresh.body);
      assert.match(fresh.body, /^cannot create a token: no backing etcd answered: .*ECONNREFUSED\n$/);
      const health = await call(`${service.url}/health`);
      assert.equal(health.status, 503, health.body);
      assert.match(health.body, /^unhealthy: no backing etcd answered: /);
    } finally {
      await service.remove();
      await etcd.remove();
    }
  });

  test('a follower of a 3-member cluster: its 307 to the leader is followed for /new and a PUT', async () => {
    const cluster = await startCluster({ size: 3, mode: 'static' });
    try {
      const [follower] = await cluster.followers();
      assert.ok(follower !== undefined);
      const direct = await call(`${follower.clientUrl}/v2/keys/_etcd/registry/probe`, 'PUT', 'value=x');
      assert.equal(direct.status, 307, 'the follower redirects writes');
      const service = await startDiscoveryService({ etcd: [follower.clientUrl] });
      try {
        const token = await newToken(service);
        await assertEmptyRegistry(`${service.url}/${token}`, token);
        await register(service.url, token, 'm1', 'http://10.0.0.1:7001');
        await assertStateClaim(service.url, token);
      } finally {
        await service.remove();
      }
    } finally {
      await cluster.remove();
    }
  });

  test('the real etcd 3.4: /new, the empty registry, a registration and the _state claim', async () => {
    const real = await startRealEtcd();
    const service = await startDiscoveryService({ etcd: [real.clientUrl] });
    try {
      const token = await newToken(service);
      await assertEmptyRegistry(`${service.url}/${token}`, token);
      await register(service.url, token, 'm1', 'http://10.0.0.1:7001');
      await assertStateClaim(service.url, token);
      const sized = await newToken(service, service.url, '?size=3');
      const size = await call(`${service.url}/${sized}/_config/size`);
      assert.equal(size.status, 200, size.body);
      assert.equal((JSON.parse(size.body) as { node: { value: string } }).node.value, '3');
    } finally {
      await service.remove();
      await real.stop();
    }
  });
});

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | null;
  readonly body: string;
}

/**
 * A stand-in backing etcd that records what reaches it: creates and deletes of token dirs
 * succeed (unless `failCreates`), `/hopN` redirects N times before answering, `/loop` redirects
 * forever, and anything else is echoed as JSON with index headers and one header not to relay.
 */
async function startRecordingBacking(): Promise<{ url: string; seen: Seen[]; failCreates: { on: boolean }; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const failCreates = { on: false };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry: Seen = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] ?? null, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(entry);
      const hop = /\/hop([0-9]+)$/.exec(entry.url);
      if (hop !== null && Number(hop[1]) > 0) {
        res.writeHead(307, { Location: entry.url.replace(/hop[0-9]+$/, `hop${Number(hop[1]) - 1}`) }).end();
      } else if (entry.url.endsWith('/loop')) {
        res.writeHead(307, { Location: entry.url }).end();
      } else if (entry.body.startsWith('dir=true') || (entry.method === 'PUT' && entry.url.endsWith('/_config/size'))) {
        if (failCreates.on) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"errorCode":300,"message":"Raft Internal Error"}\n');
        else res.writeHead(201, { 'Content-Type': 'application/json' }).end('{}\n');
      } else {
        const body = JSON.stringify(entry) + '\n';
        res.writeHead(entry.method === 'PUT' ? 201 : 200, { 'Content-Type': 'application/json', 'X-Etcd-Index': '42', 'X-Raft-Index': '7', 'X-Raft-Term': '3', 'X-Not-Relayed': 'x', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    failCreates,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('the proxy, seen from the backing etcd', () => {
  test('method, path, query, body and Content-Type arrive verbatim; status, body and the index headers come back', async () => {
    const backing = await startRecordingBacking();
    const service = await startDiscoveryService({ etcd: [backing.url] });
    try {
      const token = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
      const form = 'value=http%3A%2F%2F10.0.0.1%3A7001&ttl=604800';
      const res = await fetch(`${service.url}/${token}/m%201?prevExist=false&x=%2F`, { method: 'PUT', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } });
      const body = await res.text();
      const expected: Seen = { method: 'PUT', url: `/v2/keys/_etcd/registry/${token}/m%201?prevExist=false&x=%2F`, contentType: 'application/x-www-form-urlencoded; charset=utf-8', body: form };
      assert.equal(res.status, 201);
      assert.equal(body, JSON.stringify(expected) + '\n');
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(res.headers.get('x-etcd-index'), '42');
      assert.equal(res.headers.get('x-raft-index'), '7');
      assert.equal(res.headers.get('x-raft-term'), '3');
      assert.equal(res.headers.get('x-not-relayed'), null);
      for (const [method, path, target] of [['GET', `/${token}/`, `/v2/keys/_etcd/registry/${token}/`], ['DELETE', `/${token}/m1`, `/v2/keys/_etcd/registry/${token}/m1`], ['GET', `/${token}?recursive=true`, `/v2/keys/_etcd/registry/${token}?recursive=true`]]) {
        const reply = await call(`${service.url}${path}`, method);
        assert.equal(reply.status, 200, reply.body);
        assert.deepEqual(JSON.parse(reply.body), { method, url: target, contentType: null, body: '' });
      }
      const created = backing.seen.filter((s) => s.body.startsWith('dir=true&prevExist=false'));
      assert.ok(created.length >= 1, 'the health probe created a token dir');
    } finally {
      await service.remove();
      await backing.close();
    }
  });

  test('/new creates the dir with prevExist=false; /new?size=N writes only _config/size', async () => {
    const backing = await startRecordingBacking();
    const service = await startDiscoveryService({ etcd: [backing.url] });
    try {
      backing.seen.length = 0;
      const token = await newToken(service);
      assert.deepEqual(backing.seen, [{ method: 'PUT', url: `/v2/keys/_etcd/registry/${token}`, contentType: 'application/x-www-form-urlencoded', body: 'dir=true&prevExist=false' }]);
      backing.seen.length = 0;
      const sized = await newToken(service, service.url, '?size=7', 'PUT');
      assert.deepEqual(backing.seen, [{ method: 'PUT', url: `/v2/keys/_etcd/registry/${sized}/_config/size`, contentType: 'application/x-www-form-urlencoded', body: 'value=7&prevExist=false' }]);
      backing.failCreates.on = true;
      const refused = await call(`${service.url}/new`);
      assert.equal(refused.status, 502, refused.body);
      assert.match(refused.body, new RegExp(`^cannot create a token: PUT ${backing.url}/v2/keys/_etcd/registry/[0-9a-f]{32} answered 500 \\{"errorCode":300,"message":"Raft Internal Error"\\}\n$`));
      const health = await call(`${service.url}/health`);
      assert.equal(health.status, 503, health.body);
      assert.match(health.body, /^unhealthy: PUT .* answered 500 /);
    } finally {
      await service.remove();
      await backing.close();
    }
  });

  test('307s are followed up to 10 hops with the same method and body; an 11th is a 503', async () => {
    const backing = await startRecordingBacking();
    const service = await startDiscoveryService({ etcd: [backing.url] });
    try {
      const token = 'cccccccccccccccccccccccccccccccc';
      backing.seen.length = 0;
      const ten = await call(`${service.url}/${token}/hop10`, 'PUT', 'value=v');
      assert.equal(ten.status, 201, ten.body);
      assert.deepEqual(JSON.parse(ten.body), { method: 'PUT', url: `/v2/keys/_etcd/registry/${token}/hop0`, contentType: 'application/x-www-form-urlencoded', body: 'value=v' });
      assert.equal(backing.seen.length, 11);
      assert.ok(backing.seen.every((s) => s.method === 'PUT' && s.body === 'value=v'));
      const eleven = await call(`${service.url}/${token}/hop11`, 'PUT', 'value=v');
      assert.equal(eleven.status, 503, eleven.body);
      assert.equal(eleven.body, `registry unavailable: no backing etcd answered: ${backing.url}: more than 10 redirects (last to ${backing.url}/v2/keys/_etcd/registry/${token}/hop0)\n`);
      const loop = await call(`${service.url}/${token}/loop`);
      assert.equal(loop.status, 503, loop.body);
    } finally {
      await service.remove();
      await backing.close();
    }
  });
});
