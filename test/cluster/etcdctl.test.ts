/**
 * The real etcdctl 3.4 (`ETCDCTL_API=2`) against a 3-member cluster of ours: `member list` and
 * `cluster-health` over all client URLs print exactly the lines etcd 3.4's own cluster gives
 * (ids taken from /v2/members), and `set`/`get`/`watch` work with a follower as the only
 * endpoint (`--no-sync`, so etcdctl cannot pick the leader from the member list: every write
 * goes through the follower's 307).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startCluster } from '../support/cluster.js';
import { eventually, membersOf } from './http.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Started {
  readonly done: Promise<Run>;
  stdout(): string;
}

/** etcdctl 3.4 in v2 mode, killed by pid if it outlives `timeoutMs`. */
function etcdctl(args: readonly string[], timeoutMs = 20_000): Started {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ETCDCTL_')) env[name] = value;
  env['ETCDCTL_API'] = '2';
  const child = spawn('etcdctl', [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, timeoutMs);
  const done = new Promise<Run>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { done, stdout: () => stdout };
}

test('etcdctl 3.4: member list and cluster-health over every client URL', async () => {
  const cluster = await startCluster({ size: 3, mode: 'static' });
  try {
    const leader = await cluster.waitForLeader();
    const members = await membersOf(leader);
    const endpoints = cluster.clientUrls().join(',');
    const byName = new Map(cluster.members.map((m) => [m.name, m]));

    const list = await etcdctl(['--endpoints', endpoints, 'member', 'list']).done;
    assert.equal(list.stderr, '');
    assert.equal(list.code, 0);
    const expectedList = members.map((m) => {
      const member = byName.get(m.name);
      assert.ok(member !== undefined, m.name);
      return `${m.id}: name=${m.name} peerURLs=${member.peerUrl} clientURLs=${member.clientUrl} isLeader=${String(member === leader)}`;
    });
    assert.deepEqual(list.stdout.split('\n').filter((l) => l !== '').sort(), expectedList.sort(), list.stdout);
    assert.ok(list.stdout.endsWith('\n'));

    const health = await etcdctl(['--endpoints', endpoints, 'cluster-health']).done;
    assert.equal(health.stderr, '');
    assert.equal(health.code, 0);
    const lines = health.stdout.split('\n');
    assert.deepEqual(lines.slice(-2), ['cluster is healthy', ''], health.stdout);
    const expectedHealth = members.map((m) => `member ${m.id} is healthy: got healthy result from ${byName.get(m.name)?.clientUrl ?? '?'}`);
    assert.deepEqual(lines.slice(0, -2).sort(), expectedHealth.sort(), health.stdout);
  } finally {
    await cluster.remove();
  }
});

test('etcdctl 3.4: set, get and watch through a follower endpoint alone', async () => {
  const cluster = await startCluster({ size: 3, mode: 'static' });
  try {
    const follower = (await cluster.followers())[0];
    assert.ok(follower !== undefined);
    const via = ['--no-sync', '--endpoints', follower.clientUrl];

    assert.deepEqual(await etcdctl([...via, 'set', '/ctl/message', 'Hello']).done, { code: 0, stdout: 'Hello\n', stderr: '' });
    assert.deepEqual(await etcdctl([...via, 'get', '/ctl/message']).done, { code: 0, stdout: 'Hello\n', stderr: '' });
    assert.deepEqual(await etcdctl([...via, 'get', '--quorum', '/ctl/message']).done, { code: 0, stdout: 'Hello\n', stderr: '' });
    assert.deepEqual(await etcdctl([...via, 'mk', '/ctl/message', 'again']).done, {
      code: 4,
      stdout: '',
      stderr: `Error:  105: Key already exists (/ctl/message) [${await indexOf(follower.clientUrl)}]\n`,
    });

    const baseline = await watchers(follower.clientUrl);
    const watch = etcdctl([...via, 'watch', '/ctl/watched']);
    await eventually('etcdctl watch is registered on the follower', async () => (await watchers(follower.clientUrl)) > baseline, 10_000);
    assert.deepEqual(await etcdctl([...via, 'set', '/ctl/watched', 'seen']).done, { code: 0, stdout: 'seen\n', stderr: '' });
    assert.deepEqual(await watch.done, { code: 0, stdout: 'seen\n', stderr: '' }, `watch output so far: ${watch.stdout()}`);
  } finally {
    await cluster.remove();
  }
});

async function watchers(clientUrl: string): Promise<number> {
  const res = await fetch(`${clientUrl}/v2/stats/store`);
  return ((await res.json()) as { watchers: number }).watchers;
}

async function indexOf(clientUrl: string): Promise<number> {
  const res = await fetch(`${clientUrl}/v2/keys/ctl/message?quorum=true`);
  await res.arrayBuffer();
  return Number(res.headers.get('x-etcd-index'));
}
