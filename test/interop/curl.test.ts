import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { nextWriteIndex, runClient, startClient, waitForWatchers, watcherCount } from './clients.js';
import { inOrderName } from './etcdctl-session.js';
import { startPair, type ServerPair, type Target } from './servers.js';

/**
 * The tutorial's curl commands (always with -L, as it says) against our member, exact bodies and
 * status codes; the key-space requests also go to a real etcd 3.4 and must give the same bodies
 * there, up to the index offset and the §17 root key.
 */

let pair: ServerPair;

before(async () => {
  pair = await startPair('interop-curl');
});
after(async () => {
  await pair.stop();
});

/** `curl -sL <args>`; the status code is appended as a last line `[NNN]`. */
async function curl(args: readonly string[]): Promise<string> {
  const run = await runClient('curl', ['-sSL', '-w', '[%{http_code}]', ...args]);
  assert.equal(run.code, 0, `curl ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

const SEMAPHORE = '{"semaphore":1,"max":1,"holders":null}';
const SEMAPHORE_JSON = '"{\\"semaphore\\":1,\\"max\\":1,\\"holders\\":null}"';

/** Where §17 makes our answer differ from etcd 3.4's on purpose. */
interface Section17 {
  /** Our root node carries "key":"/"; etcd 3.4 leaves it out. */
  readonly rootKey: string;
  /** A validation error carries the current etcd index with us; etcd 3.4 sends 0. */
  validationIndex(current: number): number;
}

const OURS: Section17 = { rootKey: '"key":"/",', validationIndex: (current) => current };
const ETCD_34: Section17 = { rootKey: '', validationIndex: () => 0 };

/** The tutorial's key-space requests, in order, with their output when the first write got index b. */
function keySpaceSession(url: string, b: number, decisions: Section17): { args: string[]; output: string }[] {
  const semaphore = `{"key":"/coreos.com/updateengine/rebootlock/semaphore","value":${SEMAPHORE_JSON},"modifiedIndex":${b},"createdIndex":${b}}`;
  const rebootlock = `{"key":"/coreos.com/updateengine/rebootlock","dir":true,"nodes":[${semaphore}],"modifiedIndex":${b},"createdIndex":${b}}`;
  const updateengine = `{"key":"/coreos.com/updateengine","dir":true,"nodes":[${rebootlock}],"modifiedIndex":${b},"createdIndex":${b}}`;
  const message = (value: string, index: number): string => `{"key":"/message","value":"${value}","modifiedIndex":${index},"createdIndex":${index}}`;
  const job = `{"key":"/queue/${inOrderName(b + 3)}","value":"Job1","modifiedIndex":${b + 3},"createdIndex":${b + 3}}`;
  return [
    { args: ['-XPUT', `${url}/v2/keys/coreos.com/updateengine/rebootlock/semaphore`, '--data-urlencode', `value=${SEMAPHORE}`], output: `{"action":"set","node":${semaphore}}\n[201]` },
    { args: [`${url}/v2/keys/`], output: `{"action":"get","node":{${decisions.rootKey}"dir":true,"nodes":[{"key":"/coreos.com","dir":true,"modifiedIndex":${b},"createdIndex":${b}}]}}\n[200]` },
    {
      args: [`${url}/v2/keys/?recursive=true`],
      output: `{"action":"get","node":{${decisions.rootKey}"dir":true,"nodes":[{"key":"/coreos.com","dir":true,"nodes":[${updateengine}],"modifiedIndex":${b},"createdIndex":${b}}]}}\n[200]`,
    },
    { args: [`${url}/v2/keys/message`, '-XPUT', '-d', 'value=Hello world'], output: `{"action":"set","node":${message('Hello world', b + 1)}}\n[201]` },
    { args: [`${url}/v2/keys/message`], output: `{"action":"get","node":${message('Hello world', b + 1)}}\n[200]` },
    { args: [`${url}/v2/keys/message`, '-XPUT', '-d', 'value=Hello etcd'], output: `{"action":"set","node":${message('Hello etcd', b + 2)},"prevNode":${message('Hello world', b + 1)}}\n[200]` },
    // A doubled slash is answered with a redirect to the clean path, which -L follows.
    { args: [`${url}/v2/keys//message`], output: `{"action":"get","node":${message('Hello etcd', b + 2)}}\n[200]` },
    { args: [`${url}/v2/keys/queue`, '-XPOST', '-d', 'value=Job1'], output: `{"action":"create","node":${job}}\n[201]` },
    { args: [`${url}/v2/keys/message?wait=true&waitIndex=${b + 1}`], output: `{"action":"set","node":${message('Hello world', b + 1)}}\n[200]` },
    { args: [`${url}/v2/keys/message`, '-XPUT', '-d', 'value=x', '-d', 'prevExist=false'], output: `{"errorCode":105,"message":"Key already exists","cause":"/message","index":${b + 3}}\n[412]` },
    { args: [`${url}/v2/keys/message?prevValue=nope`, '-XDELETE'], output: `{"errorCode":101,"message":"Compare failed","cause":"[nope != Hello etcd]","index":${b + 3}}\n[412]` },
    {
      args: [`${url}/v2/keys/message`, '-XDELETE'],
      output: `{"action":"delete","node":{"key":"/message","modifiedIndex":${b + 4},"createdIndex":${b + 2}},"prevNode":${message('Hello etcd', b + 2)}}\n[200]`,
    },
    { args: [`${url}/v2/keys/message`], output: `{"errorCode":100,"message":"Key not found","cause":"/message","index":${b + 4}}\n[404]` },
    { args: [`${url}/v2/keys/dir?dir=true`, '-XPUT'], output: `{"action":"set","node":{"key":"/dir","dir":true,"modifiedIndex":${b + 5},"createdIndex":${b + 5}}}\n[201]` },
    { args: [`${url}/v2/keys/dir`, '-XPUT', '-d', 'value=file'], output: `{"errorCode":102,"message":"Not a file","cause":"/dir","index":${b + 5}}\n[403]` },
    { args: [`${url}/v2/keys/dir?ttl=abc`, '-XPUT', '-d', 'dir=true', '-d', 'prevExist=true'], output: `{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \\"ttl\\"","index":${decisions.validationIndex(b + 5)}}\n[400]` },
  ];
}

async function runKeySpaceSession(target: Target, decisions: Section17): Promise<void> {
  const base = await nextWriteIndex(target.clientUrl);
  for (const step of keySpaceSession(target.clientUrl, base, decisions)) {
    assert.equal(await curl(step.args), step.output, `[${target.label}] curl -L ${step.args.join(' ')}`);
  }
}

test('the tutorial key space over curl -L: exact bodies and status codes, the same as etcd 3.4', async () => {
  assert.equal(await nextWriteIndex(pair.ours.clientUrl), 3, 'the first user key gets index 3, as in the tutorial');
  await Promise.all([runKeySpaceSession(pair.targets[0] as Target, OURS), runKeySpaceSession(pair.targets[1] as Target, ETCD_34)]);
});

test('curl -L /version prints the tutorial\'s text; with Accept: application/json, JSON', async () => {
  const url = pair.ours.clientUrl;
  assert.equal(await curl([`${url}/version`]), 'etcd 0.4.6[200]');
  assert.match(await curl(['-H', 'Accept: application/json', `${url}/version`]), /^\{"etcdserver":"\d+\.\d+\.\d+","etcdcluster":"\d+\.\d+\.\d+"\}\n?\[200\]$/);
});

test('curl -L /v2/stats/leader, /self, /store give the tutorial\'s shapes', async () => {
  const url = pair.ours.clientUrl;
  const id = ((await (await fetch(`${url}/v2/members`)).json()) as { members: { id: string }[] }).members[0]?.id ?? '';
  assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(await curl([`${url}/v2/stats/leader`]), `{"leader":"${id}","followers":{}}\n[200]`);
  const time = '"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z"';
  assert.match(
    await curl([`${url}/v2/stats/self`]),
    new RegExp(`^\\{"name":"interop-curl","id":"${id}","state":"leader","startTime":${time},"leaderInfo":\\{"leader":"${id}","uptime":"[0-9hms.]+","startTime":${time}\\},"recvAppendRequestCnt":0,"sendAppendRequestCnt":0\\}\\n\\[200\\]$`),
  );
  const counters = ['getsSuccess', 'getsFail', 'setsSuccess', 'setsFail', 'deleteSuccess', 'deleteFail', 'updateSuccess', 'updateFail', 'createSuccess', 'createFail',
    'compareAndSwapSuccess', 'compareAndSwapFail', 'compareAndDeleteSuccess', 'compareAndDeleteFail', 'expireCount', 'watchers'];
  const store = await curl([`${url}/v2/stats/store`]);
  assert.match(store, new RegExp(`^\\{${counters.map((c) => `"${c}":\\d+`).join(',')}\\}\\n\\[200\\]$`));
});

test('the store stats count a parked curl watch, and drop it when curl goes away', async () => {
  const url = pair.ours.clientUrl;
  const before = await watcherCount(url);
  const watch = startClient('curl', ['-sL', `${url}/v2/keys/curl/watched?wait=true`]);
  await waitForWatchers(url, before + 1);
  await watch.kill('SIGKILL');
  const deadline = Date.now() + 5_000;
  while ((await watcherCount(url)) !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await watcherCount(url), before);
});

test('curl -L /v2/machines, /v2/leader, /v2/members and /health on our member', async () => {
  const { clientUrl: url, peerUrl } = pair.ours;
  assert.equal(await curl([`${url}/v2/machines`]), `${url}[200]`);
  assert.equal(await curl([`${url}/v2/leader`]), `${peerUrl}[200]`);
  assert.match(await curl([`${url}/v2/members`]), new RegExp(`^\\{"members":\\[\\{"id":"[0-9a-f]{16}","name":"interop-curl","peerURLs":\\["${peerUrl}"\\],"clientURLs":\\["${url}"\\]\\}\\]\\}\\n\\[200\\]$`));
  assert.equal(await curl([`${url}/health`]), '{"health":"true"}[200]');
});
