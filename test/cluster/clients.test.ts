/**
 * The modern v2 clients against a cluster, talking to a follower only: python-etcd (Debian
 * python3-etcd) and node-etcd follow the follower's 307 for writes, read with quorum=true and
 * locally, and list the cluster's machines. The quorum read comes first: a plain read on a
 * follower may lag the leader that acknowledged the write (as in etcd), a ReadIndex may not. (etcdctl 3.4 has its own test: etcdctl.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startCluster } from '../support/cluster.js';
import { call as nodeEtcdCall, nodeEtcdClient } from '../interop/node-etcd.js';

const PYTHON = '/usr/bin/python3';

const pythonSession = `
import sys, etcd
c = etcd.Client(host='127.0.0.1', port=int(sys.argv[1]), allow_reconnect=False)
w = c.write('/py/k', 'v1')
print('write', w.action, w.value, w.modifiedIndex == w.createdIndex)
print('quorum', c.read('/py/k', quorum=True).value)
print('read', c.read('/py/k').value)
try:
    c.write('/py/k', 'v2', prevExist=False)
    print('create', 'unexpected success')
except etcd.EtcdAlreadyExist:
    print('create', 'EtcdAlreadyExist')
print('cas', c.test_and_set('/py/k', 'v3', 'v1').value)
print('machines', len(c.machines))
print('leader', c.leader['name'] != '')
`;

test('python-etcd and node-etcd through a follower: writes follow the 307, reads are served there', async () => {
  const cluster = await startCluster({ size: 3, mode: 'static' });
  try {
    await cluster.waitForLeader();
    const [follower] = await cluster.followers();
    assert.ok(follower !== undefined);
    const port = new URL(follower.clientUrl).port;

    const py = spawnSync(PYTHON, ['-c', pythonSession, port], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(py.status, 0, py.stderr);
    assert.equal(py.stdout, ['write set v1 True', 'quorum v1', 'read v1', 'create EtcdAlreadyExist', 'cas v3', 'machines 3', 'leader True', ''].join('\n'));

    const client = nodeEtcdClient(follower.clientUrl);
    const set = await nodeEtcdCall((cb) => client.set('/ne/k', 'n1', {}, cb));
    assert.equal(set.err, null);
    assert.ok(set.body !== '');
    assert.equal(set.body.action, 'set');
    assert.equal(set.body.node.value, 'n1');
    const got = await nodeEtcdCall((cb) => client.get('/ne/k', { quorum: true }, cb));
    assert.equal(got.err, null);
    assert.ok(got.body !== '');
    assert.deepEqual(got.body.node, set.body.node);
    const swapped = await nodeEtcdCall((cb) => client.compareAndSwap('/ne/k', 'n2', 'wrong', {}, cb));
    assert.equal(swapped.err?.errorCode, 101);
  } finally {
    await cluster.remove();
  }
});
