/**
 * The two entries a member that founds a cluster commits before any client write (spec §2, §10):
 * its machine record and the cluster config. They take etcd indexes 1 and 2, so the first user
 * key gets index 3, as the tutorial shows.
 */
import type { SetCommand } from '../store/types.js';
import type { ClusterConfigJson } from './config.js';

export const MACHINES_DIR = '/_etcd/machines';
export const CLUSTER_CONFIG_KEY = '/_etcd/config';

const unreservedByte = /[A-Za-z0-9\-_.~]/;

/** Go's url.QueryEscape: unreserved bytes kept, space as '+', everything else %XX of its UTF-8 bytes. */
export function goQueryEscape(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && unreservedByte.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** `etcd=<client URL>&raft=<peer URL>`: Go's url.Values.Encode, keys sorted (etcd before raft). */
export function machineRecordValue(clientUrl: string, peerUrl: string): string {
  return `etcd=${goQueryEscape(clientUrl)}&raft=${goQueryEscape(peerUrl)}`;
}

export function registrationCommands(
  name: string,
  clientUrl: string,
  peerUrl: string,
  clusterConfig: ClusterConfigJson,
  nowMs: number,
): [SetCommand, SetCommand] {
  const config: ClusterConfigJson = {
    activeSize: clusterConfig.activeSize,
    removeDelay: clusterConfig.removeDelay,
    syncInterval: clusterConfig.syncInterval,
  };
  const set = (key: string, value: string): SetCommand =>
    ({ op: 'set', key, value, dir: false, expireAtMs: null, refresh: false, nowMs });
  return [set(`${MACHINES_DIR}/${name}`, machineRecordValue(clientUrl, peerUrl)), set(CLUSTER_CONFIG_KEY, JSON.stringify(config))];
}

/** The client and peer URLs of a machine record; undefined when the value is not one. */
export function parseMachineRecord(value: string): { clientUrl: string; peerUrl: string } | undefined {
  const params = new URLSearchParams(value);
  const clientUrl = params.get('etcd');
  const peerUrl = params.get('raft');
  if (clientUrl === null || peerUrl === null) return undefined;
  return { clientUrl, peerUrl };
}
