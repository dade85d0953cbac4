import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctl, etcdctlArgs, ETCDCTL_V2_ENV, nextWriteIndex, startClient, waitForWatchers, waitUntil, watcherCount } from './clients.js';
import { etcdctlSession, runSession, tutorialSession, type SessionStep, type StepResult } from './etcdctl-session.js';
import { onEach, startPair, type ServerPair, type Target } from './servers.js';

/**
 * etcdctl 3.4 (ETCDCTL_API=2), unmodified, against our member — and the same commands against a
 * real etcd 3.4, whose output is the reference. Exact stdout, stderr and exit codes; indexes
 * relative to the session's first write.
 */

let pair: ServerPair;

function expectedResults(steps: readonly SessionStep[]): StepResult[] {
  return steps.map(({ args, stdout, stderr, code }) => ({ args, stdout, stderr, code }));
}

before(async () => {
  pair = await startPair('interop-ctl');
});
after(async () => {
  await pair.stop();
});

test('a whole etcdctl session prints what etcd 3.4 prints (values, errors, exit codes, -o extended/json)', async () => {
  const oursBase = await nextWriteIndex(pair.ours.clientUrl);
  assert.equal(oursBase, 3, 'the first user key gets index 3, as in the tutorial');
  await onEach(pair.targets, async (target) => {
    const base = await nextWriteIndex(target.clientUrl);
    const steps = etcdctlSession(base);
    const results = await runSession(target.clientUrl, steps);
    assert.deepEqual(results, expectedResults(steps));
  });
});

test('the tutorial\'s etcdctl commands, in its order, on a fresh member print what etcd 3.4 prints', async () => {
  const fresh = await startPair('interop-tutorial');
  try {
    assert.equal(await nextWriteIndex(fresh.ours.clientUrl), 3, 'the first user key gets index 3, as in the tutorial');
    await onEach(fresh.targets, async (target) => {
      const steps = tutorialSession(await nextWriteIndex(target.clientUrl));
      const results = await runSession(target.clientUrl, steps);
      assert.deepEqual(results, expectedResults(steps));
    });
    // Only our member has the 0.4 registry the tutorial lists last.
    const name = 'interop-tutorial';
    const etcdKeys = await etcdctl(fresh.ours.clientUrl, ['ls', '--recursive', '--sort', '/_etcd']);
    assert.deepEqual(etcdKeys, { stdout: `/_etcd/config\n/_etcd/machines\n/_etcd/machines/${name}\n`, stderr: '', code: 0 });
  } finally {
    await fresh.stop();
  }
});

test('--ttl on keys and directories: TTL counts down from the value given, expiration in the future', async () => {
  await onEach(pair.targets, async ({ clientUrl }) => {
    const set = await etcdctl(clientUrl, ['set', '--ttl', '100', '/ttl/key', 'v']);
    assert.deepEqual(set, { stdout: 'v\n', stderr: '', code: 0 });
    const extended = await etcdctl(clientUrl, ['-o', 'extended', 'get', '/ttl/key']);
    assert.equal(extended.code, 0);
    assert.match(extended.stdout, /^Key: \/ttl\/key\nCreated-Index: (\d+)\nModified-Index: \1\nTTL: (99|100)\nIndex: \1\n\nv\n$/);
    const json = await etcdctl(clientUrl, ['-o', 'json', 'get', '/ttl/key']);
    const node = (JSON.parse(json.stdout) as { node: { expiration: string; ttl: number } }).node;
    const remainingMs = Date.parse(node.expiration) - Date.now();
    assert.ok(remainingMs > 95_000 && remainingMs <= 100_500, `expiration ${node.expiration} is ~100 s away`);
    assert.ok(node.ttl === 99 || node.ttl === 100, `ttl ${node.ttl}`);
    assert.deepEqual(await etcdctl(clientUrl, ['mkdir', '--ttl', '50', '/ttl/dir']), { stdout: '', stderr: '', code: 0 });
    const dir = await etcdctl(clientUrl, ['-o', 'json', 'ls', '/ttl/dir']);
    assert.equal(dir.code, 0);
    assert.match(dir.stdout, /^\{"action":"get","node":\{"key":"\/ttl\/dir","dir":true,"value":"","nodes":null,"createdIndex":(\d+),"modifiedIndex":\1,"expiration":"[^"]+","ttl":(49|50)\},"prevNode":null\}\n$/);
    // TTL 0 means "no ttl": the key becomes permanent again.
    assert.deepEqual(await etcdctl(clientUrl, ['update', '/ttl/key', 'w']), { stdout: 'w\n', stderr: '', code: 0 });
    assert.match((await etcdctl(clientUrl, ['-o', 'extended', 'get', '/ttl/key'])).stdout, /\nTTL: 0\n/);
  });
});

test('a key given a 1 s TTL is gone after it expires (etcdctl get exits 4 with error 100)', async () => {
  await onEach(pair.targets, async ({ clientUrl }) => {
    assert.equal((await etcdctl(clientUrl, ['set', '--ttl', '1', '/short/lived', 'x'])).code, 0);
    await waitUntil('the key to expire', async () => (await etcdctl(clientUrl, ['get', '/short/lived'])).code === 4, 4_000);
    const gone = await etcdctl(clientUrl, ['get', '/short/lived']);
    assert.match(gone.stderr, /^Error:  100: Key not found \(\/short\/lived\) \[\d+\]\n$/);
  });
});

test('watch prints the first event and exits 0; --after-index replays from history', async () => {
  await onEach(pair.targets, async ({ clientUrl }) => {
    const watchers = await watcherCount(clientUrl);
    const watch = startClient('etcdctl', etcdctlArgs(clientUrl, ['watch', '/watched/key']), { env: ETCDCTL_V2_ENV });
    await waitForWatchers(clientUrl, watchers + 1);
    const set = await etcdctl(clientUrl, ['-o', 'extended', 'set', '/watched/key', 'seen']);
    const index = Number(/\nIndex: (\d+)\n/.exec(set.stdout)?.[1]);
    assert.deepEqual(await watch.done, { stdout: 'seen\n', stderr: '', code: 0 });
    assert.equal(await etcdctl(clientUrl, ['update', '/watched/key', 'later']).then((r) => r.code), 0);
    const replay = await etcdctl(clientUrl, ['watch', '--after-index', String(index - 1), '/watched/key']);
    assert.deepEqual(replay, { stdout: 'seen\n', stderr: '', code: 0 });
    const recursive = await etcdctl(clientUrl, ['watch', '-r', '--after-index', String(index), '/watched']);
    assert.deepEqual(recursive, { stdout: '[update] /watched/key\nlater\n', stderr: '', code: 0 });
  });
});

test('watch --forever -r prints every event with its action until Ctrl-C', async () => {
  await onEach(pair.targets, async ({ clientUrl }) => {
    const watchers = await watcherCount(clientUrl);
    const watch = startClient('etcdctl', etcdctlArgs(clientUrl, ['watch', '--forever', '-r', '/forever']), { env: ETCDCTL_V2_ENV });
    await waitForWatchers(clientUrl, watchers + 1);
    await etcdctl(clientUrl, ['set', '/forever/a', '1']);
    await etcdctl(clientUrl, ['set', '/forever/b', '2']);
    await etcdctl(clientUrl, ['rm', '/forever/a']);
    const expected = '[set] /forever/a\n1\n[set] /forever/b\n2\n[delete] /forever/a\nPrevNode.Value: 1\n';
    await waitUntil('three events', () => watch.stdout() === expected);
    const ended = await watch.kill('SIGINT');
    assert.deepEqual(ended, { stdout: expected, stderr: '', code: 0 });
    // The member drops the parked watch when etcdctl goes away (later tests count watchers).
    await waitUntil('the watcher to be released', async () => (await watcherCount(clientUrl)) === watchers);
  });
});

test('exec-watch runs the command once per event with ETCD_WATCH_* set, skips dirs, exits 0 on SIGINT', async () => {
  const script = 'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY [$ETCD_WATCH_VALUE] $ETCD_WATCH_MODIFIED_INDEX"';
  await onEach(pair.targets, async ({ clientUrl }: Target) => {
    const watchers = await watcherCount(clientUrl);
    const exec = startClient('etcdctl', etcdctlArgs(clientUrl, ['exec-watch', '--recursive', '/jobs', '--', 'sh', '-c', script]), { env: ETCDCTL_V2_ENV });
    await waitForWatchers(clientUrl, watchers + 1);
    const first = await nextWriteIndex(clientUrl);
    await etcdctl(clientUrl, ['set', '/jobs/a', 'one']);
    await waitUntil('the first command', () => exec.stdout().includes(`set /jobs/a [one] ${first}\n`));
    await etcdctl(clientUrl, ['mkdir', '/jobs/dir']);
    await waitUntil('the dir event to be skipped', () => exec.stderr().includes('Ignored dir /jobs/dir change'));
    await etcdctl(clientUrl, ['rm', '/jobs/a']);
    await waitUntil('the second command', () => exec.stdout().includes(`delete /jobs/a [] ${first + 2}\n`));
    const ended = await exec.kill('SIGINT');
    await waitUntil('the watcher to be released', async () => (await watcherCount(clientUrl)) === watchers);
    assert.deepEqual(ended, {
      stdout: `set /jobs/a [one] ${first}\ndelete /jobs/a [] ${first + 2}\n`,
      stderr: 'Ignored dir /jobs/dir change\n',
      code: 0,
    });
  });
});

test('member list and cluster-health describe our one member as etcd 3.4 describes its own', async () => {
  const res = await fetch(`${pair.ours.clientUrl}/v2/members`);
  const members = (await res.json()) as { members: { id: string }[] };
  const id = members.members[0]?.id ?? '';
  assert.match(id, /^[0-9a-f]{16}$/);
  const list = await etcdctl(pair.ours.clientUrl, ['member', 'list']);
  assert.deepEqual(list, {
    stdout: `${id}: name=interop-ctl peerURLs=${pair.ours.peerUrl} clientURLs=${pair.ours.clientUrl} isLeader=true\n`,
    stderr: '',
    code: 0,
  });
  const health = await etcdctl(pair.ours.clientUrl, ['cluster-health']);
  assert.deepEqual(health, {
    stdout: `member ${id} is healthy: got healthy result from ${pair.ours.clientUrl}\ncluster is healthy\n`,
    stderr: '',
    code: 0,
  });
  // The reference: etcd 3.4 prints the same shapes for itself (its name is "oracle").
  const realList = await etcdctl(pair.real.clientUrl, ['member', 'list']);
  assert.match(realList.stdout, new RegExp(`^[0-9a-f]+: name=oracle peerURLs=${pair.real.peerUrl} clientURLs=${pair.real.clientUrl} isLeader=true\\n$`));
  const realHealth = await etcdctl(pair.real.clientUrl, ['cluster-health']);
  assert.match(realHealth.stdout, new RegExp(`^member [0-9a-f]+ is healthy: got healthy result from ${pair.real.clientUrl}\\ncluster is healthy\\n$`));
});

test('the tutorial: etcdctl ls /_etcd/machines --recursive and the machine entry on our member', async () => {
  const url = pair.ours.clientUrl;
  const ls = await etcdctl(url, ['ls', '/_etcd/machines', '--recursive']);
  assert.deepEqual(ls, { stdout: '/_etcd/machines/interop-ctl\n', stderr: '', code: 0 });
  const entry = await etcdctl(url, ['get', '/_etcd/machines/interop-ctl']);
  const escaped = (u: string): string => encodeURIComponent(u);
  assert.deepEqual(entry, { stdout: `etcd=${escaped(url)}&raft=${escaped(pair.ours.peerUrl)}\n`, stderr: '', code: 0 });
  const refused = await etcdctl(url, ['set', '/_etcd/machines/interop-ctl', 'x']);
  assert.equal(refused.code, 4);
  assert.match(refused.stderr, /^Error:  \d+: /);
});
