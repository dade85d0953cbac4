/**
 * Concurrent writers for the cluster's crash tests: each writes fresh keys to the members in
 * turn (following 307s) and records what was acknowledged; the check afterwards wants every
 * acknowledged write on every member with its value and modifiedIndex.
 */
import assert from 'node:assert/strict';
import { sleep, type Cluster } from '../support/cluster.js';
import type { EtcdProcess } from '../support/etcd-process.js';
import { followRedirects, lastOf, pollTree, readTree, sameKeys, type Snapshot } from './http.js';


export interface Acked {
  readonly value: string;
  readonly modifiedIndex: number;
}

export interface WriteLog {
  readonly acked: Map<string, Acked>;
  /** Answers that were not 201, by status (or 'network' when the connection failed). */
  readonly refused: Map<string, number>;
  ackedAfterKill: number;
}

/** One client: writes fresh keys to the members in turn, following 307s, until told to stop. */
export async function writer(members: readonly EtcdProcess[], id: number, offset: number, log: WriteLog, state: { stop: boolean; killed: boolean }, prefix: string): Promise<void> {
  for (let n = 0; !state.stop; n++) {
    const member = members[(offset + n) % members.length];
    assert.ok(member !== undefined);
    const key = `${prefix}/w${id}/${n}`;
    const value = `v${id}-${n}`;
    try {
      const reply = lastOf(await followRedirects(`${member.clientUrl}/v2/keys${key}`, 'PUT', { form: `value=${value}`, timeoutMs: 3_000 }));
      if (reply.status === 201) {
        const node = (reply.json as { node?: { key?: string; value?: string; modifiedIndex?: number } }).node;
        assert.equal(node?.key, key, reply.body);
        assert.equal(node.value, value, reply.body);
        assert.ok(typeof node.modifiedIndex === 'number', reply.body);
        log.acked.set(key, { value, modifiedIndex: node.modifiedIndex });
        if (state.killed) log.ackedAfterKill++;
        continue;
      }
      log.refused.set(String(reply.status), (log.refused.get(String(reply.status)) ?? 0) + 1);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      log.refused.set('network', (log.refused.get('network') ?? 0) + 1);
    }
    await sleep(10); // a dead or leaderless member: don't spin
  }
}

async function convergedEverywhere(cluster: Cluster, leader: EtcdProcess, prefix: string): Promise<Snapshot[]> {
  const reference = await readTree(leader, prefix, true);
  return Promise.all(cluster.members.map((m) => pollTree(m, prefix, (s) => sameKeys(s, reference), 10_000)));
}

/** Every acknowledged write is on every member with its value and index; the stores hold the same keys. */
export async function assertEveryAckedWriteEverywhere(cluster: Cluster, leader: EtcdProcess, log: WriteLog, prefix = '/failover'): Promise<void> {
  const stores = await convergedEverywhere(cluster, leader, prefix);
  for (const [i, store] of stores.entries()) {
    const name = cluster.members[i]?.name ?? '?';
    for (const [key, acked] of log.acked) {
      const found = store.keys.get(key);
      assert.deepEqual(found && { value: found.value, modifiedIndex: found.modifiedIndex }, acked, `${name} has ${key}`);
    }
  }
  const [first, ...rest] = stores;
  assert.ok(first !== undefined);
  for (const [i, store] of rest.entries()) {
    assert.deepEqual([...store.keys].sort(), [...first.keys].sort(), `${cluster.members[i + 1]?.name} and ${cluster.members[0]?.name} hold the same keys`);
  }
}

