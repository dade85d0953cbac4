import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { repoRoot } from '../support/etcd-process.js';
import { pythonWithEtcd, runClient } from './clients.js';
import { inOrderName } from './etcdctl-session.js';
import { onEach, startPair, type ServerPair, type Target } from './servers.js';

/**
 * python-etcd (Debian python3-etcd 0.4.5), unmodified, drives a session (test/interop/py/session.py)
 * against our member and against a real etcd 3.4; both transcripts must equal the same expected
 * one, with indexes relative to the session's first write.
 */

let pair: ServerPair;

before(async () => {
  pair = await startPair('interop-py');
});
after(async () => {
  await pair.stop();
});

interface PyNode {
  action: string;
  key: string;
  value: string | null;
  dir: boolean;
  ttl: number | null;
  createdIndex: number;
  modifiedIndex: number;
  etcd_index: number;
}

function result(action: string, key: string, value: string | null, indexes: { created: number; modified: number; etcd: number }, extra: Partial<PyNode> = {}): PyNode {
  return { action, key, value, dir: false, ttl: null, createdIndex: indexes.created, modifiedIndex: indexes.modified, etcd_index: indexes.etcd, ...extra };
}

function same(index: number): { created: number; modified: number; etcd: number } {
  return { created: index, modified: index, etcd: index };
}

function failure(error: string, message: string): { error: string; message: string } {
  return { error, message };
}

const STORE_STATS_KEYS = [
  'compareAndDeleteFail', 'compareAndDeleteSuccess', 'compareAndSwapFail', 'compareAndSwapSuccess', 'createFail', 'createSuccess',
  'deleteFail', 'deleteSuccess', 'expireCount', 'getsFail', 'getsSuccess', 'setsFail', 'setsSuccess', 'updateFail', 'updateSuccess', 'watchers',
];

/** What session.py prints, for a session whose first write got index `b` (see the script for the steps). */
function expectedKeyResults(b: number): Record<string, unknown> {
  const q1 = `/py/queue/${inOrderName(b + 2)}`;
  const q2 = `/py/queue/${inOrderName(b + 3)}`;
  return {
    write: result('set', '/py/a', '1', same(b)),
    read: result('get', '/py/a', '1', same(b)),
    get: result('get', '/py/a', '1', same(b)),
    test_and_set: result('compareAndSwap', '/py/a', '2', { created: b, modified: b + 1, etcd: b + 1 }),
    test_and_set_failed: failure('EtcdCompareFailed', 'Compare failed : [1 != 2]'),
    create_existing: failure('EtcdAlreadyExist', 'Key already exists : /py/a'),
    update_missing: failure('EtcdKeyNotFound', 'Key not found : /py/none'),
    read_missing: failure('EtcdKeyNotFound', 'Key not found : /py/missing'),
    append1: result('create', q1, 'job1', same(b + 2)),
    append2: result('create', q2, 'job2', same(b + 3)),
    ttl: result('set', '/py/t', 'v', same(b + 4), { ttl: 100 }),
    mkdir: result('set', '/py/dir', null, same(b + 5), { dir: true }),
    not_a_file: failure('EtcdNotFile', 'Not a file : /py/dir'),
    recursive_leaves: [['/py/a', '2'], ['/py/dir', null], [q1, 'job1'], [q2, 'job2'], ['/py/t', 'v']],
    recursive_children: [['/py/a', false], ['/py/dir', true], [q1, false], [q2, false], ['/py/t', false]],
    // A watch answers with the X-Etcd-Index current when the watch was made, as etcd does.
    wait_replay: result('compareAndSwap', '/py/a', '2', { created: b, modified: b + 1, etcd: b + 5 }),
    write_watched: result('set', '/py/watched', 'w', same(b + 6)),
    wait_future: result('set', '/py/watched', 'w', { created: b + 6, modified: b + 6, etcd: b + 5 }),
    update_obj: result('compareAndSwap', '/py/a', 'updated', { created: b, modified: b + 7, etcd: b + 7 }),
    update_stale: failure('EtcdCompareFailed', `Compare failed : [${b + 1} != ${b + 7}]`),
    delete: result('delete', '/py/a', null, { created: b, modified: b + 8, etcd: b + 8 }),
    delete_dir_not_empty: failure('EtcdDirNotEmpty', 'Directory not empty : /py/queue'),
    delete_recursive: result('delete', '/py/queue', null, { created: b + 2, modified: b + 9, etcd: b + 9 }, { dir: true }),
    read_deleted: failure('EtcdKeyNotFound', 'Key not found : /py/a'),
    expire_wakes_below: result('expire', '/py/expdir', null, { created: b + 10, modified: b + 12, etcd: b + 11 }, { dir: true }),
    store_stats_keys: STORE_STATS_KEYS,
    lock: [
      ['first acquired', true, false],
      ['second waiting', true, false],
      ['handed over', false, true],
      ['released', false, false],
    ],
  };
}

async function runPySession(clientUrl: string): Promise<Record<string, unknown>> {
  const { hostname, port } = new URL(clientUrl);
  const script = join(repoRoot(), 'test', 'interop', 'py', 'session.py');
  const run = await runClient(pythonWithEtcd(), [script, hostname, port], { timeoutMs: 20_000 });
  assert.equal(run.code, 0, `session.py failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** GET /version with no Accept header at all, as python-etcd (urllib3) sends it; fetch would add one. */
function versionJson(clientUrl: string): Promise<{ etcdserver: string; etcdcluster: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${clientUrl}/version`, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body) as { etcdserver: string; etcdcluster: string });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      })
      .on('error', reject);
  });
}

test('python-etcd session: read/write/test_and_set/append/ttl/wait/update/delete, its exceptions, directory expiry waking a watcher below, and etcd.Lock handover', async () => {
  const names: Record<string, string> = { ours: 'interop-py', 'etcd 3.4': 'oracle' };
  const peerUrls: Record<string, string> = { ours: pair.ours.peerUrl, 'etcd 3.4': pair.real.peerUrl };
  await onEach(pair.targets, async ({ label, clientUrl }: Target) => {
    const out = await runPySession(clientUrl);
    const write = out['write'] as PyNode;
    const base = write.modifiedIndex;
    if (label === 'ours') assert.equal(base, 3, 'the first user key gets index 3, as in the tutorial');
    const { machines, leader, version, cluster_version: clusterVersion, ...keys } = out;
    assert.deepEqual(keys, expectedKeyResults(base));
    assert.deepEqual(machines, [clientUrl]);
    const members = (await (await fetch(`${clientUrl}/v2/members`)).json()) as { members: { id: string }[] };
    assert.deepEqual(leader, { id: members.members[0]?.id, name: names[label], peerURLs: [peerUrls[label]], clientURLs: [clientUrl] });
    // python-etcd sends no Accept header for /version and parses JSON: both fields must come through.
    const served = await versionJson(clientUrl);
    assert.deepEqual({ version, clusterVersion }, { version: served.etcdserver, clusterVersion: served.etcdcluster });
    assert.match(String(version), /^\d+\.\d+\.\d+$/);
  });
});
