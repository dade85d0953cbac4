import { createHash } from 'node:crypto';

/** Member ids are 16 lowercase hex digits (a uint64), stable for a member's life. */
export type MemberId = string;

const memberIdPattern = /^[0-9a-f]{16}$/;

export function isMemberId(value: string): value is MemberId {
  return memberIdPattern.test(value);
}

/** Deterministic id from what identifies a member in its cluster, so a restart keeps its id. */
export function memberIdFor(name: string, peerUrls: readonly string[], clusterToken: string): MemberId {
  const hash = createHash('sha1').update(`${clusterToken}\0${name}\0${[...peerUrls].sort().join(',')}`).digest();
  const id = hash.subarray(0, 8).toString('hex');
  return id === '0000000000000000' ? '0000000000000001' : id;
}

/** etcd 3.4 prints ids as unpadded hex (`%x` of a uint64). */
export function unpaddedHex(id: MemberId): string {
  return id.replace(/^0+(?=.)/, '');
}
