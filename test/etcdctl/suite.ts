/**
 * The etcdctl contract suite, written once and run against every target (our server, a real
 * etcd 3.4): spawns bin/etcdctl and asserts exact stdout, stderr and exit codes. Index numbers
 * differ between servers, so they are matched by pattern, never guessed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../support/ports.js';
import { CliProcess, currentIndex, etcdctl, httpPut, httpWrite, startProxy, startTarget, watchRegistered, type Target } from './harness.js';

export function etcdctlSuite(kind: Target['kind']): void {
  describe(`etcdctl against ${kind}`, { timeout: 180_000, concurrency: 2 }, () => {
    let target: Target;
    let c: (args: readonly string[], stdin?: string) => ReturnType<typeof etcdctl>;
    before(async () => {
      target = await startTarget(kind);
      c = (args, stdin) => etcdctl(['-C', target.clientUrl, ...args], stdin !== undefined ? { stdin } : {});
    });
    const put = (key: string, value: string): Promise<number> => httpWrite(target.clientUrl, 'PUT', key, { value });
    after(async () => target.stop());

    test('set, get, mk, update print the value; errors are "Error:  code: message (cause) [index]" with exit 4', async () => {
      assert.deepEqual(await c(['set', '/s/k', 'one']), { code: 0, signal: null, stdout: 'one\n', stderr: '' });
      assert.equal((await c(['get', '/s/k'])).stdout, 'one\n');
      const exists = await c(['mk', '/s/k', 'two']);
      assert.equal(exists.code, 4);
      assert.match(exists.stderr, /^Error: {2}105: Key already exists \(\/s\/k\) \[\d+\]\n$/);
      assert.equal(exists.stdout, '');
      assert.deepEqual(await c(['update', '/s/k', 'three']), { code: 0, signal: null, stdout: 'three\n', stderr: '' });
      const missing = await c(['get', '/s/missing']);
      assert.equal(missing.code, 4);
      assert.match(missing.stderr, /^Error: {2}100: Key not found \(\/s\/missing\) \[\d+\]\n$/);
      const updateMissing = await c(['update', '/s/none', 'x']);
      assert.equal(updateMissing.code, 4);
      assert.match(updateMissing.stderr, /^Error: {2}100: Key not found \(\/s\/none\) \[\d+\]\n$/);
    });

    test('get on a directory: "<key>: is a directory", exit 1', async () => {
      await httpWrite(target.clientUrl, 'PUT', '/isdir', { dir: 'true' });
      assert.deepEqual(await c(['get', '/isdir']), { code: 1, signal: null, stdout: '', stderr: '/isdir: is a directory\n' });
    });

    test('missing arguments exit 1; the value comes from stdin when the argument is missing', async () => {
      assert.deepEqual(await c(['get']), { code: 1, signal: null, stdout: '', stderr: 'Error:  Key required\n' });
      assert.deepEqual(await c(['set', '/s/empty'], ''), { code: 1, signal: null, stdout: '', stderr: 'Error:  Value required\n' });
      assert.deepEqual(await c(['set', '/s/stdin'], 'piped\n'), { code: 0, signal: null, stdout: 'piped\n\n', stderr: '' });
      assert.equal((await c(['-o', 'json', 'get', '/s/stdin'])).stdout.includes('"value":"piped\\n"'), true);
    });

    test('-o extended: Key, indexes, PrevNode.Value, TTL, Etcd/Raft headers, blank line, value', async () => {
      await put('/s/ext', 'old');
      const res = await c(['-o', 'extended', 'set', '/s/ext', 'new']);
      assert.equal(res.code, 0);
      assert.match(
        res.stdout,
        /^Key: \/s\/ext\nCreated-Index: (\d+)\nModified-Index: \1\nPrevNode\.Value: old\nTTL: 0\nEtcd-Index: \1\nRaft-Index: \d+\nRaft-Term: \d+\n\nnew\n$/,
      );
    });

    test('-o json: the go-etcd response with etcdIndex, raftIndex, raftTerm', async () => {
      const res = await c(['-o', 'json', 'set', '/s/json', 'a&b']);
      assert.equal(res.code, 0);
      const json = JSON.parse(res.stdout) as Record<string, unknown>;
      assert.deepEqual(Object.keys(json), ['action', 'node', 'etcdIndex', 'raftIndex', 'raftTerm']);
      const index = json.etcdIndex as number;
      assert.equal(res.stdout, `{"action":"set","node":{"key":"/s/json","value":"a\\u0026b","modifiedIndex":${index},"createdIndex":${index}},"etcdIndex":${index},"raftIndex":${json.raftIndex as number},"raftTerm":${json.raftTerm as number}}\n`);
      assert.deepEqual(await c(['-o', 'yaml', 'get', '/s/json']), { code: 0, signal: null, stdout: '', stderr: 'Unsupported output format: yaml\n' });
    });

    test('flags after positional arguments, single or double dash; TTL 0 means none', async () => {
      assert.equal((await c(['set', '/s/ttl', 'v', '--ttl', '100'])).code, 0);
      assert.match((await c(['-o', 'extended', 'get', '/s/ttl'])).stdout, /\nTTL: ([1-9]\d?|100)\n/);
      assert.equal((await c(['set', '-ttl=200', '/s/ttl', 'w'])).code, 0);
      assert.match((await c(['-o', 'extended', 'get', '/s/ttl'])).stdout, /\nTTL: (1\d\d|200)\n/);
      assert.equal((await c(['set', '/s/ttl', 'x', '--ttl', '0'])).code, 0);
      assert.match((await c(['-o', 'extended', 'get', '/s/ttl'])).stdout, /\nTTL: 0\n/);
    });

    test('set --swap-with-value / --swap-with-index compare and swap', async () => {
      const casIndex = await put('/s/cas', 'a');
      const bad = await c(['set', '/s/cas', 'b', '--swap-with-value', 'zzz']);
      assert.equal(bad.code, 4);
      assert.match(bad.stderr, /^Error: {2}101: Compare failed \(\[zzz != a\]\) \[\d+\]\n$/);
      const swapped = await c(['-o', 'json', 'set', '/s/cas', 'b', '--swap-with-value', 'a']);
      const modifiedIndex = (JSON.parse(swapped.stdout) as { node: { modifiedIndex: number } }).node.modifiedIndex;
      assert.ok(modifiedIndex > casIndex);
      const badIndex = await c(['set', '--swap-with-index', String(modifiedIndex + 1000), '/s/cas', 'c']);
      assert.match(badIndex.stderr, new RegExp(`^Error:  101: Compare failed \\(\\[${modifiedIndex + 1000} != ${modifiedIndex}\\]\\) \\[\\d+\\]\\n$`));
      assert.equal((await c(['set', '--swap-with-index', String(modifiedIndex), '/s/cas', 'c'])).stdout, 'c\n');
    });

    test('directories: mkdir, setdir (fails on an existing dir), updatedir, rmdir, rm', async () => {
      assert.deepEqual(await c(['mkdir', '/d/one']), { code: 0, signal: null, stdout: '', stderr: '' });
      const again = await c(['mkdir', '/d/one']);
      assert.match(again.stderr, /^Error: {2}105: Key already exists \(\/d\/one\) \[\d+\]\n$/);
      assert.deepEqual(await c(['setdir', '/d/two']), { code: 0, signal: null, stdout: '', stderr: '' });
      const setdirExisting = await c(['setdir', '/d/two']);
      assert.equal(setdirExisting.code, 4);
      assert.match(setdirExisting.stderr, /^Error: {2}102: Not a file \(\/d\/two\) \[\d+\]\n$/);
      assert.deepEqual(await c(['updatedir', '/d/two', '--ttl', '300']), { code: 0, signal: null, stdout: '', stderr: '' });
      assert.match((await c(['-o', 'json', 'ls', '/d'])).stdout, /^\/d\/(one|two)\n\/d\/(one|two)\n$/);
      await put('/d/one/f', 'v');
      const notEmpty = await c(['rmdir', '/d/one']);
      assert.equal(notEmpty.code, 4);
      assert.match(notEmpty.stderr, /^Error: {2}108: Directory not empty \(\/d\/one\) \[\d+\]\n$/);
      const notFile = await c(['rm', '/d/one']);
      assert.match(notFile.stderr, /^Error: {2}102: Not a file \(\/d\/one\) \[\d+\]\n$/);
      assert.deepEqual(await c(['rm', '/d/one/f']), { code: 0, signal: null, stdout: '\n', stderr: '' });
      assert.deepEqual(await c(['rmdir', '/d/one']), { code: 0, signal: null, stdout: '', stderr: '' });
      assert.deepEqual(await c(['rm', '--dir', '/d/two']), { code: 0, signal: null, stdout: '', stderr: '' });
      await put('/d/deep/a/b', 'v');
      assert.deepEqual(await c(['rm', '/d/deep', '-r']), { code: 0, signal: null, stdout: '', stderr: '' });
    });

    test('rm --with-value / --with-index compare and delete', async () => {
      await put('/s/cad', 'v');
      const bad = await c(['rm', '/s/cad', '--with-value', 'w']);
      assert.match(bad.stderr, /^Error: {2}101: Compare failed \(\[w != v\]\) \[\d+\]\n$/);
      assert.deepEqual(await c(['rm', '/s/cad', '--with-value', 'v']), { code: 0, signal: null, stdout: '\n', stderr: '' });
    });

    test('ls: --sort, -p, --recursive/-r; mk --in-order makes 20-digit sortable keys', async () => {
      for (const key of ['/l/b', '/l/a/x', '/l/c']) await put(key, 'v');
      assert.equal((await c(['ls', '--sort', '/l'])).stdout, '/l/a\n/l/b\n/l/c\n');
      assert.equal((await c(['ls', '/l', '-p', '--sort'])).stdout, '/l/a/\n/l/b\n/l/c\n');
      assert.equal((await c(['ls', '--recursive', '--sort', '/l'])).stdout, '/l/a\n/l/a/x\n/l/b\n/l/c\n');
      assert.equal((await c(['ls', '-r', '--sort', '/l'])).stdout, '/l/a\n/l/a/x\n/l/b\n/l/c\n');
      assert.equal((await c(['ls', '/l/b'])).stdout, '/l/b\n');
      assert.equal((await c(['mk', '--in-order', '/queue', 'first'])).stdout, 'first\n');
      assert.equal((await c(['mk', '/queue', 'second', '--in-order'])).stdout, 'second\n');
      const keys = (await c(['ls', '--sort', '/queue'])).stdout.trim().split('\n');
      assert.equal(keys.length, 2);
      for (const key of keys) assert.match(key, /^\/queue\/\d{20}$/);
      assert.deepEqual(await Promise.all(keys.map(async (key) => (await c(['get', key])).stdout)), ['first\n', 'second\n']);
    });

    test('watch prints the first change and exits 0; --after-index replays history; Ctrl-C exits 0', async () => {
      const watch = new CliProcess(['--debug', '-C', target.clientUrl, 'watch', '/w/k']);
      await watchRegistered(watch, target.clientUrl);
      await httpPut(target.clientUrl, '/w/k', 'changed');
      const first = await watch.done;
      assert.deepEqual([first.code, first.stdout], [0, 'changed\n']);
      const json = JSON.parse((await c(['-o', 'json', 'get', '/w/k'])).stdout) as { node: { modifiedIndex: number } };
      await httpPut(target.clientUrl, '/w/k', 'later');
      const replay = await c(['watch', '--after-index', String(json.node.modifiedIndex - 1), '/w/k']);
      assert.deepEqual(replay, { code: 0, signal: null, stdout: 'changed\n', stderr: '' });
      const idle = new CliProcess(['--debug', '-C', target.clientUrl, 'watch', '/w/never']);
      await watchRegistered(idle, target.clientUrl);
      idle.kill('SIGINT');
      const stopped = await idle.done;
      assert.deepEqual([stopped.code, stopped.signal, stopped.stdout], [0, null, '']);
    });

    test('watch --forever --recursive prints every file change (dir events skipped) until Ctrl-C', async () => {
      const from = await currentIndex(target.clientUrl);
      const watch = new CliProcess(['-C', target.clientUrl, 'watch', '--forever', '--recursive', '/wf', '--after-index', String(from)]);
      await httpPut(target.clientUrl, '/wf/a', '1');
      await httpWrite(target.clientUrl, 'PUT', '/wf/dir', { dir: 'true' });
      await httpPut(target.clientUrl, '/wf/b', '2');
      await httpWrite(target.clientUrl, 'DELETE', '/wf/a');
      await httpPut(target.clientUrl, '/wf/a', '3');
      await watch.waitForStdout((out) => out.endsWith('3\n'));
      watch.kill('SIGINT');
      assert.deepEqual(await watch.done, { code: 0, signal: null, stdout: '1\n2\n\n3\n', stderr: '' });
    });

    test("exec-watch --recursive /example -- sh -c 'echo $ETCD_WATCH_ACTION $ETCD_WATCH_KEY' prints one line per change, in order", async () => {
      const script = 'echo $ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_MODIFIED_INDEX';
      const from = String(await currentIndex(target.clientUrl));
      const variants = [
        ['exec-watch', '--after-index', from, '--recursive', '/example', '--', 'sh', '-c', script],
        ['exec-watch', '/example', '--recursive', '--after-index', from, '--', 'sh', '-c', script],
        ['exec-watch', '-recursive', '/example', '-after-index=' + from, '--', 'sh', '-c', script],
      ];
      const watchers = variants.map((args) => new CliProcess(['-C', target.clientUrl, ...args]));
      const indexes = [
        await httpWrite(target.clientUrl, 'PUT', '/example/a', { value: 'x' }),
        await httpWrite(target.clientUrl, 'PUT', '/example/a', { value: 'y', prevExist: 'true' }),
        await httpWrite(target.clientUrl, 'PUT', '/example/b', { value: 'z', prevExist: 'false' }),
        await httpWrite(target.clientUrl, 'DELETE', '/example/a'),
      ];
      const expected = `set /example/a x ${indexes[0]}\nupdate /example/a y ${indexes[1]}\ncreate /example/b z ${indexes[2]}\ndelete /example/a ${indexes[3]}\n`;
      for (const watcher of watchers) {
        await watcher.waitForStdout((out) => out.split('\n').length > 4);
        watcher.kill('SIGINT');
        assert.deepEqual(await watcher.done, { code: 0, signal: null, stdout: expected, stderr: '' });
      }
    });

    test('endpoints: --endpoints, ETCDCTL_PEERS, ETCDCTL_ENDPOINTS, a dead member in the list', async () => {
      await put('/e/k', 'ep');
      const deadPort = await freePort();
      const dead = `127.0.0.1:${deadPort}`;
      const found = { code: 0, signal: null, stdout: 'ep\n', stderr: '' };
      assert.deepEqual(await etcdctl(['--endpoints', target.clientUrl, '--timeout', '3s', '--total-timeout=10s', 'get', '/e/k']), found);
      assert.deepEqual(await etcdctl(['get', '/e/k'], { env: { ETCDCTL_PEERS: `${dead},${target.clientUrl}` } }), found);
      assert.deepEqual(await etcdctl(['get', '/e/k'], { env: { ETCDCTL_ENDPOINTS: target.clientUrl, ETCDCTL_PEERS: dead } }), found);
      assert.deepEqual(await etcdctl(['--no-sync', '-C', dead, '-C', target.clientUrl, 'get', '/e/k']), { code: 0, signal: null, stdout: 'ep\n', stderr: '' });
      assert.deepEqual(await etcdctl(['-C', `${dead},${target.clientUrl}`, 'get', '/e/k']), { code: 0, signal: null, stdout: 'ep\n', stderr: '' });
    });

    test('a member dying during watch --forever: transparent failover; the whole cluster gone: exit 255', async () => {
      const proxy = await startProxy(target.clientUrl);
      const from = String(await currentIndex(target.clientUrl));
      const watch = new CliProcess(['--no-sync', '-C', `${proxy.url},${target.clientUrl}`, 'watch', '-f', '/fo/k', '--after-index', from]);
      await httpPut(target.clientUrl, '/fo/k', 'before');
      await watch.waitForStdout((out) => out === 'before\n');
      await proxy.cut();
      await httpPut(target.clientUrl, '/fo/k', 'after');
      await watch.waitForStdout((out) => out === 'before\nafter\n');
      watch.kill('SIGINT');
      assert.deepEqual(await watch.done, { code: 0, signal: null, stdout: 'before\nafter\n', stderr: '' });

      const lonely = await startProxy(target.clientUrl);
      const lost = new CliProcess(['--no-sync', '--total-timeout', '1s', '-C', lonely.url, 'watch', '--forever', '/fo/k', '--after-index', from]);
      await lost.waitForStdout((out) => out === 'before\nafter\n');
      await lonely.cut();
      assert.deepEqual(await lost.done, {
        code: 255,
        signal: null,
        stdout: 'before\nafter\n',
        stderr: 'Error:  501: All the given peers are not reachable (Tried to connect to each peer twice and failed) [0]\n',
      });
    });

    test('unreachable endpoints: sync failure exits 2, request failure exits 4, never a stack trace', async () => {
      const dead = `127.0.0.1:${await freePort()}`;
      assert.deepEqual(await etcdctl(['-C', dead, 'get', '/e/k']), {
        code: 2,
        signal: null,
        stdout: '',
        stderr: `Error:  Cannot sync with the cluster using peers ${dead}\n`,
      });
      assert.deepEqual(await etcdctl(['--no-sync', '-C', dead, 'set', '/e/k', 'v']), {
        code: 4,
        signal: null,
        stdout: '',
        stderr: 'Error:  501: All the given peers are not reachable (Tried to connect to each peer twice and failed) [0]\n',
      });
    });

    test('--debug prints Cluster-Peers and curl equivalents on stderr', async () => {
      const res = await c(['--debug', 'get', '/s/k']);
      assert.equal(res.stdout, 'three\n');
      assert.match(res.stderr, new RegExp(`^Cluster-Peers: ${target.clientUrl}$`, 'm'));
      assert.match(res.stderr, new RegExp(`^Curl-Example: curl -X GET ${target.clientUrl}/v2/keys/s/k$`, 'm'));
      const put = await c(['--debug', '--no-sync', 'set', '/s/dbg', 'v', '--ttl', '9']);
      assert.match(put.stderr, new RegExp(`^Curl-Example: curl -X PUT ${target.clientUrl}/v2/keys/s/dbg -d value=v&ttl=9$`, 'm'));
    });

    test('--version, --help, unknown command and flag', async () => {
      assert.deepEqual(await etcdctl(['--version']), { code: 0, signal: null, stdout: 'etcdctl version 0.4.5\n', stderr: '' });
      const help = await etcdctl(['--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^USAGE:\n {3}etcdctl \[global options\] command \[command options\] \[arguments\.\.\.\]$/m);
      assert.match(help.stdout, /^ {3}exec-watch +watch a key for changes and exec an executable$/m);
      assert.deepEqual(await etcdctl(['frobnicate']), { code: 1, signal: null, stdout: '', stderr: 'Error:  unknown command "frobnicate" (see etcdctl --help)\n' });
      assert.deepEqual(await c(['get', '--bogus', '/s/k']), { code: 1, signal: null, stdout: '', stderr: 'Error:  flag provided but not defined: -bogus\n' });
    });

    test('member list and cluster-health', async () => {
      const list = await c(['member', 'list']);
      assert.equal(list.code, 0);
      const match = new RegExp(`^([0-9a-f]+): name=\\S+ peerURLs=http://127\\.0\\.0\\.1:\\d+ clientURLs=${target.clientUrl} isLeader=true\\n$`).exec(list.stdout);
      assert.ok(match, list.stdout);
      const id = match[1] ?? '';
      assert.deepEqual(await c(['cluster-health']), {
        code: 0,
        signal: null,
        stdout: `member ${id} is healthy: got healthy result from ${target.clientUrl}\ncluster is healthy\n`,
        stderr: '',
      });
      assert.deepEqual(await c(['member', 'remove', 'ffffffffffff']), { code: 1, signal: null, stdout: '', stderr: "Couldn't find a member in the cluster with an ID of ffffffffffff.\n" });
      assert.deepEqual(await c(['member', 'add', 'only-name']), { code: 1, signal: null, stdout: '', stderr: 'Error:  Provide a name and a single member peerURL\n' });
    });
  });
}
