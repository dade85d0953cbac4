/**
 * /v2/stats/self and /v2/stats/leader bodies (spec §8, with the §17 decisions: member ids,
 * `state` leader/follower, `name` kept and `id` added). Times come from the member's clock.
 */
import type { AppendStats, FollowerStats } from '../transport/types.js';
import { goDurationString, goRfc3339Nano } from './go-format.js';

/** The append counts and rates come from the transport as they are. */
export interface SelfStatsInput extends AppendStats {
  readonly name: string;
  readonly id: string;
  readonly isLeader: boolean;
  readonly startTimeMs: number;
  /** Null while no leader is known. */
  readonly leaderId: string | null;
  /** Wall time this member first saw the current leader. */
  readonly leaderSinceMs: number;
  readonly nowMs: number;
}

export interface SelfStatsJson {
  name: string;
  id: string;
  state: 'leader' | 'follower';
  startTime: string;
  leaderInfo: { leader: string; uptime: string; startTime: string };
  recvAppendRequestCnt: number;
  recvPkgRate?: number;
  recvBandwidthRate?: number;
  sendAppendRequestCnt: number;
  sendPkgRate?: number;
  sendBandwidthRate?: number;
}

export function selfStatsJson(input: SelfStatsInput): SelfStatsJson {
  const uptimeMs = input.leaderId === null ? 0 : Math.max(0, input.nowMs - input.leaderSinceMs);
  return {
    name: input.name,
    id: input.id,
    state: input.isLeader ? 'leader' : 'follower',
    startTime: goRfc3339Nano(input.startTimeMs),
    leaderInfo: {
      leader: input.leaderId ?? '',
      uptime: goDurationString(Math.round(uptimeMs * 1_000_000)),
      startTime: goRfc3339Nano(input.leaderId === null ? input.startTimeMs : input.leaderSinceMs),
    },
    recvAppendRequestCnt: input.recvAppendRequestCnt,
    // 0.4.6 field order; rates appear only while traffic flows (spec §8).
    ...(input.recvPkgRate !== undefined ? { recvPkgRate: input.recvPkgRate } : {}),
    ...(input.recvBandwidthRate !== undefined ? { recvBandwidthRate: input.recvBandwidthRate } : {}),
    sendAppendRequestCnt: input.sendAppendRequestCnt,
    ...(input.sendPkgRate !== undefined ? { sendPkgRate: input.sendPkgRate } : {}),
    ...(input.sendBandwidthRate !== undefined ? { sendBandwidthRate: input.sendBandwidthRate } : {}),
  };
}

export interface LeaderStatsJson {
  leader: string;
  followers: Record<string, FollowerStats>;
}

/** Keyed by follower id (§17); a member of one has no followers. */
export function leaderStatsJson(leaderId: string, followers: Record<string, FollowerStats> = {}): LeaderStatsJson {
  return { leader: leaderId, followers };
}
