/**
 * Checks shared by the membership and standby tests: what every member says about who is in
 * the cluster, and how a removed member leaves.
 */
import assert from 'node:assert/strict';
import { selfStats, type Cluster } from '../support/cluster.js';
import type { EtcdProcess } from '../support/etcd-process.js';
import { eventually, expectedMembers, machinesKeys, machineValue, membersOf, type MemberJson } from './http.js';

async function ids(cluster: Cluster): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const member of cluster.members) out.set(member.name, (await selfStats(member)).id);
  return out;
}

/** Every running member's /v2/members and the leader's /_etcd/machines describe exactly `cluster.members`. */
export async function assertMembership(cluster: Cluster, what: string): Promise<void> {
  const expected = expectedMembers(cluster.members, await ids(cluster));
  const machines = new Map(cluster.members.map((m) => [m.name, machineValue(m)]));
  for (const member of cluster.members) {
    let seen: MemberJson[] = [];
    await eventually(
      () => `${what}: ${member.name} /v2/members lists ${cluster.members.map((m) => m.name).join(',')} (last: ${JSON.stringify(seen)})`,
      async () => {
        seen = await membersOf(member);
        return JSON.stringify(seen) === JSON.stringify(expected);
      },
      5_000,
    );
  }
  const leader = await cluster.waitForLeader();
  let seen = new Map<string, string>();
  await eventually(
    () => `${what}: /_etcd/machines is ${JSON.stringify([...machines])} (last: ${JSON.stringify([...seen])})`,
    async () => {
      seen = await machinesKeys(leader);
      return JSON.stringify([...seen].sort()) === JSON.stringify([...machines].sort());
    },
    5_000,
  );
}

export async function assertRemovedAndExited(member: EtcdProcess): Promise<void> {
  const code = await Promise.race([member.exited(), new Promise<string>((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000))]);
  assert.equal(code, 0, `${member.name} exits with 0 once removed:\n${member.output()}`);
  assert.match(member.output(), /removed/i, `${member.name} logs that it was removed`);
}
