import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { otherInfo, startTestServer, type TestServer } from './fake-member.js';
import { destroyAgent, request } from './http-client.js';

/** Everything on the client port besides /v2/keys, CORS, and bad input that must not hurt. */

let server: TestServer;
let corsServer: TestServer;

before(async () => {
  server = await startTestServer({ maxBodyBytes: 64 * 1024 });
  corsServer = await startTestServer({ corsOrigins: ['http://ui.example'] });
});
after(async () => {
  await server.close();
  await corsServer.close();
  destroyAgent();
});

test('/version: 0.4.6 text for curl (Accept */*), JSON when Accept is absent or asks for JSON', async () => {
  const curl = await request(server.url, 'GET', '/version', { headers: { Accept: '*/*' } });
  assert.equal(curl.status, 200);
  assert.equal(curl.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(curl.body, 'etcd 0.4.6');
  const json = await request(server.url, 'GET', '/version', { headers: { Accept: 'application/json' } });
  assert.equal(json.headers['content-type'], 'application/json');
  assert.equal(json.body, '{"etcdserver":"2.3.8","etcdcluster":"2.3.0"}\n');
  assert.equal((await request(server.url, 'GET', '/version')).body, json.body);
  const post = await request(server.url, 'POST', '/version');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET,HEAD');
});

test('/v2/stats/self|leader|store', async () => {
  const self = await request(server.url, 'GET', '/v2/stats/self');
  assert.equal(self.status, 200);
  assert.equal(self.body, '{"name":"node1","id":"8e9e05c52164694d","state":"leader"}\n');
  const leader = await request(server.url, 'GET', '/v2/stats/leader');
  assert.equal(leader.body, '{"leader":"8e9e05c52164694d","followers":{}}\n');
  await request(server.url, 'PUT', '/v2/keys/counted', { body: 'value=1' });
  await request(server.url, 'GET', '/v2/keys/counted');
  await request(server.url, 'GET', '/v2/keys/missing');
  const store = await request(server.url, 'GET', '/v2/stats/store');
  assert.equal(store.headers['content-type'], 'application/json');
  assert.equal(
    store.body,
    '{"getsSuccess":1,"getsFail":1,"setsSuccess":1,"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,' +
      '"createSuccess":0,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}\n',
  );
});

test('/v2/stats/leader on a follower redirects to the leader (307), 300 without one', async () => {
  server.member.leading = false;
  server.member.knownLeader = otherInfo;
  try {
    const res = await request(server.url, 'GET', '/v2/stats/leader');
    assert.equal(res.status, 307);
    assert.equal(res.headers.location, 'http://127.0.0.2:4001/v2/stats/leader');
    const machines = await request(server.url, 'GET', '/v2/machines');
    assert.equal(machines.body, 'http://127.0.0.2:4001, http://127.0.0.1:4001');
    server.member.knownLeader = null;
    const none = await request(server.url, 'GET', '/v2/stats/leader');
    assert.equal(none.status, 500);
    assert.match(none.body, /^\{"errorCode":300,"message":"Raft Internal Error","index":\d+\}\n$/);
    const leader = await request(server.url, 'GET', '/v2/leader');
    assert.equal(leader.status, 500);
    assert.match(leader.body, /^\{"errorCode":301,"message":"During Leader Election","index":\d+\}\n$/);
    const membersLeader = await request(server.url, 'GET', '/v2/members/leader');
    assert.equal(membersLeader.status, 503);
    assert.equal(membersLeader.body, '{"message":"During election"}\n');
  } finally {
    server.member.leading = true;
    server.member.knownLeader = server.member.self;
  }
});

test('/v2/machines (+/v2/peers), /v2/leader, /v2/members, /health', async () => {
  const machines = await request(server.url, 'GET', '/v2/machines');
  assert.equal(machines.status, 200);
  assert.equal(machines.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(machines.body, 'http://127.0.0.1:4001, http://127.0.0.2:4001');
  assert.equal((await request(server.url, 'GET', '/v2/peers')).body, machines.body);
  assert.equal((await request(server.url, 'GET', '/v2/leader')).body, 'http://127.0.0.1:7001');
  const members = await request(server.url, 'GET', '/v2/members');
  assert.equal(members.headers['x-etcd-cluster-id'], 'cdf818194e3a8c32');
  assert.equal(
    members.body,
    '{"members":[{"id":"8e9e05c52164694d","name":"node1","peerURLs":["http://127.0.0.1:7001"],"clientURLs":["http://127.0.0.1:4001"]},' +
      '{"id":"0a1b2c3d4e5f6071","name":"node2","peerURLs":["http://127.0.0.2:7001"],"clientURLs":["http://127.0.0.2:4001"]}]}\n',
  );
  const leader = await request(server.url, 'GET', '/v2/members/leader');
  assert.equal(leader.body, '{"id":"8e9e05c52164694d","name":"node1","peerURLs":["http://127.0.0.1:7001"],"clientURLs":["http://127.0.0.1:4001"]}\n');
  const health = await request(server.url, 'GET', '/health');
  assert.equal(health.status, 200);
  assert.equal(health.body, '{"health":"true"}');
  server.member.isHealthy = false;
  try {
    const sick = await request(server.url, 'GET', '/health');
    assert.equal(sick.status, 503);
    assert.equal(sick.body, '{"health":"false"}');
  } finally {
    server.member.isHealthy = true;
  }
  const unknown = await request(server.url, 'GET', '/mod/dashboard');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body, '404 page not found\n');
  assert.equal((await request(server.url, 'GET', '/v2/keysfoo')).status, 404);
});

test('CORS: no headers without -cors; a listed origin is echoed; OPTIONS answers 200 empty', async () => {
  const plain = await request(server.url, 'GET', '/v2/keys/', { headers: { Origin: 'http://ui.example' } });
  assert.equal(plain.headers['access-control-allow-origin'], undefined);
  const allowed = await request(corsServer.url, 'GET', '/v2/keys/', { headers: { Origin: 'http://ui.example' } });
  assert.equal(allowed.headers['access-control-allow-origin'], 'http://ui.example');
  assert.equal(allowed.headers['access-control-allow-methods'], 'POST, GET, OPTIONS, PUT, DELETE');
  assert.equal(allowed.headers['access-control-allow-headers'], 'accept, content-type, authorization');
  const other = await request(corsServer.url, 'GET', '/v2/keys/', { headers: { Origin: 'http://evil.example' } });
  assert.equal(other.headers['access-control-allow-origin'], undefined);
  const preflight = await request(corsServer.url, 'OPTIONS', '/v2/keys/a', { headers: { Origin: 'http://ui.example' } });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.body, '');
  assert.equal(preflight.headers['access-control-allow-origin'], 'http://ui.example');
});

/** Sends raw bytes and returns the first response's status line. */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

test('bad input gets a v2 error or a clean HTTP error, and the member keeps serving', async () => {
  const setsBefore = server.member.store.stats().setsSuccess + server.member.store.stats().setsFail;
  assert.equal(await rawExchange(server.port, 'FOO /v2/keys/a HTTP/1.1\r\nHost: x\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
  assert.equal(await rawExchange(server.port, 'garbage\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
  const hugeKey = await request(server.url, 'GET', `/v2/keys/${'k'.repeat(1024 * 1024)}`);
  assert.equal(hugeKey.status, 431);
  const badEscape = await request(server.url, 'GET', '/v2/keys/%zz');
  assert.equal(badEscape.status, 400);
  assert.equal(badEscape.body, 'Bad Request\n');
  const oversized = await request(server.url, 'PUT', '/v2/keys/big', { body: `value=${'v'.repeat(100 * 1024)}` });
  assert.equal(oversized.status, 400);
  assert.match(oversized.body, /^\{"errorCode":210,"message":"Invalid POST form","cause":"http: POST too large","index":\d+\}\n$/);
  const chunk = `value=${'v'.repeat(100 * 1024)}`;
  const chunked = `PUT /v2/keys/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
  assert.equal(await rawExchange(server.port, chunked), 'HTTP/1.1 400 Bad Request');
  const declared = 'PUT /v2/keys/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 999999999999\r\n\r\nvalue=';
  assert.equal(await rawExchange(server.port, declared), 'HTTP/1.1 400 Bad Request');
  assert.equal(server.member.store.stats().setsSuccess + server.member.store.stats().setsFail, setsBefore, 'no oversized write reached the store');
  const invalidUtf8Key = await request(server.url, 'PUT', '/v2/keys/bad%C3', { body: 'value=%C3%28' });
  assert.equal(invalidUtf8Key.status, 201);
  assert.match(invalidUtf8Key.body, /"key":"\/bad\\ufffd","value":"\\ufffd\(",/);
  const ok = await request(server.url, 'GET', '/v2/keys/');
  assert.equal(ok.status, 200);
});

test('an absolute-form request target (as proxies send) is served like its path; fragments are dropped', async () => {
  assert.equal(await rawExchange(server.port, 'GET http://etcd.example/v2/keys/?recursive=true#frag HTTP/1.1\r\nHost: etcd.example\r\n\r\n'), 'HTTP/1.1 200 OK');
  assert.equal(await rawExchange(server.port, 'GET http://etcd.example HTTP/1.1\r\nHost: etcd.example\r\n\r\n'), 'HTTP/1.1 404 Not Found');
  assert.equal(await rawExchange(server.port, 'GET v2/keys/ HTTP/1.1\r\nHost: etcd.example\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
});
