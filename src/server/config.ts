/**
 * The member's own configuration: what it needs from EtcdConfig, in the member's units
 * (milliseconds, ticks), with defaults and a validator. The CLI builds it with
 * memberConfigFrom(etcdConfig); tests build it with defaultMemberConfig() and overrides.
 */
import type { EtcdConfig } from '../cli/config-types.js';

/** The 0.4.6 cluster config committed to /_etcd/config by the member that founds the cluster. */
export interface ClusterConfigJson {
  readonly activeSize: number;
  readonly removeDelay: number;
  readonly syncInterval: number;
}

export interface MemberConfig {
  readonly name: string;
  readonly dataDir: string;
  /** Advertised client URLs (the first one is registered in /_etcd/machines/<name>). */
  readonly clientUrls: readonly string[];
  readonly peerUrls: readonly string[];
  readonly clusterToken: string;
  /** One Raft tick per heartbeat; the election timeout is a whole number of ticks. */
  readonly heartbeatMs: number;
  readonly electionMs: number;
  /** How often the leader checks whether a TTL is due and proposes a SYNC entry (spec §6). */
  readonly syncIntervalMs: number;
  readonly snapshotEnabled: boolean;
  /** Take a snapshot (and compact the log behind it) after this many applied entries. */
  readonly snapshotCount: number;
  /** A write or quorum read not answered by then fails with error 300. */
  readonly requestTimeoutMs: number;
  /**
   * Group commit across the clients just answered: after a batch's writers are answered, new
   * proposals are held (at most this long) until as many have arrived as were answered, so the
   * answered clients' next writes share the next fsync instead of forming a batch of their own.
   */
  readonly groupCommitWaitMs: number;
  readonly clusterConfig: ClusterConfigJson;
}

export function defaultMemberConfig(dataDir: string): MemberConfig {
  return {
    name: 'default',
    dataDir,
    clientUrls: ['http://127.0.0.1:4001'],
    peerUrls: ['http://127.0.0.1:7001'],
    clusterToken: 'etcd-cluster',
    heartbeatMs: 50,
    electionMs: 200,
    syncIntervalMs: 500,
    snapshotEnabled: true,
    snapshotCount: 10_000,
    requestTimeoutMs: 5_000,
    groupCommitWaitMs: 2,
    clusterConfig: { activeSize: 9, removeDelay: 1800, syncInterval: 5 },
  };
}

export function memberConfigFrom(config: EtcdConfig): MemberConfig {
  return {
    name: config.name,
    dataDir: config.dataDir,
    clientUrls: config.advertiseClientUrls,
    peerUrls: config.advertisePeerUrls,
    clusterToken: config.initialClusterToken,
    heartbeatMs: config.heartbeatIntervalMs,
    electionMs: config.electionTimeoutMs,
    syncIntervalMs: 500,
    snapshotEnabled: config.snapshot,
    snapshotCount: config.snapshotCount,
    requestTimeoutMs: Math.max(5_000, 5 * config.electionTimeoutMs),
    groupCommitWaitMs: 2,
    clusterConfig: {
      activeSize: config.clusterActiveSize,
      removeDelay: config.clusterRemoveDelaySec,
      syncInterval: config.clusterSyncIntervalSec,
    },
  };
}

/** Raft's election timeout in ticks: at least two heartbeats, as Raft requires election > heartbeat. */
export function electionTicksOf(config: MemberConfig): number {
  return Math.max(2, Math.round(config.electionMs / config.heartbeatMs));
}

/** Returns the problems found, one precise sentence each; empty means valid. */
export function validateMemberConfig(config: MemberConfig): string[] {
  const problems: string[] = [];
  const positive = (value: number, what: string): void => {
    if (!Number.isSafeInteger(value) || value <= 0) problems.push(`${what} must be a positive integer, got ${value}`);
  };
  if (config.name === '') problems.push('name must not be empty');
  if (config.dataDir === '') problems.push('data dir must not be empty');
  if (config.clientUrls.length === 0) problems.push('at least one advertised client URL is required');
  if (config.peerUrls.length === 0) problems.push('at least one advertised peer URL is required');
  positive(config.heartbeatMs, 'heartbeat interval (ms)');
  positive(config.electionMs, 'election timeout (ms)');
  positive(config.syncIntervalMs, 'sync interval (ms)');
  positive(config.snapshotCount, 'snapshot count');
  positive(config.requestTimeoutMs, 'request timeout (ms)');
  if (!(Number.isFinite(config.groupCommitWaitMs) && config.groupCommitWaitMs >= 0)) {
    problems.push(`group commit wait (ms) must be a finite number >= 0, got ${config.groupCommitWaitMs}`);
  }
  if (config.electionMs < config.heartbeatMs) {
    problems.push(`election timeout (${config.electionMs} ms) must not be shorter than the heartbeat interval (${config.heartbeatMs} ms)`);
  }
  return problems;
}
