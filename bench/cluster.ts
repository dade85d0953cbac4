/**
 * Three-member clusters for the benchmark's cluster rows: either real etcd 3.4 or our bin/etcd,
 * started with the same static bootstrap flags (2.x/3.4 names), each member on loopback free
 * ports below 32768 with its own data dir under one temp dir. Members are killed by pid on
 * stop(), on a failed start, and (SIGKILL) when this process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { etcdBinPath } from '../test/support/etcd-process.js';
import { freePorts } from '../test/support/ports.js';
import { makeTempDir } from './targets.js';
import type { TargetName } from './targets.js';

/** Which server a cluster runs: real etcd 3.4, or our member. */
export type ServerKind = 'etcd' | 'ours';

export interface ClusterMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly pid: number;
}

/** Who leads right now, found through `/v2/stats/self` (`state`) on every member. */
export interface ClusterRoles {
  readonly leader: ClusterMember;
  readonly follower: ClusterMember;
}

export interface BenchCluster {
  readonly name: TargetName;
  readonly label: string;
  readonly members: readonly ClusterMember[];
  /** Asks every member for its state; throws unless exactly one leads. */
  roles(): Promise<ClusterRoles>;
  stop(): Promise<void>;
}

const CLUSTER_SIZE = 3;
const START_TIMEOUT_MS = 30_000;

/** Children still running and their data dirs: SIGKILLed and removed if the benchmark exits without stopping them. */
const live = new Set<ChildProcess>();
const liveRoots = new Set<string>();
process.on('exit', () => {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const root of liveRoots) rmSync(root, { recursive: true, force: true });
});

interface MemberPlan {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
}

/** The static bootstrap flags both servers accept (our member takes the 2.x/3.4 names). */
export function bootstrapFlags(plan: MemberPlan, initialCluster: string, token: string): string[] {
  return [
    '--name', plan.name,
    '--data-dir', plan.dataDir,
    '--listen-client-urls', plan.clientUrl,
    '--advertise-client-urls', plan.clientUrl,
    '--listen-peer-urls', plan.peerUrl,
    '--initial-advertise-peer-urls', plan.peerUrl,
    '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', token,
  ];
}

function commandFor(kind: ServerKind, flags: readonly string[]): { file: string; args: string[] } {
  // etcd 3.4 needs the v2 API switched on; quiet logs so its stderr stays readable on a failure.
  if (kind === 'etcd') return { file: 'etcd', args: [...flags, '--enable-v2=true', '--log-level', 'error'] };
  return { file: process.execPath, args: [etcdBinPath(), ...flags] };
}

class MemberProcess {
  private stderrTail = '';
  readonly exited: Promise<void>;

  private constructor(
    readonly plan: MemberPlan,
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        live.delete(child);
        resolve();
      }),
    );
  }

  static spawn(kind: ServerKind, plan: MemberPlan, flags: readonly string[]): MemberProcess {
    const { file, args } = commandFor(kind, flags);
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.pid === undefined) throw new Error(`could not spawn ${file} for member ${plan.name}`);
    live.add(child);
    return new MemberProcess(plan, child, child.pid);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  describeExit(): string {
    return `member ${this.plan.name} (pid ${this.pid}) exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.stderrTail}`;
  }

  /** SIGTERM, then SIGKILL if it has not exited after 5 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (this.running) process.kill(this.pid, 'SIGKILL');
    }, 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  toMember(): ClusterMember {
    return { name: this.plan.name, clientUrl: this.plan.clientUrl, peerUrl: this.plan.peerUrl, pid: this.pid };
  }
}

/** `state` of /v2/stats/self: `leader` (ours, 0.4) or `StateLeader` (3.4). */
export function isLeaderState(state: unknown): boolean {
  return typeof state === 'string' && /^(state)?leader$/i.test(state);
}

/** `follower` (ours) or `StateFollower` (3.4); a candidate is neither. */
export function isFollowerState(state: unknown): boolean {
  return typeof state === 'string' && /^(state)?follower$/i.test(state);
}

async function memberState(member: ClusterMember): Promise<string> {
  const res = await fetch(`${member.clientUrl}/v2/stats/self`, { signal: AbortSignal.timeout(2_000), redirect: 'manual' });
  const text = await res.text();
  if (res.status !== 200) return `HTTP ${res.status}`;
  const body = JSON.parse(text) as { state?: unknown };
  return typeof body.state === 'string' ? body.state : `no state in ${text.trim()}`;
}

/** Exactly one member must say it leads; the follower rows use the first member that follows. */
export async function findRoles(members: readonly ClusterMember[]): Promise<ClusterRoles> {
  const states = await Promise.all(members.map(async (m) => ({ m, state: await memberState(m).catch((e: unknown) => String(e)) })));
  const leaders = states.filter((s) => isLeaderState(s.state));
  const follower = states.find((s) => isFollowerState(s.state));
  const leader = leaders[0];
  if (leaders.length !== 1 || leader === undefined || follower === undefined) {
    throw new Error(`not one leader and a follower: ${states.map((s) => `${s.m.name}=${JSON.stringify(s.state)}`).join(', ')}`);
  }
  return { leader: leader.m, follower: follower.m };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * Ready means: one leader, a write through it answered 2xx, and that write readable on every
 * member (so the members replicate, rather than being three clusters of one).
 */
async function waitClusterReady(processes: readonly MemberProcess[], label: string): Promise<void> {
  const members = processes.map((p) => p.toMember());
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastProblem = 'not started';
  const probeKey = `/v2/keys/bench-cluster-ready`;
  while (Date.now() < deadline) {
    const dead = processes.find((p) => !p.running);
    if (dead !== undefined) throw new Error(`${label}: ${dead.describeExit()}`);
    try {
      const { leader } = await findRoles(members);
      const put = await fetch(`${leader.clientUrl}${probeKey}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'value=ready',
        redirect: 'manual',
        signal: AbortSignal.timeout(5_000),
      });
      const putText = await put.text();
      if (put.status >= 300) throw new Error(`probe PUT on the leader ${leader.name} answered ${put.status} ${putText.trim()}`);
      for (const m of members) {
        const get = await fetch(`${m.clientUrl}${probeKey}`, { redirect: 'manual', signal: AbortSignal.timeout(2_000) });
        const getText = await get.text();
        if (get.status !== 200) throw new Error(`probe key not (yet) on ${m.name}: ${get.status} ${getText.trim()}`);
      }
      return;
    } catch (err) {
      lastProblem = err instanceof Error ? err.message : String(err);
    }
    await sleep(200);
  }
  throw new Error(`${label}: not ready within ${START_TIMEOUT_MS / 1000} s: ${lastProblem}`);
}

/**
 * Starts a 3-member cluster of `kind`. `name` is the column it fills in the table ('ours' may be
 * run by etcd for a dry run of the harness, with a label saying so).
 */
export async function startCluster(kind: ServerKind, name: TargetName, label: string): Promise<BenchCluster> {
  const root = makeTempDir(`bench-cluster-${kind}-`);
  liveRoots.add(root);
  const ports = await freePorts(2 * CLUSTER_SIZE);
  const plans: MemberPlan[] = Array.from({ length: CLUSTER_SIZE }, (_, i) => {
    const dataDir = join(root, `m${i}`);
    mkdirSync(dataDir);
    return { name: `m${i}`, clientUrl: `http://127.0.0.1:${ports[2 * i]}`, peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`, dataDir };
  });
  const initialCluster = plans.map((p) => `${p.name}=${p.peerUrl}`).join(',');
  const token = `bench-${kind}-${process.pid}`;
  const processes: MemberProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p.stop()));
    rmSync(root, { recursive: true, force: true });
    liveRoots.delete(root);
  };
  try {
    // All at once: each member waits for its peers before a leader can be elected.
    for (const plan of plans) processes.push(MemberProcess.spawn(kind, plan, bootstrapFlags(plan, initialCluster, token)));
    await waitClusterReady(processes, label);
  } catch (err) {
    await stop();
    throw err;
  }
  const members = processes.map((p) => p.toMember());
  return { name, label, members, roles: () => findRoles(members), stop };
}
