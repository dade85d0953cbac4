import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError, ErrorCode } from '../../src/common/errors.js';
import { FakeMember, otherInfo, registerLikeFreshMember, startTestServer, type TestServer } from './fake-member.js';
import { destroyAgent, request, type RawResponse } from './http-client.js';

/** `/v2/keys` over a real HTTP server and a real Store: exact status, headers and bodies. */

let server: TestServer;
let member: FakeMember;

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.close();
  destroyAgent();
});
beforeEach(() => {
  // One store for the whole file: tests run in order and build on each other's indexes.
  member = server.member;
});

const put = (path: string, body?: string): Promise<RawResponse> => request(server.url, 'PUT', path, body === undefined ? {} : { body });
const get = (path: string): Promise<RawResponse> => request(server.url, 'GET', path);

function assertKeyHeaders(res: RawResponse, etcdIndex: number): void {
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.headers['x-etcd-index'], String(etcdIndex));
  assert.equal(res.headers['x-etcd-cluster-id'], 'cdf818194e3a8c32');
  assert.equal(res.headers['x-raft-term'], '2');
  assert.equal(res.headers['x-raft-index'], String(member.raftIndex()));
}

describe('keys API on a fresh member', () => {
  test('the tutorial: first user key gets index 3, root listing hides /_etcd', async () => {
    registerLikeFreshMember(member);
    const created = await put('/v2/keys/message', 'value=Hello%20world');
    assert.equal(created.status, 201);
    assertKeyHeaders(created, 3);
    assert.equal(created.body, '{"action":"set","node":{"key":"/message","value":"Hello world","modifiedIndex":3,"createdIndex":3}}\n');

    const root = await get('/v2/keys/');
    assert.equal(root.status, 200);
    assertKeyHeaders(root, 3);
    assert.equal(root.body, '{"action":"get","node":{"key":"/","dir":true,"nodes":[{"key":"/message","value":"Hello world","modifiedIndex":3,"createdIndex":3}]}}\n');
    // `/v2/keys` without the slash serves the root too (3.4).
    assert.equal((await get('/v2/keys')).body, root.body);

    const replaced = await put('/v2/keys/message', 'value=Hi');
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body, '{"action":"set","node":{"key":"/message","value":"Hi","modifiedIndex":4,"createdIndex":4},"prevNode":{"key":"/message","value":"Hello world","modifiedIndex":3,"createdIndex":3}}\n');
  });

  test('recursive and sorted listing, the tutorial shape', async () => {
    await put('/v2/keys/services/web/b', 'value=2');
    await put('/v2/keys/services/web/a', 'value=1');
    const res = await get('/v2/keys/services?recursive=true&sorted=true');
    assert.equal(res.status, 200);
    assert.equal(
      res.body,
      '{"action":"get","node":{"key":"/services","dir":true,"nodes":[{"key":"/services/web","dir":true,"nodes":[' +
        '{"key":"/services/web/a","value":"1","modifiedIndex":6,"createdIndex":6},' +
        '{"key":"/services/web/b","value":"2","modifiedIndex":5,"createdIndex":5}],"modifiedIndex":5,"createdIndex":5}],"modifiedIndex":5,"createdIndex":5}}\n',
    );
    const oneLevel = await get('/v2/keys/services/');
    assert.equal(oneLevel.body, '{"action":"get","node":{"key":"/services","dir":true,"nodes":[{"key":"/services/web","dir":true,"modifiedIndex":5,"createdIndex":5}],"modifiedIndex":5,"createdIndex":5}}\n');
  });

  test('/_etcd is readable but its machines and config are not writable by clients (106)', async () => {
    const machine = await get('/v2/keys/_etcd/machines/node1');
    assert.equal(machine.status, 200);
    assert.equal(machine.body, '{"action":"get","node":{"key":"/_etcd/machines/node1","value":"etcd=http%3A%2F%2F127.0.0.1%3A4001\\u0026raft=http%3A%2F%2F127.0.0.1%3A7001","modifiedIndex":1,"createdIndex":1}}\n');
    const index = member.store.index;
    for (const [method, path] of [
      ['PUT', '/v2/keys/_etcd/machines/bogus'],
      ['PUT', '/v2/keys/_etcd/config'],
      ['DELETE', '/v2/keys/_etcd/machines/node1'],
      ['DELETE', '/v2/keys/_etcd?recursive=true'],
      ['POST', '/v2/keys/_etcd/machines'],
      ['PUT', '/v2/keys/x/../_etcd/config'.replace('x/../', '')],
    ] as const) {
      const res = await request(server.url, method, path, { body: 'value=x' });
      assert.equal(res.status, 400, `${method} ${path}`);
      const key = path.slice('/v2/keys'.length).replace(/\?.*/, '').replace(/\/machines$/, '/machines');
      assert.equal(res.body, `{"errorCode":106,"message":"The prefix of given key is a keyword in etcd","cause":"${key}","index":${index}}\n`);
    }
    assert.equal(member.store.index, index, 'refused writes consume no index');
    const registry = await put('/v2/keys/_etcd/registry/token/abc', 'value=http://10.0.0.1:7001');
    assert.equal(registry.status, 201);
  });
});

describe('writes: the PUT decision table, POST, DELETE', () => {
  test('create (prevExist=false), 105 when it exists', async () => {
    const created = await put('/v2/keys/cfg?prevExist=false', 'value=a');
    assert.equal(created.status, 201);
    assert.match(created.body, /^\{"action":"create","node":\{"key":"\/cfg","value":"a","modifiedIndex":(\d+),"createdIndex":\1\}\}\n$/);
    const again = await put('/v2/keys/cfg?prevExist=false', 'value=b');
    assert.equal(again.status, 412);
    assertErrorHeaders(again, member.store.index);
    assert.equal(again.body, `{"errorCode":105,"message":"Key already exists","cause":"/cfg","index":${member.store.index}}\n`);
  });

  test('update (prevExist=true) keeps createdIndex; compareAndSwap and its failure causes', async () => {
    const base = JSON.parse((await put('/v2/keys/cas', 'value=one')).body) as { node: { modifiedIndex: number } };
    const created = base.node.modifiedIndex;
    const updated = await put('/v2/keys/cas?prevExist=true', 'value=two');
    assert.equal(updated.status, 200);
    assert.equal(updated.body, `{"action":"update","node":{"key":"/cas","value":"two","modifiedIndex":${created + 1},"createdIndex":${created}},"prevNode":{"key":"/cas","value":"one","modifiedIndex":${created},"createdIndex":${created}}}\n`);
    const swapped = await put(`/v2/keys/cas?prevValue=two&prevIndex=${created + 1}`, 'value=three');
    assert.equal(swapped.status, 200);
    assert.match(swapped.body, /^\{"action":"compareAndSwap","node":\{"key":"\/cas","value":"three"/);
    const failed = await put('/v2/keys/cas?prevValue=nope&prevIndex=1', 'value=four');
    assert.equal(failed.status, 412);
    assert.equal(failed.body, `{"errorCode":101,"message":"Compare failed","cause":"[nope != three] [1 != ${created + 2}]","index":${created + 2}}\n`);
    const missing = await put('/v2/keys/nokey?prevExist=true', 'value=x');
    assert.equal(missing.status, 404);
    assert.equal(missing.body, `{"errorCode":100,"message":"Key not found","cause":"/nokey","index":${created + 2}}\n`);
  });

  test('ttl becomes an absolute expiry from the member clock; noValueOnSuccess', async () => {
    const res = await put('/v2/keys/ttlkey?noValueOnSuccess=true', 'value=v&ttl=30');
    assert.equal(res.status, 201);
    assert.equal(res.body, '{"action":"set"}\n');
    const cmd = member.writes.at(-1);
    assert.ok(cmd !== undefined && cmd.op === 'set');
    assert.equal(cmd.expireAtMs, member.clock.nowMs() + 30_000);
    const read = await get('/v2/keys/ttlkey');
    assert.match(read.body, /"value":"v","expiration":"2026-01-01T00:00:30Z","ttl":30,/);
    // Huge TTLs beyond Go's duration range end up permanent, as in etcd 3.4; beyond uint64 → 202.
    assert.equal((await put('/v2/keys/ttlkey', 'value=v&ttl=9999999999')).status, 200);
    const huge = member.writes.at(-1);
    assert.ok(huge !== undefined && huge.op === 'set');
    assert.equal(huge.expireAtMs, null);
    assert.doesNotMatch((await get('/v2/keys/ttlkey')).body, /"ttl"/);
    const overflow = await put('/v2/keys/ttlkey', 'value=v&ttl=99999999999999999999');
    assert.equal(overflow.status, 400);
    assert.equal(overflow.body, `{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \\"ttl\\"","index":${member.store.index}}\n`);
  });

  test('refresh: 212 without ttl, 211 with a value, otherwise keeps the value', async () => {
    await put('/v2/keys/lease', 'value=held&ttl=10');
    const noTtl = await put('/v2/keys/lease?refresh=true&prevExist=true');
    assert.equal(noTtl.body, `{"errorCode":212,"message":"A TTL must be provided on refresh","cause":"No TTL value set","index":${member.store.index}}\n`);
    const withValue = await put('/v2/keys/lease?refresh=true&prevExist=true', 'value=x&ttl=5');
    assert.equal(withValue.body, `{"errorCode":211,"message":"Value provided on refresh","cause":"A value was provided on a refresh","index":${member.store.index}}\n`);
    const refreshed = await put('/v2/keys/lease?refresh=true&prevExist=true', 'ttl=20');
    assert.equal(refreshed.status, 200);
    assert.match(refreshed.body, /^\{"action":"update","node":\{"key":"\/lease","value":"held","expiration":"2026-01-01T00:00:20Z","ttl":20,/);
  });

  test('POST makes 20-digit in-order keys', async () => {
    const first = await request(server.url, 'POST', '/v2/keys/queue', { body: 'value=job1' });
    assert.equal(first.status, 201);
    const index = member.store.index;
    assert.equal(first.body, `{"action":"create","node":{"key":"/queue/${String(index).padStart(20, '0')}","value":"job1","modifiedIndex":${index},"createdIndex":${index}}}\n`);
    assertKeyHeaders(first, index);
  });

  test('DELETE: file, dir rules (102/108), recursive, compareAndDelete, root 107', async () => {
    await put('/v2/keys/tree/leaf', 'value=1');
    const notFile = await request(server.url, 'DELETE', '/v2/keys/tree');
    assert.equal(notFile.status, 403);
    assert.match(notFile.body, /^\{"errorCode":102,"message":"Not a file","cause":"\/tree","index":\d+\}\n$/);
    const notEmpty = await request(server.url, 'DELETE', '/v2/keys/tree?dir=true');
    assert.equal(notEmpty.status, 403);
    assert.match(notEmpty.body, /^\{"errorCode":108,"message":"Directory not empty","cause":"\/tree"/);
    const cad = await request(server.url, 'DELETE', '/v2/keys/tree/leaf?prevValue=2');
    assert.equal(cad.status, 412);
    assert.match(cad.body, /"cause":"\[2 != 1\]"/);
    const gone = await request(server.url, 'DELETE', '/v2/keys/tree?recursive=true');
    assert.equal(gone.status, 200);
    assert.match(gone.body, /^\{"action":"delete","node":\{"key":"\/tree","dir":true,"modifiedIndex":(\d+),"createdIndex":\d+\},"prevNode":\{"key":"\/tree","dir":true,/);
    const root = await request(server.url, 'DELETE', '/v2/keys/?recursive=true');
    assert.equal(root.status, 400);
    assert.equal(root.body, `{"errorCode":107,"message":"Root is read only","cause":"/","index":${member.store.index}}\n`);
  });

  test('parameters come from the query and the form body; the body wins', async () => {
    const res = await put('/v2/keys/merge?value=query', 'value=body');
    assert.match(res.body, /"value":"body"/);
    const fromQuery = await put('/v2/keys/merge?value=query');
    assert.match(fromQuery.body, /"value":"query"/);
    // A body that is not a form is not read (Go's ParseForm).
    const plain = await request(server.url, 'PUT', '/v2/keys/merge?value=q2', { body: 'value=ignored', headers: { 'Content-Type': 'text/plain' } });
    assert.match(plain.body, /"value":"q2"/);
    // Go escaping and invalid UTF-8 rendered as U+FFFD.
    const odd = await put('/v2/keys/odd', 'value=a%FFb%3C%26');
    assert.match(odd.body, /"value":"a\\ufffdb\\u003c\\u0026"/);
  });
});

function assertErrorHeaders(res: RawResponse, etcdIndex: number): void {
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.headers['x-etcd-index'], String(etcdIndex));
  assert.equal(res.headers['x-etcd-cluster-id'], 'cdf818194e3a8c32');
  assert.equal(res.headers['x-raft-index'], undefined);
}

describe('validation order and causes (spec §17.1)', () => {
  const cases: ReadonlyArray<readonly [string, string, number, string]> = [
    ['PUT', 'prevIndex=x&waitIndex=y&recursive=z', 203, 'invalid value for \\"prevIndex\\"'],
    ['PUT', 'waitIndex=1e3&recursive=z', 203, 'invalid value for \\"waitIndex\\"'],
    ['PUT', 'recursive=yes&sorted=z', 209, 'invalid value for \\"recursive\\"'],
    ['GET', 'sorted=&wait=z', 209, 'invalid value for \\"sorted\\"'],
    ['GET', 'wait=2', 209, 'invalid value for \\"wait\\"'],
    ['PUT', 'dir=on', 209, 'invalid value for \\"dir\\"'],
    ['GET', 'quorum=yes', 209, 'invalid value for \\"quorum\\"'],
    ['GET', 'stream=no', 209, 'invalid value for \\"stream\\"'],
    ['DELETE', 'wait=true&prevValue=', 209, '\\"wait\\" can only be used with GET requests'],
    ['PUT', 'prevValue=&ttl=x', 201, '\\"prevValue\\" cannot be empty'],
    ['PUT', 'noValueOnSuccess=x&ttl=x', 209, 'invalid value for \\"noValueOnSuccess\\"'],
    ['PUT', 'ttl=1.5&prevExist=x', 202, 'invalid value for \\"ttl\\"'],
    ['PUT', 'ttl=-1', 202, 'invalid value for \\"ttl\\"'],
    ['PUT', 'ttl=%205', 202, 'invalid value for \\"ttl\\"'],
    ['PUT', 'prevIndex=0x10', 203, 'invalid value for \\"prevIndex\\"'],
    ['PUT', 'prevExist=maybe&refresh=x', 209, 'invalid value for prevExist'],
    ['PUT', 'prevExist=&refresh=true', 209, 'invalid value for prevExist'],
    ['PUT', 'refresh=x', 209, 'invalid value for refresh'],
  ];
  for (const [method, query, code, cause] of cases) {
    test(`${method} ?${query} → ${code}`, async () => {
      const res = await request(server.url, method, `/v2/keys/validate?${query}`);
      assert.equal(res.status, 400);
      assertErrorHeaders(res, member.store.index);
      const message = new EtcdError(code as 201).message;
      assert.equal(res.body, `{"errorCode":${code},"message":"${message}","cause":"${cause}","index":${member.store.index}}\n`);
    });
  }

  test('booleans: true/1/t and false/0/f in any case are accepted', async () => {
    for (const value of ['true', 'TRUE', 'True', '1', 't', 'T', 'false', 'FaLsE', '0', 'f', 'F']) {
      const res = await get(`/v2/keys/?recursive=${value}`);
      assert.equal(res.status, 200, value);
    }
  });

  test('broken form encoding is 210 with Go\'s cause; a body error wins over a query error', async () => {
    const query = await get('/v2/keys/x?a=%zz');
    assert.equal(query.status, 400);
    assert.equal(query.body, `{"errorCode":210,"message":"Invalid POST form","cause":"invalid URL escape \\"%zz\\"","index":${member.store.index}}\n`);
    const semicolon = await get('/v2/keys/x?a=1;b=2');
    assert.match(semicolon.body, /"cause":"invalid semicolon separator in query"/);
    const body = await put('/v2/keys/x?a=%zz', 'value=%4');
    assert.match(body.body, /"cause":"invalid URL escape \\"%4\\""/);
  });
});

describe('leadership', () => {
  test('a follower redirects writes and consistent reads with 307 to the leader; quorum reads pass its read barrier; plain reads are local', async () => {
    member.leading = false;
    member.knownLeader = otherInfo;
    try {
      const write = await put('/v2/keys/f?ttl=5', 'value=1');
      assert.equal(write.status, 307);
      assert.equal(write.headers.location, 'http://127.0.0.2:4001/v2/keys/f?ttl=5');
      const consistent = await get('/v2/keys/f?consistent=true');
      assert.equal(consistent.status, 307);
      assert.equal(consistent.headers.location, 'http://127.0.0.2:4001/v2/keys/f?consistent=true');
      const barriers = member.barrierCalls;
      assert.equal((await get('/v2/keys/?quorum=true')).status, 200);
      assert.equal(member.barrierCalls, barriers + 1, 'quorum=true on a follower is a ReadIndex, not a redirect');
      assert.equal((await get('/v2/keys/')).status, 200);
      member.knownLeader = null;
      const noLeader = await put('/v2/keys/f', 'value=1');
      assert.equal(noLeader.status, 500);
      assert.equal(noLeader.body, `{"errorCode":300,"message":"Raft Internal Error","index":${member.store.index}}\n`);
    } finally {
      member.leading = true;
      member.knownLeader = member.self;
    }
  });

  test('quorum=true goes through the read barrier; a failing barrier or write answers 300', async () => {
    const before = member.barrierCalls;
    const res = await get('/v2/keys/?quorum=true&wait=true');
    assert.equal(res.status, 200);
    assert.match(res.body, /^\{"action":"get"/);
    assert.equal(member.barrierCalls, before + 1);
    member.failWith = new EtcdError(ErrorCode.RaftInternal);
    try {
      assert.equal((await get('/v2/keys/?quorum=true')).status, 500);
      const write = await put('/v2/keys/q', 'value=1');
      assert.equal(write.status, 500);
      assert.match(write.body, /^\{"errorCode":300,/);
    } finally {
      member.failWith = null;
    }
  });
});

describe('HTTP conventions', () => {
  test('HEAD sends the headers of GET without a body', async () => {
    const res = await request(server.url, 'HEAD', '/v2/keys/');
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
    assertKeyHeaders(res, member.store.index);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength((await get('/v2/keys/')).body)));
    const missing = await request(server.url, 'HEAD', '/v2/keys/none');
    assert.equal(missing.status, 404);
    assert.equal(missing.body, '');
  });

  test('unknown method → 405 with Allow; unclean path → 301 to the cleaned path', async () => {
    const patch = await request(server.url, 'PATCH', '/v2/keys/a');
    assert.equal(patch.status, 405);
    assert.equal(patch.headers.allow, 'HEAD,GET,PUT,POST,DELETE');
    assert.equal(patch.body, 'Method Not Allowed\n');
    const dbl = await get('/v2/keys//a%20b?x=1');
    assert.equal(dbl.status, 301);
    assert.equal(dbl.headers.location, '/v2/keys/a%20b?x=1');
    assert.equal(dbl.body, '<a href="/v2/keys/a%20b?x=1">Moved Permanently</a>.\n\n');
    const dots = await get('/v2/keys/%2e%2e/v');
    assert.equal(dots.status, 301);
    assert.equal(dots.headers.location, '/v2/v');
  });

  test('URL escapes in keys are decoded', async () => {
    await put('/v2/keys/foo%20bar', 'value=1');
    const res = await get('/v2/keys/foo%20bar');
    assert.match(res.body, /"key":"\/foo bar"/);
  });
});
