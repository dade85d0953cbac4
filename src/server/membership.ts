/**
 * Who is in the cluster, as the replicated log says: every member's id, name and peer URLs
 * (from the contexts of committed conf changes), and the ids removed so far (a removed id never
 * comes back: its connections are refused). Client URLs are not kept here: each member publishes
 * its own in `/_etcd/machines/<name>` through the log, and the store is read for them.
 *
 * The membership travels in snapshots beside the store (a snapshot envelope), so a member that
 * catches up from a snapshot knows its peers without the log that built them.
 */
import { assert } from '../common/assert.js';

export type RemovalReason = 'explicit' | 'auto';

export interface RegisteredMember {
  readonly id: string;
  readonly name: string;
  readonly peerUrls: readonly string[];
}

/** What a member-adding or member-removing conf change carries (Raft treats it as opaque bytes). */
export interface MemberChangeContext {
  /** Lets the proposer find its waiting request when the change is applied ('' = none). */
  readonly requestId: string;
  readonly name: string;
  readonly peerUrls: readonly string[];
  /** Known only when the member joined with them (0.4.6 join): its machine record is written
   *  when the change is applied. Empty when the member publishes them itself later. */
  readonly clientUrls: readonly string[];
  /** The proposer's clock, for the machine record's write (apply never reads a clock). */
  readonly nowMs: number;
  readonly reason: RemovalReason;
}

export function encodeMemberChangeContext(context: MemberChangeContext): Uint8Array {
  return Buffer.from(JSON.stringify(context), 'utf8');
}

export function decodeMemberChangeContext(data: Uint8Array): MemberChangeContext {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const parsed: unknown = JSON.parse(text);
  assert(isMemberChangeContext(parsed), () => `conf change context is not a member change: ${text.slice(0, 200)}`);
  return parsed;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isMemberChangeContext(value: unknown): value is MemberChangeContext {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record['requestId'] === 'string' && typeof record['name'] === 'string' &&
    isStringArray(record['peerUrls']) && isStringArray(record['clientUrls']) &&
    typeof record['nowMs'] === 'number' && (record['reason'] === 'explicit' || record['reason'] === 'auto');
}

interface MembershipJson {
  readonly members: RegisteredMember[];
  readonly removed: Array<[string, RemovalReason]>;
}

export class Membership {
  /** Invariant: an id is in at most one of the two maps, and names are unique among members. */
  private readonly byId = new Map<string, RegisteredMember>();
  private readonly removedIds = new Map<string, RemovalReason>();

  add(member: RegisteredMember): void {
    assert(!this.removedIds.has(member.id), () => `member ${member.id} was removed and cannot be added again`);
    const sameName = this.byName(member.name);
    assert(sameName === undefined || sameName.id === member.id || member.name === '',
      () => `member name ${member.name} is already used by ${sameName?.id ?? ''}`);
    this.byId.set(member.id, member);
  }

  remove(id: string, reason: RemovalReason): RegisteredMember | undefined {
    const member = this.byId.get(id);
    this.byId.delete(id);
    this.removedIds.set(id, reason);
    return member;
  }

  get(id: string): RegisteredMember | undefined {
    return this.byId.get(id);
  }

  byName(name: string): RegisteredMember | undefined {
    if (name === '') return undefined;
    for (const member of this.byId.values()) if (member.name === name) return member;
    return undefined;
  }

  byPeerUrl(url: string): RegisteredMember | undefined {
    for (const member of this.byId.values()) if (member.peerUrls.includes(url)) return member;
    return undefined;
  }

  isRemoved(id: string): boolean {
    return this.removedIds.has(id);
  }

  removalReason(id: string): RemovalReason | undefined {
    return this.removedIds.get(id);
  }

  /** Every member, in id order (stable across members). */
  list(): RegisteredMember[] {
    return [...this.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get size(): number {
    return this.byId.size;
  }

  toJSON(): MembershipJson {
    return { members: this.list(), removed: [...this.removedIds.entries()] };
  }

  static fromJSON(json: MembershipJson): Membership {
    const membership = new Membership();
    for (const [id, reason] of json.removed) membership.removedIds.set(id, reason);
    for (const member of json.members) membership.byId.set(member.id, { id: member.id, name: member.name, peerUrls: [...member.peerUrls] });
    return membership;
  }
}

/** Snapshot data = magic, u32 length of the membership JSON, that JSON, then the store's bytes. */
const SNAPSHOT_MAGIC = Buffer.from('etcd-ts member snapshot 1\n', 'utf8');

export function encodeMemberSnapshot(storeData: Uint8Array, membership: Membership): Uint8Array {
  const membershipJson = Buffer.from(JSON.stringify(membership.toJSON()), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(membershipJson.length);
  return Buffer.concat([SNAPSHOT_MAGIC, length, membershipJson, storeData]);
}

export function decodeMemberSnapshot(data: Uint8Array): { storeData: Uint8Array; membership: Membership } {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  assert(bytes.length >= SNAPSHOT_MAGIC.length + 4 && bytes.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC),
    'snapshot data is not a member snapshot');
  const length = bytes.readUInt32BE(SNAPSHOT_MAGIC.length);
  const start = SNAPSHOT_MAGIC.length + 4;
  const json = JSON.parse(bytes.subarray(start, start + length).toString('utf8')) as MembershipJson;
  return { storeData: bytes.subarray(start + length), membership: Membership.fromJSON(json) };
}
