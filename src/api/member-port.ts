import type { Clock } from '../common/clock.js';
import type { Store } from '../store/store.js';
import type { WriteCommand, StoreEvent } from '../store/types.js';

export interface MemberInfo {
  readonly id: string;            // 16 hex digits
  readonly name: string;
  readonly clientUrls: readonly string[];
  readonly peerUrls: readonly string[];
}

/** What the client port needs from the member. One member = one Raft group (of one, for now). */
export interface ClientPortMember {
  /** Local replica: plain GETs and watches are served from it (may be stale on a follower). */
  readonly store: Store;
  readonly clock: Clock;
  readonly self: MemberInfo;
  /** Propose a write through Raft; resolves with the applied event once committed (fsynced on a
   *  majority) and applied; rejects with the EtcdError that apply produced (e.g. 105), or with
   *  EtcdError 300 on timeout/shutdown. Callers only call it on the leader. */
  write(cmd: WriteCommand): Promise<StoreEvent>;
  /** ReadIndex barrier for quorum=true reads: resolves once leadership is confirmed and the store
   *  has applied up to the read index. Rejects with EtcdError 300 when no leader/timeout. */
  readBarrier(): Promise<void>;
  /** Raft commit index and term, for X-Raft-Index / X-Raft-Term. */
  raftIndex(): number;
  raftTerm(): number;
  /** 16-hex-digit cluster id for X-Etcd-Cluster-Id. */
  clusterId(): string;
  isLeader(): boolean;
  /** The leader's info, or null when no leader is known (→ error 300 for writes). */
  leader(): MemberInfo | null;
  /** All members, for /v2/machines (leader first), /v2/members, /v2/leader. */
  members(): readonly MemberInfo[];
  /** Bodies of /v2/stats/self and /v2/stats/leader (spec §8, §17 ids), ready to serialise. */
  selfStats(): object;
  leaderStats(): object;
  /** /health: true when a leader is known and the member is serving. */
  healthy(): boolean;
  /** Membership changes (3.4's POST/DELETE /v2/members); absent = not offered (405). */
  readonly memberAdmin?: MemberAdmin;
}

/** Membership changes through the log; called on the leader only. */
export interface MemberAdmin {
  addMember(peerUrls: readonly string[]): Promise<MemberInfo>;
  removeMember(id: string): Promise<void>;
  updateMember(id: string, peerUrls: readonly string[]): Promise<void>;
  isRemoved(id: string): boolean;
}
