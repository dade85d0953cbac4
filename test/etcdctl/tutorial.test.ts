/**
 * The tutorial (shared/seed/000_2c5638bddfc2d9cd.txt, DigitalOcean 2014, "How to use etcdctl
 * and etcd") as a test: every etcdctl and curl command, in its order, against a fresh member of
 * our server, each output compared with what the tutorial shows. Index numbers differ (masked);
 * the member is named like the tutorial's machine so ids match. The cluster is preloaded with
 * what the tutorial's CoreOS cluster had: the update engine's semaphore and fleet's hidden tree.
 * etcdctl finds the member through ETCDCTL_PEERS, so every command line is the tutorial's own.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { CliProcess, etcdctl, etcdctlPath, type CliResult } from './harness.js';

const machineName = '921a7241c31a499a97d43f785108b17c';
const tutorialConfig = '{"activeSize":9,"removeDelay":1800,"syncInterval":5}';
const semaphore = '{"semaphore":1,"max":1,"holders":null}';
const fleetKeys = [
  '/_coreos.com/fleet/states/apache@6666.service/2ddbdb7c872b4bc59dd1969ac166501e',
  '/_coreos.com/fleet/states/apache@7777.service/921a7241c31a499a97d43f785108b17c',
];

/** Index numbers are the one thing allowed to differ from the tutorial. */
function maskIndexes(text: string): string {
  return text
    .replace(/^(Created-Index|Modified-Index|Etcd-Index|Raft-Index|Raft-Term): \d+$/gm, '$1: N')
    .replace(/"(modifiedIndex|createdIndex)":\d+/g, '"$1":N');
}

function curl(args: readonly string[]): string {
  const res = spawnSync('curl', ['-s', '-L', ...args], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(res.status, 0, `curl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

async function watcherCount(clientUrl: string): Promise<number> {
  const stats = (await (await fetch(`${clientUrl}/v2/stats/store`)).json()) as { watchers: number };
  return stats.watchers;
}

async function waitForWatchers(clientUrl: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await watcherCount(clientUrl)) < atLeast) {
    assert.ok(Date.now() < deadline, 'the watch never registered');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the tutorial, command by command, against our server', { timeout: 240_000 }, () => {
  let member: EtcdProcess;
  let env: Record<string, string>;
  const run = (line: string, stdin?: string): Promise<CliResult> => {
    const args = line.split(/\s+/).filter((a) => a !== '').slice(1);
    return etcdctl(args, { env, ...(stdin !== undefined ? { stdin } : {}) });
  };
  const ok = (stdout: string): CliResult => ({ code: 0, signal: null, stdout, stderr: '' });

  before(async () => {
    member = await startEtcd({ name: machineName, startTimeoutMs: 30_000 });
    env = { ETCDCTL_PEERS: member.clientUrl };
    // The tutorial's cluster is up and registered: wait for this member's /_etcd/machines entry.
    const deadline = Date.now() + 30_000;
    while ((await fetch(`${member.clientUrl}/v2/keys/_etcd/machines/${machineName}`)).status !== 200) {
      assert.ok(Date.now() < deadline, 'the member never registered in /_etcd/machines');
      await new Promise((r) => setTimeout(r, 50));
    }
    const put = async (key: string, value: string): Promise<void> => {
      const res = await fetch(`${member.clientUrl}/v2/keys${key}`, { method: 'PUT', body: new URLSearchParams({ value }) });
      assert.ok(res.status < 300, await res.text());
    };
    await put('/coreos.com/updateengine/rebootlock/semaphore', semaphore);
    for (const key of fleetKeys) await put(key, '{"state":"launched"}');
  });
  after(async () => member.remove());

  test('etcdctl ls /_etcd/machines --recursive; etcdctl get /_etcd/machines/<id>', async () => {
    assert.deepEqual(await run('etcdctl ls /_etcd/machines --recursive'), ok(`/_etcd/machines/${machineName}\n`));
    const hostPort = (url: string): string => encodeURIComponent(url).replace(/%2F/g, '%2F');
    assert.deepEqual(await run(`etcdctl get /_etcd/machines/${machineName}`), ok(`etcd=${hostPort(member.clientUrl)}&raft=${hostPort(member.peerUrl)}\n`));
  });

  test('viewing keys and directories: ls, get on a dir, ls --recursive, get, -o extended', async () => {
    assert.deepEqual(await run('etcdctl ls /'), ok('/coreos.com\n'));
    assert.deepEqual(await run('etcdctl get /coreos.com'), { code: 1, signal: null, stdout: '', stderr: '/coreos.com: is a directory\n' });
    assert.deepEqual(
      await run('etcdctl ls / --recursive'),
      ok('/coreos.com\n/coreos.com/updateengine\n/coreos.com/updateengine/rebootlock\n/coreos.com/updateengine/rebootlock/semaphore\n'),
    );
    assert.deepEqual(await run('etcdctl get /coreos.com/updateengine/rebootlock/semaphore'), ok(`${semaphore}\n`));
    const extended = await run('etcdctl -o extended get /coreos.com/updateengine/rebootlock/semaphore');
    const tutorial = [
      'Key: /coreos.com/updateengine/rebootlock/semaphore',
      'Created-Index: 6',
      'Modified-Index: 6',
      'TTL: 0',
      'Etcd-Index: 170387',
      'Raft-Index: 444099',
      'Raft-Term: 8',
      '',
      semaphore,
      '',
    ].join('\n');
    assert.deepEqual({ ...extended, stdout: maskIndexes(extended.stdout) }, ok(maskIndexes(tutorial)));
  });

  test('setting keys and creating nodes: mkdir, mk, get, update, mkdir --ttl, updatedir --ttl, set, setdir', async () => {
    assert.deepEqual(await run('etcdctl mkdir /example'), ok(''));
    assert.deepEqual(await run('etcdctl mk /example/key data'), ok('data\n'));
    assert.deepEqual(await run('etcdctl get /example/key'), ok('data\n'));
    assert.deepEqual(await run('etcdctl update /example/key turtles'), ok('turtles\n'));
    assert.deepEqual(await run('etcdctl mkdir /here/you/go --ttl 120'), ok(''));
    const ttlOf = async (): Promise<number> => {
      const res = (await (await fetch(`${member.clientUrl}/v2/keys/here/you/go`)).json()) as { node: { ttl: number } };
      return res.node.ttl;
    };
    assert.ok((await ttlOf()) <= 120 && (await ttlOf()) > 60);
    assert.deepEqual(await run('etcdctl updatedir /here/you/go --ttl 500'), ok(''));
    assert.ok((await ttlOf()) > 400, 'updatedir --ttl 500 changed the TTL');
    assert.deepEqual(await run('etcdctl set /example/key new'), ok('new\n'));
    assert.deepEqual(await run('etcdctl set /a/b/c here'), ok('here\n'));
    assert.deepEqual(await run('etcdctl setdir /x/y/z'), ok(''));
    // The tutorial's note: setdir fails once the directory exists (it behaves like updatedir).
    const again = await run('etcdctl setdir /x/y/z');
    assert.equal(again.code, 4);
    assert.match(again.stderr, /^Error: {2}102: Not a file \(\/x\/y\/z\) \[\d+\]\n$/);
  });

  test('removing entries: rm, rm --recursive, rmdir', async () => {
    assert.deepEqual(await run('etcdctl rm /a/b/c'), ok('\n'));
    assert.deepEqual(await run('etcdctl rm /a --recursive'), ok(''));
    assert.deepEqual(await run('etcdctl rmdir /x/y/z'), ok(''));
    assert.equal((await fetch(`${member.clientUrl}/v2/keys/a`)).status, 404);
  });

  test('watching for changes: watch, Ctrl-C, watch --recursive', async () => {
    const interrupted = new CliProcess(['watch', '/example/hello'], { env });
    await waitForWatchers(member.clientUrl, 1);
    interrupted.kill('SIGINT');
    assert.deepEqual(await interrupted.done, ok(''));

    const watch = new CliProcess(['watch', '/example/hello'], { env });
    await waitForWatchers(member.clientUrl, 1);
    assert.deepEqual(await run('etcdctl set /example/hello world'), ok('world\n'));
    assert.deepEqual(await watch.done, ok('world\n'));

    const recursive = new CliProcess(['watch', '--recursive', '/example'], { env });
    await waitForWatchers(member.clientUrl, 1);
    await run('etcdctl set /example/key newer');
    assert.deepEqual(await recursive.done, ok('newer\n'));
  });

  test('while true; do etcdctl watch --recursive /example; done', async () => {
    const loop = spawn('sh', ['-c', `while true; do "${process.execPath}" "${etcdctlPath()}" watch --recursive /example; done`], {
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    loop.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      for (const value of ['one', 'two', 'three']) {
        await waitForWatchers(member.clientUrl, 1);
        await run(`etcdctl set /example/loop ${value}`);
        const deadline = Date.now() + 30_000;
        while (!stdout.endsWith(`${value}\n`)) {
          assert.ok(Date.now() < deadline, `the loop did not print ${value}: ${stdout}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      }
      assert.equal(stdout, 'one\ntwo\nthree\n');
    } finally {
      if (loop.pid !== undefined) process.kill(-loop.pid, 'SIGKILL');
    }
  });

  test('etcdctl exec-watch --recursive  /example -- echo "hello"', async () => {
    while ((await watcherCount(member.clientUrl)) > 0) await new Promise((r) => setTimeout(r, 25));
    const execWatch = new CliProcess(['exec-watch', '--recursive', '/example', '--', 'echo', 'hello'], { env });
    await waitForWatchers(member.clientUrl, 1);
    await run('etcdctl set /example/key again');
    await execWatch.waitForStdout((out) => out === 'hello\n');
    execWatch.kill('SIGINT');
    assert.deepEqual(await execWatch.done, ok('hello\n'));
  });

  test('hidden values: ls --recursive /_coreos.com and /_etcd', async () => {
    assert.deepEqual(
      await run('etcdctl ls --recursive /_coreos.com'),
      ok(
        [
          '/_coreos.com/fleet',
          '/_coreos.com/fleet/states',
          '/_coreos.com/fleet/states/apache@6666.service',
          '/_coreos.com/fleet/states/apache@6666.service/2ddbdb7c872b4bc59dd1969ac166501e',
          '/_coreos.com/fleet/states/apache@7777.service',
          '/_coreos.com/fleet/states/apache@7777.service/921a7241c31a499a97d43f785108b17c',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(await run('etcdctl ls --recursive /_etcd'), ok(`/_etcd/machines\n/_etcd/machines/${machineName}\n/_etcd/config\n`));
    assert.deepEqual(await run('etcdctl ls /'), ok('/coreos.com\n/example\n/here\n/x\n'));
  });

  test('HTTP API: curl -L the key space, recursively, /version', async () => {
    const url = member.clientUrl;
    const dir = (key: string): string => `{"key":"${key}","dir":true,"modifiedIndex":N,"createdIndex":N}`;
    assert.equal(
      maskIndexes(curl([`${url}/v2/keys/`]).trimEnd()),
      `{"action":"get","node":{"key":"/","dir":true,"nodes":[${['/coreos.com', '/example', '/here', '/x'].map(dir).join(',')}]}}`,
    );
    const tutorialPrefix =
      '{"action":"get","node":{"key":"/","dir":true,"nodes":[{"key":"/coreos.com","dir":true,"nodes":[{"key":"/coreos.com/updateengine","dir":true,"nodes":[{"key":"/coreos.com/updateengine/rebootlock","dir":true,"nodes":[{"key":"/coreos.com/updateengine/rebootlock/semaphore","value":"{\\"semaphore\\":1,\\"max\\":1,\\"holders\\":null}","modifiedIndex":6,"createdIndex":6}],"modifiedIndex":6,"createdIndex":6}],"modifiedIndex":6,"createdIndex":6}],"modifiedIndex":6,"createdIndex":6}';
    const recursive = maskIndexes(curl([`${url}/v2/keys/?recursive=true`]));
    assert.ok(recursive.startsWith(maskIndexes(tutorialPrefix)), recursive);
    assert.equal(curl([`${url}/version`]), 'etcd 0.4.6');
  });

  test('HTTP API: curl -L /v2/stats/leader, /v2/stats/self, /v2/stats/store', async () => {
    const url = member.clientUrl;
    assert.match(curl([`${url}/v2/stats/leader`]), /^\{"leader":"[0-9a-f]{16}","followers":\{\}\}\n?$/);
    const self = JSON.parse(curl([`${url}/v2/stats/self`])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(self), ['name', 'id', 'state', 'startTime', 'leaderInfo', 'recvAppendRequestCnt', 'sendAppendRequestCnt']);
    assert.equal(self.name, machineName);
    assert.deepEqual(Object.keys(self.leaderInfo as object), ['leader', 'uptime', 'startTime']);
    const store = JSON.parse(curl([`${url}/v2/stats/store`])) as Record<string, unknown>;
    const tutorialStore = JSON.parse(
      '{"getsSuccess":78823,"getsFail":14,"setsSuccess":121370,"setsFail":4,"deleteSuccess":28,"deleteFail":32,"updateSuccess":20468,"updateFail":4,"createSuccess":39,"createFail":102340,"compareAndSwapSuccess":51169,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":3,"watchers":6}',
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(store), Object.keys(tutorialStore));
    for (const value of Object.values(store)) assert.equal(typeof value, 'number');
  });

  test('configuration: curl -L :7001/v2/admin/config (GET, then PUT) and /v2/admin/machines', async () => {
    const peer = member.peerUrl;
    assert.equal(curl([`${peer}/v2/admin/config`]).trimEnd(), tutorialConfig);
    assert.equal(curl([`${peer}/v2/admin/config`, '-XPUT', '-d', tutorialConfig]).trimEnd(), tutorialConfig);
    assert.equal(
      curl([`${peer}/v2/admin/machines`]).trimEnd(),
      `[{"name":"${machineName}","state":"leader","clientURL":"${member.clientUrl}","peerURL":"${peer}"}]`,
    );
  });
});
