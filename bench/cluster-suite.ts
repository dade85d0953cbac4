/**
 * The cluster rows: the single-member workloads against a 3-member cluster, sent to the leader
 * or to a follower. Roles are looked up before every run, so a leadership change between runs
 * moves the load with it (and is logged); one during a run shows up as errors ("!").
 *
 * Generators: wrk where every answer should be a 2xx, with a script that counts a 3xx as an
 * error. Where one server answers with a 307 by design (a write or quorum read on our follower;
 * etcd 3.4 forwards internally), the Node client that follows each 307 (http-load.ts) measures
 * both servers, so the row compares like with like; a reference row runs the same client against
 * the leader, so the redirect's own cost can be read off.
 */
import type { BenchCluster, ClusterMember, ClusterRoles } from './cluster.js';
import { getRandomKey, putRandomKey, runHttpLoad, type LoadRequest } from './http-load.js';
import type { BenchConfig, Measurement, Workload } from './suite.js';
import { runWrk, type WrkScripts } from './wrk.js';

type Role = keyof ClusterRoles;

/** Leader of the previous run per cluster, to report a change. */
const lastLeader = new Map<string, string>();

async function resolve(cluster: BenchCluster, role: Role, log: (line: string) => void): Promise<ClusterMember> {
  const roles = await cluster.roles();
  const previous = lastLeader.get(cluster.label);
  if (previous !== undefined && previous !== roles.leader.name) log(`  ${cluster.label}: leader changed ${previous} -> ${roles.leader.name}`);
  lastLeader.set(cluster.label, roles.leader.name);
  return roles[role];
}

export function clusterWorkloads(config: BenchConfig, scripts: WrkScripts, log: (line: string) => void): Workload<BenchCluster>[] {
  const keys = config.preloadKeys;
  const c = config.readConnections;
  const conns = (n: number): string => `${n} conn${n === 1 ? '' : 's'}`;
  const wrk = (role: Role, connections: number, path: string, script: string, args: string[]) => async (cluster: BenchCluster): Promise<Measurement> => {
    const member = await resolve(cluster, role, log);
    const result = await runWrk({ url: `${member.clientUrl}${path}`, connections, durationS: config.durationS, script, scriptArgs: args });
    return { kind: 'throughput', result };
  };
  const node = (role: Role, connections: number, next: () => LoadRequest) => async (cluster: BenchCluster): Promise<Measurement> => {
    const member = await resolve(cluster, role, log);
    const result = await runHttpLoad({ url: member.clientUrl, connections, durationS: config.durationS, next });
    return { kind: 'throughput', result };
  };
  const list: Workload<BenchCluster>[] = [];
  for (const n of config.putConnections) {
    list.push({ label: `PUT random key -> leader, ${conns(n)}`, run: wrk('leader', n, '/', scripts.putRandomNoRedirect, [String(keys)]) });
  }
  list.push(
    { label: `PUT random key -> leader, ${conns(c)} [node]`, run: node('leader', c, putRandomKey(keys)) },
    { label: `PUT random key -> follower, ${conns(c)} [node, 307]`, run: node('follower', c, putRandomKey(keys)) },
    // One key: the random-key script over a key space of one (always /bench/k0).
    { label: `GET one key -> leader, ${conns(c)}`, run: wrk('leader', c, '/', scripts.getRandomNoRedirect, ['1']) },
    { label: `GET one key -> follower, ${conns(c)}`, run: wrk('follower', c, '/', scripts.getRandomNoRedirect, ['1']) },
    { label: `GET quorum=true -> leader, ${conns(c)}`, run: wrk('leader', c, '/', scripts.getRandomNoRedirect, [String(keys), '?quorum=true']) },
    { label: `GET quorum=true -> leader, ${conns(c)} [node]`, run: node('leader', c, getRandomKey(keys, '?quorum=true')) },
    { label: `GET quorum=true -> follower, ${conns(c)} [node, 307]`, run: node('follower', c, getRandomKey(keys, '?quorum=true')) },
  );
  return list;
}
