/**
 * `-discovery` with a plain etcd as the registry (spec §11.1, the URL form
 * `http://host:port/v2/keys/_etcd/registry/<token>`): our own single-member bin/etcd holds it.
 * Three members started at once form one cluster; an unreachable registry is a clear exit 1
 * within seconds, or a join through `-peers` when they are given; a restart keeps its data and id.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdProcess } from '../support/etcd-process.js';
import { freePorts } from '../support/ports.js';
import { assertRegistered, DiscoveryMembers, memberId, registryEntries, runEtcdToExit, waitForOneCluster, waitUntil } from './member-harness.js';

describe('-discovery against a plain etcd registry', () => {
  let registry: EtcdProcess;
  let members: DiscoveryMembers;
  let cluster: EtcdProcess[] = [];
  let ids = new Map<string, string>();
  const token = 'e1e2e3e4e5e6e7e8e9e0a1a2a3a4a5a6';
  let url = '';

  before(async () => {
    registry = await startEtcd({ name: 'registry' });
    members = new DiscoveryMembers();
    url = `${registry.clientUrl}/v2/keys/_etcd/registry/${token}`;
  });
  after(async () => {
    await members.remove();
    await registry.remove();
  });

  test('three members started at once with the same URL form one cluster, registered with their peer URLs', async () => {
    cluster = await members.startAll(['d1', 'd2', 'd3'], url);
    ids = await waitForOneCluster(cluster);
    assert.equal(ids.size, 3);
    assertRegistered(await registryEntries(url), `/_etcd/registry/${token}`, cluster);
    const state = await fetch(`${url}/_state`);
    assert.equal(((await state.json()) as { node: { value: string } }).node.value, 'started');
    const founders = cluster.filter((m) => m.output().includes(`discovery: ${m.name} claimed ${url}/_state: founding the cluster`));
    assert.equal(founders.length, 1, cluster.map((m) => m.output()).join('\n'));
  });

  test('an unreachable discovery URL: the 0.4.6 message and the cause, exit 1, within seconds', async () => {
    const [deadPort, clientPort, peerPort] = await freePorts(3);
    const dead = `http://127.0.0.1:${deadPort}/v2/keys/_etcd/registry/${token}`;
    const run = await runEtcdToExit([
      '-name', 'lost', '-data-dir', members.dataDirOf('lost'),
      '-addr', `127.0.0.1:${clientPort}`, '-peer-addr', `127.0.0.1:${peerPort}`, '-discovery', dead,
    ]);
    assert.equal(run.code, 1, run.output);
    assert.ok(run.elapsedMs < 5000, `took ${run.elapsedMs} ms`);
    assert.ok(
      run.output.endsWith(
        'etcd: lost, the new instance, must register itself to discovery service as required\n' +
          `etcd: discovery failed: cannot reach ${dead}/lost: ECONNREFUSED\n`,
      ),
      run.output,
    );
  });

  test('an unreachable discovery URL with -peers of a live cluster: joins through them', async () => {
    assert.equal(cluster.length, 3, 'needs the cluster of the first test');
    const [deadPort] = await freePorts(1);
    const peers = cluster.map((m) => m.peerUrl.replace('http://', '')).join(',');
    const joiner = await members.start('d4', `http://127.0.0.1:${deadPort}/v2/keys/_etcd/registry/${token}`, ['-peers', peers]);
    ids = await waitForOneCluster([...cluster, joiner]);
    assert.ok(joiner.output().includes(`discovery failed (cannot reach http://127.0.0.1:${deadPort}/v2/keys/_etcd/registry/${token}/d4: ECONNREFUSED); joining through -peers`), joiner.output());
    cluster.push(joiner);
  });

  test('a restart with its data dir and the same URL: the same member, its data, its entry refreshed', async () => {
    const member = cluster[1];
    assert.ok(member !== undefined);
    const put = await fetch(`${(cluster[0] as EtcdProcess).clientUrl}/v2/keys/discovery-restart?quorum=true`, {
      method: 'PUT',
      body: 'value=kept',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'follow',
    });
    assert.ok(put.status === 200 || put.status === 201, String(put.status));
    const before = await memberId(member);
    assert.equal(await member.stop(), 0);
    await member.restart();
    assert.equal(await memberId(member), before);
    await waitForOneCluster(cluster);
    const got = await fetch(`${member.clientUrl}/v2/keys/discovery-restart`);
    assert.equal(((await got.json()) as { node: { value: string } }).node.value, 'kept');
    await waitUntil('the restarted member re-registers', async () => member.output().includes(`discovery: refreshed ${member.name} = ${member.peerUrl} at ${url}`));
    assert.ok(!member.output().includes('_state'), 'a restart claims nothing');
    assert.ok(!member.output().includes('join:'), 'a restart joins nothing');
  });
});
