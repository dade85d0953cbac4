/**
 * Who this member is, fixed when its data dir is created: the member id and the cluster id.
 * The id is derived from name, peer URLs and cluster token the first time and then read back, so
 * a member restarted with a new peer address keeps the id its Raft log knows it by.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { assert } from '../common/assert.js';
import { isMemberId, type MemberId } from '../common/ids.js';

export interface MemberIdentity {
  readonly memberId: MemberId;
  readonly clusterId: string;
}

export const IDENTITY_FILE = 'member.json';

/** From the token and the founders' ids (comma-joined, in id order), the same on every founder. */
export function clusterIdFor(clusterToken: string, founderIds: string): string {
  const hash = createHash('sha1').update(`cluster\0${clusterToken}\0${founderIds}`).digest();
  const id = hash.subarray(0, 8).toString('hex');
  return id === '0000000000000000' ? '0000000000000001' : id;
}

/** Null when the data dir has no identity yet (a fresh member). */
export function readIdentity(dataDir: string): MemberIdentity | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, IDENTITY_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const memberId = record['memberId'];
  const clusterId = record['clusterId'];
  assert(typeof memberId === 'string' && isMemberId(memberId) && typeof clusterId === 'string' && isMemberId(clusterId),
    () => `${join(dataDir, IDENTITY_FILE)} is not a member identity: ${text.slice(0, 200)}`);
  return { memberId, clusterId };
}

/** Writes the identity durably (temp file, fsync, rename, fsync dir). */
export function writeIdentity(dataDir: string, identity: MemberIdentity): MemberIdentity {
  const path = join(dataDir, IDENTITY_FILE);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(identity) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dirFd = openSync(dataDir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return identity;
}
