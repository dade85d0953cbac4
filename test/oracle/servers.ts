/**
 * The server pairs the oracle compares: the reference is always a real etcd 3.4 (v2 API on,
 * data on disk, loopback free ports); the candidate is our member (`bin/etcd`, needs a build) or,
 * for the self-check that proves the comparison sound, a second real etcd.
 */
import { startEtcd } from '../support/etcd-process.js';
import { startRealEtcd } from '../support/real-etcd.js';
import type { Server } from './target.js';

export type CandidateKind = 'ours' | 'etcd';

async function realEtcd(label: string): Promise<Server> {
  const etcd = await startRealEtcd();
  return { label, clientUrl: etcd.clientUrl, stop: () => etcd.stop() };
}

async function ourMember(): Promise<Server> {
  const member = await startEtcd({ name: 'oracle' });
  return { label: 'ours', clientUrl: member.clientUrl, stop: () => member.remove() };
}

/**
 * Starts the pair, retrying a few times: a port proven free can still be taken by another
 * process before the server binds it (EADDRINUSE) on a machine shared with other test runs.
 */
export async function startPair(candidate: CandidateKind): Promise<readonly [Server, Server]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startPairOnce(candidate);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

async function startPairOnce(candidate: CandidateKind): Promise<readonly [Server, Server]> {
  const started = await Promise.allSettled([
    realEtcd('etcd 3.4'),
    candidate === 'ours' ? ourMember() : realEtcd('etcd 3.4 (second)'),
  ]);
  const [ref, cand] = started;
  if (ref?.status === 'fulfilled' && cand?.status === 'fulfilled') return [ref.value, cand.value];
  // Never leave a half-started pair running.
  await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
  const reason = started.find((s) => s.status === 'rejected');
  throw reason?.status === 'rejected' ? reason.reason : new Error('server pair did not start');
}
