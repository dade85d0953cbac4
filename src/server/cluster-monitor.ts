/**
 * The leader's membership monitor (spec §9.2): every second, the leader (and only it) removes
 * one voter when the cluster is larger than activeSize (a random follower: the removed one becomes
 * a standby and nobody can predict which, as in 0.4.6), or else the follower silent for longer
 * than removeDelay. One removal at a time: each is a configuration change through the log, and
 * the next decision must see the membership the previous one produced.
 */
import type { Prng } from '../common/prng.js';
import type { ClusterConfigValues } from './peer-admin.js';

export interface MonitoredCluster {
  isLeader(): boolean;
  selfId(): string;
  /** The committed /_etcd/config. */
  clusterConfig(): ClusterConfigValues;
  voters(): ReadonlyArray<{ id: string; name: string }>;
  /** ms since this leader last heard from the follower (null = never since it became leader). */
  sinceLastContactMs(id: string): number | null;
  removeMember(id: string, reason: 'auto'): Promise<void>;
}

export interface ClusterMonitorOptions {
  intervalMs: number;
  prng: Prng;
  log: (line: string) => void;
  /** When this member last became leader, on the nowMs clock. */
  leaderSinceMs: () => number;
  nowMs: () => number;
}

/** When a monitor first saw each voter (on the nowMs clock): a member added later is new, not silent. */
export type FirstSeenMs = (id: string) => number;

type DecisionOptions = Pick<ClusterMonitorOptions, 'prng' | 'leaderSinceMs' | 'nowMs'> & { firstSeenMs?: FirstSeenMs };

export interface RemovalDecision {
  readonly id: string;
  readonly name: string;
  /** For the log: why this member goes. */
  readonly why: string;
}

/** What one check would remove, or null. Pure given the cluster's answers and the prng. */
export function chooseRemoval(cluster: MonitoredCluster, options: DecisionOptions): RemovalDecision | null {
  const config = cluster.clusterConfig();
  const voters = cluster.voters();
  const selfId = cluster.selfId();
  const followers = voters.filter((v) => v.id !== selfId);
  if (followers.length === 0) return null;
  if (voters.length > config.activeSize) {
    const chosen = followers[options.prng.int(followers.length)];
    if (chosen === undefined) return null;
    return { id: chosen.id, name: chosen.name, why: `${voters.length} voters exceed activeSize ${config.activeSize}` };
  }
  return longestSilentBeyond(cluster, followers, config.removeDelay * 1000, options);
}

/**
 * A follower never heard from is counted from when this member became leader, or from when the
 * monitor first saw it if that is later: a new leader has no contact history, and a member added
 * a moment ago has had no chance to speak — neither is silence.
 */
function longestSilentBeyond(
  cluster: MonitoredCluster,
  followers: ReadonlyArray<{ id: string; name: string }>,
  removeDelayMs: number,
  options: DecisionOptions,
): RemovalDecision | null {
  const nowMs = options.nowMs();
  const leaderSinceMs = options.leaderSinceMs();
  let chosen: { id: string; name: string; silentMs: number } | null = null;
  for (const follower of followers) {
    const countedFromMs = Math.max(leaderSinceMs, options.firstSeenMs?.(follower.id) ?? leaderSinceMs);
    const silentMs = cluster.sinceLastContactMs(follower.id) ?? Math.max(0, nowMs - countedFromMs);
    if (silentMs > removeDelayMs && (chosen === null || silentMs > chosen.silentMs)) chosen = { ...follower, silentMs };
  }
  if (chosen === null) return null;
  return { id: chosen.id, name: chosen.name, why: `not heard from for ${Math.floor(chosen.silentMs / 1000)} s (removeDelay ${removeDelayMs / 1000} s)` };
}

export class ClusterMonitor {
  private inFlight: Promise<void> | null = null;
  /** Voter id → when a check first saw it; ids no longer voting are forgotten. */
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly cluster: MonitoredCluster,
    private readonly options: ClusterMonitorOptions,
  ) {}

  /** True while a removal this monitor started has not finished. */
  get removing(): boolean {
    return this.inFlight !== null;
  }

  /** One periodic check (the timer calls this; tests call it by hand). */
  check(): void {
    if (this.inFlight !== null || !this.cluster.isLeader()) return;
    this.noteVoters();
    const decision = chooseRemoval(this.cluster, { ...this.options, firstSeenMs: (id) => this.firstSeen.get(id) ?? this.options.nowMs() });
    if (decision === null) return;
    this.options.log(`cluster monitor: removing ${decision.name} (${decision.id}): ${decision.why}`);
    this.inFlight = this.cluster.removeMember(decision.id, 'auto').then(
      () => {
        this.inFlight = null;
      },
      (error: unknown) => {
        this.inFlight = null;
        this.options.log(`cluster monitor: removing ${decision.name} (${decision.id}) failed: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  private noteVoters(): void {
    const voterIds = new Set(this.cluster.voters().map((v) => v.id));
    for (const id of this.firstSeen.keys()) if (!voterIds.has(id)) this.firstSeen.delete(id);
    for (const id of voterIds) if (!this.firstSeen.has(id)) this.firstSeen.set(id, this.options.nowMs());
  }
}

export function startClusterMonitor(cluster: MonitoredCluster, options: ClusterMonitorOptions): { stop(): void } {
  const monitor = new ClusterMonitor(cluster, options);
  const timer = setInterval(() => monitor.check(), options.intervalMs);
  return { stop: () => clearInterval(timer) };
}
