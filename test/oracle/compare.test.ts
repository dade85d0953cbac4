/** The comparison must be able to fail: planted differences are caught, tolerated ones are not reported. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareObservations } from './compare.js';
import { applyProjectDecisions, observe, type Observation } from './normalize.js';
import { generateSequence } from './generate.js';

const BASE = 3;

function obs(status: number, index: number, body: string, extra: Record<string, string> = {}): Observation {
  const headers = { 'content-type': 'application/json', 'x-etcd-index': String(index), 'x-raft-index': '9', 'x-raft-term': '2', 'x-etcd-cluster-id': 'abc', ...extra };
  return observe({ status, headers, body }, null, BASE);
}

const listing = (a: string, b: string): string =>
  `{"action":"get","node":{"key":"/d","dir":true,"nodes":[${a},${b}],"modifiedIndex":4,"createdIndex":4}}\n`;
const fileA = '{"key":"/d/a","value":"1","modifiedIndex":5,"createdIndex":5}';
const fileB = '{"key":"/d/b","value":"2","modifiedIndex":6,"createdIndex":6}';

test('identical answers, and indexes equal relative to the base, compare equal', () => {
  const e = obs(200, 6, listing(fileA, fileB));
  assert.deepEqual(compareObservations(e, obs(200, 6, listing(fileA, fileB)), { sorted: false }), []);
  const shifted = observe({ status: 200, headers: { 'content-type': 'application/json', 'x-etcd-index': '5', 'x-raft-index': '1', 'x-raft-term': '1', 'x-etcd-cluster-id': 'x' }, body: listing(fileA, fileB).replace(/Index":(\d+)/g, (_m, n: string) => `Index":${Number(n) - 1}`) }, null, BASE - 1);
  assert.deepEqual(compareObservations(e, shifted, { sorted: false }), []);
});

test('unordered listings compare as sets unless sorted=true', () => {
  const e = obs(200, 6, listing(fileA, fileB));
  const swapped = obs(200, 6, listing(fileB, fileA));
  assert.deepEqual(compareObservations(e, swapped, { sorted: false }), []);
  assert.equal(compareObservations(e, swapped, { sorted: true }).length > 0, true);
});

test('planted differences are reported', () => {
  const e = obs(200, 6, listing(fileA, fileB));
  const cases: Array<[string, Observation]> = [
    ['status', obs(201, 6, listing(fileA, fileB))],
    ['X-Etcd-Index', obs(200, 7, listing(fileA, fileB))],
    ['value', obs(200, 6, listing(fileA, fileB.replace('"2"', '"3"')))],
    ['field order', obs(200, 6, listing(fileA, fileB.replace('"value":"2","modifiedIndex":6', '"modifiedIndex":6,"value":"2"')))],
    ['missing child', obs(200, 6, `{"action":"get","node":{"key":"/d","dir":true,"nodes":[${fileA}],"modifiedIndex":4,"createdIndex":4}}\n`)],
    ['trailing newline', obs(200, 6, listing(fileA, fileB).trimEnd())],
    ['raft headers', observe({ status: 200, headers: { 'content-type': 'application/json', 'x-etcd-index': '6' }, body: listing(fileA, fileB) }, null, BASE)],
  ];
  for (const [what, actual] of cases) {
    assert.ok(compareObservations(e, actual, { sorted: false }).length > 0, `${what} difference not caught`);
  }
  const escaped = obs(200, 6, listing(fileA.replace('"1"', '"\\u003c"'), fileB));
  const raw = obs(200, 6, listing(fileA.replace('"1"', '"<"'), fileB));
  assert.ok(compareObservations(escaped, raw, { sorted: false }).some((d) => d.startsWith('Go JSON escapes')));
});

test('ttl within 1 s and expiration within 2 s are tolerated, more is not', () => {
  const node = (ttl: number, exp: string): string => `{"action":"get","node":{"key":"/t","value":"v","expiration":"${exp}","ttl":${ttl},"modifiedIndex":4,"createdIndex":4}}\n`;
  const e = obs(200, 4, node(100, '2030-01-01T00:00:00.5Z'));
  assert.deepEqual(compareObservations(e, obs(200, 4, node(99, '2030-01-01T00:00:01.9Z')), { sorted: false }), []);
  assert.ok(compareObservations(e, obs(200, 4, node(97, '2030-01-01T00:00:00.5Z')), { sorted: false }).length > 0);
  assert.ok(compareObservations(e, obs(200, 4, node(100, '2030-01-01T00:00:05Z')), { sorted: false }).length > 0);
  assert.ok(compareObservations(e, obs(200, 4, node(100, '2030-01-01 00:00:00')), { sorted: false }).length > 0);
});

test('§17 decisions: root key added, validation error index becomes the current index', () => {
  const root = obs(200, 5, '{"action":"get","node":{"dir":true}}\n');
  const ours = obs(200, 5, '{"action":"get","node":{"key":"/","dir":true}}\n');
  assert.ok(compareObservations(root, ours, { sorted: false }).length > 0);
  assert.deepEqual(compareObservations(applyProjectDecisions(root, 2), ours, { sorted: false }), []);
  const etcd = observe({ status: 400, headers: { 'content-type': 'application/json', 'x-etcd-index': '0', 'x-etcd-cluster-id': 'a' }, body: '{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \\"ttl\\"","index":0}\n' }, null, BASE);
  const mine = observe({ status: 400, headers: { 'content-type': 'application/json', 'x-etcd-index': '9', 'x-etcd-cluster-id': 'a' }, body: '{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \\"ttl\\"","index":9}\n' }, null, BASE);
  assert.deepEqual(compareObservations(applyProjectDecisions(etcd, 9 - BASE), mine, { sorted: false }), []);
  assert.ok(compareObservations(applyProjectDecisions(etcd, 8 - BASE), mine, { sorted: false }).length > 0);
});

test('indexes inside in-order key names and 101/401 causes are relativized', () => {
  const a = observe({ status: 412, headers: { 'content-type': 'application/json', 'x-etcd-index': '20' }, body: '{"errorCode":101,"message":"Compare failed","cause":"[two != v1] [12 != 14]","index":20}\n' }, null, 10);
  const b = observe({ status: 412, headers: { 'content-type': 'application/json', 'x-etcd-index': '19' }, body: '{"errorCode":101,"message":"Compare failed","cause":"[two != v1] [11 != 13]","index":19}\n' }, null, 9);
  assert.deepEqual(compareObservations(a, b, { sorted: false }), []);
  const c = observe({ status: 201, headers: { 'content-type': 'application/json', 'x-etcd-index': '14' }, body: '{"action":"create","node":{"key":"/q/00000000000000000014","value":"v","modifiedIndex":14,"createdIndex":14}}\n' }, null, 10);
  const d = observe({ status: 201, headers: { 'content-type': 'application/json', 'x-etcd-index': '13' }, body: '{"action":"create","node":{"key":"/q/00000000000000000013","value":"v","modifiedIndex":13,"createdIndex":13}}\n' }, null, 9);
  assert.deepEqual(compareObservations(c, d, { sorted: false }), []);
});

test('a seed replays the same sequence; different seeds differ', () => {
  assert.deepEqual(generateSequence(42, 100), generateSequence(42, 100));
  assert.notDeepEqual(generateSequence(42, 100).steps, generateSequence(43, 100).steps);
  assert.equal(generateSequence(7, 100).steps.length, 100);
});

test('a stream line etcd 3.4 repeats for a delete is collapsed; other repeats are kept', async () => {
  const { collapseDoubledDeleteLines } = await import('./normalize.js');
  const del = '{"action":"delete","node":{"key":"/a","modifiedIndex":3,"createdIndex":2},"prevNode":{"key":"/a","value":"1","modifiedIndex":2,"createdIndex":2}}';
  const cad = del.replace('"delete"', '"compareAndDelete"');
  const set = '{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":2,"createdIndex":2}}';
  assert.deepEqual(collapseDoubledDeleteLines([set, del, del]), [set, del]);
  assert.deepEqual(collapseDoubledDeleteLines([cad, cad]), [cad]);
  assert.deepEqual(collapseDoubledDeleteLines([set, set]), [set, set]);
  assert.deepEqual(collapseDoubledDeleteLines([del, set, del]), [del, set, del]);
});
