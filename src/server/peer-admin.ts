/**
 * The peer port's admin API (spec §9.1, §9.2): the machine list and the cluster config
 * (`activeSize`, `removeDelay`, `syncInterval`). A config change is a write of `/_etcd/config`
 * through the log, so every member applies it at the same index; the minimums are enforced here,
 * because a client writing `/_etcd/config` directly is refused (error 106, src/api).
 */
import type { ClientPortMember } from '../api/member-port.js';
import { CLUSTER_CONFIG_KEY } from './registration.js';

export interface AdminMachine {
  readonly name: string;
  readonly state: 'leader' | 'follower';
  readonly clientURL: string;
  readonly peerURL: string;
}

export interface ClusterConfigValues {
  activeSize: number;
  removeDelay: number;
  syncInterval: number;
}

/** Lowest values 0.4.6 accepts (smaller ones are raised to these). */
export const CLUSTER_CONFIG_MINIMUMS: Readonly<ClusterConfigValues> = { activeSize: 3, removeDelay: 2, syncInterval: 1 };

/** A PUT body that is not a JSON object of integer fields (0.4.6 answers 500 with Go's decode error). */
export class ClusterConfigDecodeError extends Error {
  override name = 'ClusterConfigDecodeError';
}

export interface PeerAdmin {
  /** Every member, sorted by name. */
  machines(): AdminMachine[];
  /** Leader's peer URL when this member is not the leader (the admin writes go there), else null. */
  leaderPeerUrlIfFollower(): string | null;
  /** Merge the given fields into the committed config, clamp, commit; resolves with the new config. */
  updateClusterConfig(body: string): Promise<ClusterConfigValues>;
}

export function peerAdminFor(member: ClientPortMember, committedConfigJson: () => string): PeerAdmin {
  return {
    machines: () => adminMachines(member),
    leaderPeerUrlIfFollower: () => {
      if (member.isLeader()) return null;
      return member.leader()?.peerUrls[0] ?? null;
    },
    updateClusterConfig: async (body) => {
      const next = mergeClusterConfig(parseConfigJson(committedConfigJson()), body);
      const nowMs = member.clock.nowMs();
      await member.write({ op: 'set', key: CLUSTER_CONFIG_KEY, value: JSON.stringify(next), dir: false, expireAtMs: null, refresh: false, nowMs });
      return next;
    },
  };
}

function adminMachines(member: ClientPortMember): AdminMachine[] {
  const leaderId = member.leader()?.id ?? null;
  return member
    .members()
    .map((m) => ({
      name: m.name,
      state: m.id === leaderId ? ('leader' as const) : ('follower' as const),
      clientURL: m.clientUrls[0] ?? '',
      peerURL: m.peerUrls[0] ?? '',
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function parseConfigJson(text: string): ClusterConfigValues {
  const parsed = JSON.parse(text) as Partial<ClusterConfigValues>;
  return {
    activeSize: parsed.activeSize ?? 9,
    removeDelay: parsed.removeDelay ?? 1800,
    syncInterval: parsed.syncInterval ?? 5,
  };
}

/** The 0.4.6 rule: fields present in the body replace the current ones, then the minimums apply. */
export function mergeClusterConfig(current: ClusterConfigValues, body: string): ClusterConfigValues {
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch (error) {
    throw new ClusterConfigDecodeError(`invalid JSON: ${(error as Error).message}`);
  }
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new ClusterConfigDecodeError('the cluster config must be a JSON object');
  }
  const next = { ...current };
  for (const field of ['activeSize', 'removeDelay', 'syncInterval'] as const) {
    const value: unknown = (patch as Record<string, unknown>)[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new ClusterConfigDecodeError(`${field} must be an integer, got ${JSON.stringify(value)}`);
    }
    next[field] = Math.max(value, CLUSTER_CONFIG_MINIMUMS[field]);
  }
  return next;
}
