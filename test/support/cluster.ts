/**
 * A cluster of our `bin/etcd` members as real processes on loopback (needs `npm run build`).
 *
 * - 'static': every member gets the same `--initial-cluster` list (3.4 names) and all start at
 *   once, since a member may wait for a quorum before it serves.
 * - 'join': the first member founds the cluster alone, the others join it one by one with
 *   `-peers` (0.4.6).
 *
 * The leader is found the way an operator would: `/v2/stats/self` says `state: "leader"` on one
 * member and every other running member names its id in `leaderInfo.leader`. Every process is
 * killed by its pid (test/support/etcd-process.ts), and remove() deletes every data dir, also
 * for members added later with addMember().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type EtcdProcess } from './etcd-process.js';
import { freePorts } from './ports.js';

/** Short Raft timings, so elections in tests take a fraction of a second. */
export const SHORT_TIMINGS: readonly string[] = ['-peer-heartbeat-interval', '50', '-peer-election-timeout', '500'];

export interface StartClusterOptions {
  readonly size: number;
  readonly mode: 'static' | 'join';
  /** Extra flags for every member (after the generated ones; a repeated flag's last value wins). */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** 'short' (default): SHORT_TIMINGS; 'default': the server's own defaults (50 ms / 200 ms). */
  readonly timings?: 'short' | 'default';
  /** Member names are `${namePrefix}${i}`, from 1 (default 'n'). */
  readonly namePrefix?: string;
  /** Flags only the founding member gets in 'join' mode (e.g. -cluster-active-size). */
  readonly founderArgs?: readonly string[];
  /**
   * true (default): startCluster returns once every member has applied every member's
   * `/_etcd/machines/<name>` record, so a test starts from a settled cluster. false: as soon as
   * the members agree on a leader (registrations may still be in flight).
   */
  readonly settle?: boolean;
}

export interface AddMemberOptions {
  readonly name: string;
  /** Every flag beyond name, data dir and addresses (e.g. -peers, --initial-cluster ...). */
  readonly args: readonly string[];
  readonly clientPort?: number;
  readonly peerPort?: number;
  readonly waitFor?: 'serving' | 'spawned';
  /** Whether the cluster's helpers (leader(), stopAll() ...) count it; default true. */
  readonly track?: boolean;
}

export interface SelfStats {
  readonly name: string;
  readonly id: string;
  readonly state: string;
  readonly leaderInfo: { readonly leader: string };
}

export interface Cluster {
  /** The tracked members, in start order (added ones appended, removed ones dropped by forget()). */
  readonly members: EtcdProcess[];
  /** The flags every member was started with (timings and the caller's args). */
  readonly commonArgs: readonly string[];
  /** `n1=http://127.0.0.1:P1,...` for the tracked members. */
  initialCluster(): string;
  clientUrls(): string[];
  /** The current leader among the running members; throws if they do not agree on one. */
  leader(): Promise<EtcdProcess>;
  /** The running members that are not the leader. */
  followers(): Promise<EtcdProcess[]>;
  /** Polls until the running members agree on one leader (default 10 s). */
  waitForLeader(timeoutMs?: number): Promise<EtcdProcess>;
  /** Starts one more member; tracked by default, always cleaned up by remove(). */
  addMember(options: AddMemberOptions): Promise<EtcdProcess>;
  /** Stops tracking a member (after it was removed from the cluster); remove() still cleans it. */
  forget(member: EtcdProcess): void;
  /** Starts tracking a member added untracked (e.g. a standby once it has joined). */
  track(member: EtcdProcess): void;
  /** SIGTERM to every running tracked member, in parallel; resolves with their exit codes. */
  stopAll(): Promise<(number | null)[]>;
  /** Starts every stopped tracked member again, all at once, on the same ports and data. */
  restartAll(): Promise<void>;
  /** Kills everything this cluster started and deletes the data dirs. Safe to call twice. */
  remove(): Promise<void>;
}

export async function selfStats(member: EtcdProcess): Promise<SelfStats> {
  const res = await fetch(`${member.clientUrl}/v2/stats/self`, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as SelfStats;
  if (res.status !== 200) throw new Error(`${member.name}: /v2/stats/self answered ${res.status}`);
  return body;
}

export async function startCluster(options: StartClusterOptions): Promise<Cluster> {
  const prefix = options.namePrefix ?? 'n';
  const ports = await freePorts(options.size * 2);
  const plan = Array.from({ length: options.size }, (_, i) => ({
    name: `${prefix}${i + 1}`,
    clientPort: ports[2 * i] ?? 0,
    peerPort: ports[2 * i + 1] ?? 0,
  }));
  const commonArgs = [...(options.timings === 'default' ? [] : SHORT_TIMINGS), ...(options.args ?? [])];
  const root = mkdtempSync(join(tmpdir(), 'etcd-cluster-'));
  const members: EtcdProcess[] = [];
  const everyone: EtcdProcess[] = [];

  const start = async (
    name: string,
    clientPort: number,
    peerPort: number,
    args: readonly string[],
    waitFor: 'serving' | 'spawned' = 'serving',
  ): Promise<EtcdProcess> => {
    const member = await startEtcd({
      name,
      dataDir: join(root, `${name}.etcd`),
      clientPort,
      peerPort,
      args: [...commonArgs, ...args],
      env: options.env ?? {},
      waitFor,
    });
    everyone.push(member);
    return member;
  };

  const cluster: Cluster = {
    members,
    commonArgs,
    initialCluster: () => members.map((m) => `${m.name}=${m.peerUrl}`).join(','),
    clientUrls: () => members.map((m) => m.clientUrl),
    leader: () => agreedLeader(running(members)),
    followers: async () => {
      const leader = await agreedLeader(running(members));
      return running(members).filter((m) => m !== leader);
    },
    waitForLeader: (timeoutMs = 10_000) => waitForAgreedLeader(() => running(members), timeoutMs),
    addMember: async (add) => {
      const [clientPort, peerPort] = add.clientPort !== undefined && add.peerPort !== undefined ? [add.clientPort, add.peerPort] : await freePorts(2);
      const member = await start(add.name, clientPort ?? 0, peerPort ?? 0, add.args, add.waitFor ?? 'serving');
      if (add.track !== false) members.push(member);
      return member;
    },
    forget: (member) => {
      const at = members.indexOf(member);
      if (at >= 0) members.splice(at, 1);
    },
    track: (member) => {
      if (!members.includes(member)) members.push(member);
    },
    stopAll: () => Promise.all(running(members).map((m) => m.stop())),
    restartAll: async () => {
      await Promise.all(members.filter((m) => !m.isRunning()).map((m) => m.restart()));
    },
    remove: async () => {
      await Promise.all(everyone.map((m) => m.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    if (options.mode === 'static') {
      const initialCluster = plan.map((p) => `${p.name}=http://127.0.0.1:${p.peerPort}`).join(',');
      const started = await Promise.all(
        plan.map((p) =>
          start(p.name, p.clientPort, p.peerPort, ['--initial-cluster', initialCluster, '--initial-cluster-state', 'new']),
        ),
      );
      members.push(...started);
    } else {
      const [founder, ...joiners] = plan;
      if (founder === undefined) throw new Error('cluster: size must be at least 1');
      members.push(await start(founder.name, founder.clientPort, founder.peerPort, options.founderArgs ?? []));
      for (const p of joiners) {
        const peers = members.map((m) => m.peerUrl.replace('http://', '')).join(',');
        members.push(await start(p.name, p.clientPort, p.peerPort, ['-peers', peers]));
      }
    }
    await cluster.waitForLeader(15_000);
    if (options.settle !== false) await waitForRegistrations(members, 15_000);
  } catch (error) {
    const logs = everyone.map((m) => `--- ${m.name} ---\n${m.output()}`).join('\n');
    await cluster.remove();
    throw new Error(`cluster did not form: ${String(error)}\n${logs}`);
  }
  return cluster;
}

function running(members: readonly EtcdProcess[]): EtcdProcess[] {
  return members.filter((m) => m.isRunning());
}

/** The one member that says it leads, provided every other running member names it too. */
async function agreedLeader(candidates: readonly EtcdProcess[]): Promise<EtcdProcess> {
  const stats = await Promise.all(candidates.map((m) => selfStats(m)));
  const leaders = candidates.filter((_, i) => stats[i]?.state === 'leader');
  const leader = leaders[0];
  if (leaders.length !== 1 || leader === undefined) {
    throw new Error(`no single leader: states ${stats.map((s) => `${s.name}=${s.state}`).join(' ')}`);
  }
  const leaderId = stats[candidates.indexOf(leader)]?.id;
  const dissent = stats.filter((s) => s.leaderInfo.leader !== leaderId);
  if (leaderId === undefined || dissent.length > 0) {
    throw new Error(`leader ${leader.name} (${leaderId}) not named by ${dissent.map((s) => `${s.name}→${s.leaderInfo.leader}`).join(' ')}`);
  }
  return leader;
}

export async function waitForAgreedLeader(candidates: () => readonly EtcdProcess[], timeoutMs: number): Promise<EtcdProcess> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = new Error('no attempt');
  while (Date.now() < deadline) {
    try {
      return await agreedLeader(candidates());
    } catch (error) {
      last = error;
    }
    await sleep(25);
  }
  throw new Error(`no agreed leader within ${timeoutMs} ms: ${String(last)}`);
}

/** Every member's plain read of /_etcd/machines holds every member's record. */
async function waitForRegistrations(members: readonly EtcdProcess[], timeoutMs: number): Promise<void> {
  const expected = members.map((m) => `/_etcd/machines/${m.name}=etcd=${encodeURIComponent(m.clientUrl)}&raft=${encodeURIComponent(m.peerUrl)}`).sort();
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const seen = await Promise.all(members.map((m) => machineRecords(m).catch((error: unknown) => [String(error)])));
    last = seen.map((records, i) => `${members[i]?.name ?? '?'}: ${records.join(' ')}`).join('\n');
    if (seen.every((records) => JSON.stringify(records) === JSON.stringify(expected))) return;
    await sleep(25);
  }
  throw new Error(`members did not all register within ${timeoutMs} ms:\n${last}`);
}

async function machineRecords(member: EtcdProcess): Promise<string[]> {
  const res = await fetch(`${member.clientUrl}/v2/keys/_etcd/machines`, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as { node?: { nodes?: { key: string; value?: string }[] } };
  return (body.node?.nodes ?? []).map((n) => `${n.key}=${n.value ?? ''}`).sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
