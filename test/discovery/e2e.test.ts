/**
 * The tutorial's discovery end to end (issue 5): bin/etcd-discovery hands out a token, members
 * started with its URL form one cluster (all at once, or one after another), the token lists
 * them with a week's TTL, `etcdctl ls /_etcd/machines --recursive` on each lists all three; a
 * wiped member is refused while its cluster runs and cannot join once it is gone; a size=5
 * token makes five voters, or three and two standbys under -cluster-active-size 3; the
 * tutorial's cloud-config and systemd drop-in start members that register at the token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHORT_TIMINGS, waitForAgreedLeader } from '../support/cluster.js';
import { startDiscoveryService, type DiscoveryService } from '../support/discovery-service.js';
import { repoRoot, type EtcdProcess } from '../support/etcd-process.js';
import { freePorts } from '../support/ports.js';
import {
  assertRegistered,
  DiscoveryMembers,
  FAST_JOIN,
  membersOf,
  registryEntries,
  runEtcdToExit,
  spawnEtcd,
  waitForOneCluster,
  waitUntil,
} from './member-harness.js';

/** `curl $DISC/new` (optionally `?size=N`): the token URL, as text. */
async function newTokenUrl(service: DiscoveryService, query = ''): Promise<{ url: string; token: string }> {
  const res = await fetch(`${service.url}/new${query}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const match = /^http:\/\/127\.0\.0\.1:[0-9]+\/([0-9a-f]{32})$/.exec(text);
  assert.ok(match !== null && text.startsWith(service.url), `not a token URL of ${service.url}: ${JSON.stringify(text)}`);
  return { url: text, token: match[1] ?? '' };
}

function etcdctlLsMachines(member: EtcdProcess): string[] {
  const run = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'etcdctl'), '--peers', member.clientUrl, 'ls', '/_etcd/machines', '--recursive'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  assert.equal(run.stderr, '');
  return run.stdout.split('\n').filter((line) => line !== '').sort();
}

/** A standby sends every client request to the leader's client URL (spec §9.4). */
async function assertStandby(member: EtcdProcess, leaderClientUrl: string): Promise<void> {
  const res = await fetch(`${member.clientUrl}/v2/keys/probe?x=1`, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  assert.equal(res.status, 307, `${member.name} is not a standby`);
  assert.equal(res.headers.get('location'), `${leaderClientUrl}/v2/keys/probe?x=1`);
}


describe('discovery end to end with bin/etcd-discovery', () => {
  let service: DiscoveryService;
  let members: DiscoveryMembers;

  before(async () => {
    service = await startDiscoveryService();
    members = new DiscoveryMembers();
  });
  after(async () => {
    await members.remove();
    await service.remove();
  });

  test("a fresh token's empty registry, then three members started all at once form one cluster", async () => {
    const { url, token } = await newTokenUrl(service);
    const empty = await fetch(url);
    const emptyText = await empty.text();
    const index = (JSON.parse(emptyText) as { node: { createdIndex: number } }).node.createdIndex;
    assert.equal(emptyText, `{"action":"get","node":{"key":"/_etcd/registry/${token}","dir":true,"modifiedIndex":${index},"createdIndex":${index}}}\n`);

    const cluster = await members.startAll(['a1', 'a2', 'a3'], url);
    const ids = await waitForOneCluster(cluster);
    const views = await Promise.all(cluster.map((m) => membersOf(m)));
    for (const view of views) assert.deepEqual(view, views[0]);
    assert.deepEqual([...ids.keys()].sort(), ['a1', 'a2', 'a3']);

    assertRegistered(await registryEntries(url), `/_etcd/registry/${token}`, cluster);
    for (const member of cluster) {
      assert.deepEqual(etcdctlLsMachines(member), ['/_etcd/machines/a1', '/_etcd/machines/a2', '/_etcd/machines/a3']);
    }
  });

  test('one after another; then a wiped member is refused while the cluster runs, and cannot join once it is gone', async () => {
    const { url, token } = await newTokenUrl(service);
    const cluster: EtcdProcess[] = [];
    for (const name of ['b1', 'b2', 'b3']) cluster.push(await members.start(name, url));
    const ids = await waitForOneCluster(cluster);
    assertRegistered(await registryEntries(url), `/_etcd/registry/${token}`, cluster);

    const wiped = cluster[2] as EtcdProcess;
    assert.equal(await wiped.stop(), 0);
    rmSync(wiped.dataDir, { recursive: true, force: true });
    const restartArgs = [
      '-name', wiped.name, '-data-dir', wiped.dataDir,
      '-addr', wiped.clientUrl.replace('http://', ''), '-peer-addr', wiped.peerUrl.replace('http://', ''),
      ...SHORT_TIMINGS, '-discovery', url, '-retry-interval', '0.2',
    ];
    const refused = await runEtcdToExit(restartArgs);
    assert.equal(refused.code, 1, refused.output);
    const id = ids.get('b3') ?? '';
    const leaderPeer = /DELETE (http:\/\/127\.0\.0\.1:[0-9]+)\/v2\/admin\/machines/.exec(refused.output)?.[1] ?? '';
    assert.ok([cluster[0]?.peerUrl, cluster[1]?.peerUrl].includes(leaderPeer), refused.output);
    assert.ok(
      refused.output.endsWith(
        `etcd: member b3 is already in the cluster as ${id} and this data dir is empty: remove it first ` +
          `(DELETE ${leaderPeer}/v2/admin/machines/b3, or etcdctl member remove ${id}) or start it with a new name\n`,
      ),
      refused.output,
    );

    // The whole cluster gone; the token still says `started` and lists the dead peers for a week.
    await Promise.all(cluster.slice(0, 2).map((m) => m.stop()));
    rmSync(wiped.dataDir, { recursive: true, force: true });
    const lost = await runEtcdToExit(restartArgs);
    assert.equal(lost.code, 1, lost.output);
    assert.ok(lost.output.endsWith('etcd: fail joining the cluster via given peers after 3 retries\n'), lost.output);
    assert.ok(lost.elapsedMs < 10_000, `took ${lost.elapsedMs} ms`);
  });

  test('a size=5 token and a founder with -cluster-active-size 3: three voters and two standbys', async () => {
    const { url } = await newTokenUrl(service, '?size=5');
    const names = ['c1', 'c2', 'c3', 'c4', 'c5'];
    const started = await members.startAll(names, url, () => ['-cluster-active-size', '3']);
    let voters: EtcdProcess[] = [];
    await waitUntil('three voters', async () => {
      const anyView = await membersOf(started[0] as EtcdProcess).catch(() => []);
      voters = started.filter((m) => anyView.some((v) => v.name === m.name));
      return voters.length === 3;
    }, 15_000);
    await waitForOneCluster(voters);
    const standbys = started.filter((m) => !voters.includes(m));
    assert.equal(standbys.length, 2);
    const leader = await waitForAgreedLeader(() => voters, 5000);
    for (const standby of standbys) {
      await assertStandby(standby, leader.clientUrl);
      assert.ok(standby.output().includes(`${standby.name} is a standby: the cluster is full`), standby.output());
    }
    const config = await fetch(`${(voters[0] as EtcdProcess).peerUrl}/v2/admin/config`);
    assert.deepEqual(await config.json(), { activeSize: 3, removeDelay: 1800, syncInterval: 5 });
    await Promise.all(started.map((m) => m.stop()));
  });

  test('a size=5 token without -cluster-active-size: five voters, activeSize 5', async () => {
    const { url, token } = await newTokenUrl(service, '?size=5');
    const started = await members.startAll(['e1', 'e2', 'e3', 'e4', 'e5'], url);
    await waitForOneCluster(started, 20_000);
    const config = await fetch(`${(started[0] as EtcdProcess).peerUrl}/v2/admin/config`);
    assert.deepEqual(await config.json(), { activeSize: 5, removeDelay: 1800, syncInterval: 5 });
    assertRegistered(await registryEntries(url), `/_etcd/registry/${token}`, started);
    await Promise.all(started.map((m) => m.stop()));
  });

  test("the tutorial's cloud-config (with $private_ipv4) founds at the token; the tutorial's drop-in variables join it", async () => {
    const { url, token } = await newTokenUrl(service);
    const [clientPort, peerPort, clientPort2, peerPort2] = await freePorts(4);
    const file = join(members.root, 'user-data.yml');
    writeFileSync(
      file,
      `#cloud-config\n\ncoreos:\n  etcd:\n    discovery: ${url}\n    addr: $private_ipv4:${clientPort}\n    peer-addr: $private_ipv4:${peerPort}\n`,
    );
    const first = spawnEtcd(['--cloud-config', file, '--private-ipv4', '127.0.0.1', '-name', 'cc1', '-data-dir', members.dataDirOf('cc1'), ...SHORT_TIMINGS, ...FAST_JOIN]);
    const second = spawnEtcd([...SHORT_TIMINGS, ...FAST_JOIN], {
      ETCD_ADDR: `127.0.0.1:${clientPort2}`,
      ETCD_DISCOVERY: url,
      ETCD_NAME: '921a7241c31a499a97d43f785108b17c',
      ETCD_PEER_ADDR: `127.0.0.1:${peerPort2}`,
      ETCD_DATA_DIR: members.dataDirOf('dropin'),
    });
    try {
      const expected = [
        { key: `/_etcd/registry/${token}/921a7241c31a499a97d43f785108b17c`, value: `http://127.0.0.1:${peerPort2}` },
        { key: `/_etcd/registry/${token}/cc1`, value: `http://127.0.0.1:${peerPort}` },
      ];
      await waitUntil('both registered', async () => JSON.stringify((await registryEntries(url)).map(({ key, value }) => ({ key, value }))) === JSON.stringify(expected), 15_000);
      const clientUrl = `http://127.0.0.1:${clientPort}`;
      await waitUntil('one cluster of two', async () => {
        const res = await fetch(`${clientUrl}/v2/members`);
        const body = (await res.json()) as { members: Array<{ name: string; clientURLs: string[] }> };
        return body.members.map((m) => `${m.name}=${m.clientURLs.join(',')}`).sort().join(' ') ===
          `921a7241c31a499a97d43f785108b17c=http://127.0.0.1:${clientPort2} cc1=http://127.0.0.1:${clientPort}`;
      }, 15_000);
    } catch (error) {
      throw new Error(`${String(error)}\n--- cc1 ---\n${first.output()}\n--- drop-in ---\n${second.output()}`);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
