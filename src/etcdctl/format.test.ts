import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EtcdResponse } from '../client/index.js';
import { printKey, printLs, printUnlessDir, responseJson } from './format.js';

function capture(fn: (o: { out(t: string): void; err(t: string): void }) => void): [string, string] {
  let out = '';
  let err = '';
  fn({ out: (t) => (out += t), err: (t) => (err += t) });
  return [out, err];
}

const setResponse: EtcdResponse = {
  action: 'set',
  node: { key: '/foo', value: 'new', expiration: '2026-01-01T00:00:00Z', ttl: 5, modifiedIndex: 7, createdIndex: 7 },
  prevNode: { key: '/foo', value: 'old', modifiedIndex: 6, createdIndex: 6 },
  etcdIndex: 7,
  raftIndex: 1270,
  raftTerm: 0,
};

test('extended: the 0.4.5 block with PrevNode.Value, TTL and the index headers', () => {
  assert.deepEqual(
    capture((o) => printKey(setResponse, 'extended', o)),
    ['Key: /foo\nCreated-Index: 7\nModified-Index: 7\nPrevNode.Value: old\nTTL: 5\nEtcd-Index: 7\nRaft-Index: 1270\nRaft-Term: 0\n\nnew\n', ''],
  );
});

test('json: go-etcd field order, zero values omitted, Go HTML escaping, raft fields appended', () => {
  assert.equal(
    responseJson({ ...setResponse, node: { ...setResponse.node, value: '<a&b>' } }),
    '{"action":"set","node":{"key":"/foo","value":"\\u003ca\\u0026b\\u003e","expiration":"2026-01-01T00:00:00Z","ttl":5,"modifiedIndex":7,"createdIndex":7},"prevNode":{"key":"/foo","value":"old","modifiedIndex":6,"createdIndex":6},"etcdIndex":7,"raftIndex":1270,"raftTerm":0}',
  );
});

test('simple prints the value; unknown formats are reported; directories print nothing', () => {
  assert.deepEqual(capture((o) => printKey(setResponse, 'simple', o)), ['new\n', '']);
  assert.deepEqual(capture((o) => printKey(setResponse, 'yaml', o)), ['', 'Unsupported output format: yaml\n']);
  const dirDelete: EtcdResponse = { ...setResponse, action: 'delete', node: { key: '/d', dir: true, modifiedIndex: 8, createdIndex: 3 } };
  assert.deepEqual(capture((o) => printUnlessDir(dirDelete, 'simple', o)), ['', '']);
  const fileDelete: EtcdResponse = { ...setResponse, action: 'delete', node: { key: '/foo', modifiedIndex: 8, createdIndex: 7 } };
  assert.deepEqual(capture((o) => printUnlessDir(fileDelete, 'simple', o)), ['\n', '']);
});

test('ls: depth first, a file lists itself, -p marks directories', () => {
  const tree: EtcdResponse = {
    ...setResponse,
    action: 'get',
    node: {
      key: '/',
      dir: true,
      modifiedIndex: 0,
      createdIndex: 0,
      nodes: [
        { key: '/a', dir: true, modifiedIndex: 1, createdIndex: 1, nodes: [{ key: '/a/x', value: '1', modifiedIndex: 1, createdIndex: 1 }] },
        { key: '/b', value: '2', modifiedIndex: 2, createdIndex: 2 },
      ],
    },
  };
  assert.deepEqual(capture((o) => printLs(tree, false, o)), ['/a\n/a/x\n/b\n', '']);
  assert.deepEqual(capture((o) => printLs(tree, true, o)), ['/a/\n/a/x\n/b\n', '']);
  assert.deepEqual(capture((o) => printLs({ ...setResponse, action: 'get' }, false, o)), ['/foo\n', '']);
});
