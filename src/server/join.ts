/**
 * The joiner's side of the 0.4.6 join handshake (spec §9.3): ask each given peer in turn for its
 * protocol version, machine list and cluster config, then PUT `/join` (following 307s to the
 * leader). A full cluster makes this member a standby (§9.4) instead of failing; a peer address
 * that another name holds is a configuration conflict no retry can fix, so it ends the attempt.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../common/errors.js';
import { isMemberId } from '../common/ids.js';
import { systemPrng, type Prng } from '../common/prng.js';
import type { AdminMachine, ClusterConfigValues } from './peer-admin.js';
import { PEER_PROTOCOL_VERSION } from './peer-protocol.js';
import {
  fetchClusterConfig,
  fetchMachines,
  fetchPeerVersion,
  normalizePeerUrl,
  peerRequest,
  PeerRequestError,
  type PeerRequestOptions,
  type PeerResponse,
  type PeerTls,
} from './peer-client.js';

export interface JoinSelf {
  readonly name: string;
  readonly peerUrl: string;
  readonly clientUrl: string;
}

export interface JoinedOutcome {
  readonly kind: 'joined';
  readonly memberId: string;
  readonly clusterId: string;
  /** The leader's commit index once our join was committed: the log must reach it before we serve. */
  readonly commitIndex: number;
  readonly leaderPeerUrl: string;
}

export interface StandbyOutcome {
  readonly kind: 'standby';
  readonly machines: AdminMachine[];
  readonly config: ClusterConfigValues;
}

export type JoinOutcome = JoinedOutcome | StandbyOutcome;

export interface JoinOptions {
  /** Rounds over all peers (`-max-retry-attempts`). */
  maxRetryAttempts: number;
  /** Pause between rounds (`-retry-interval`); null = random 2.5–4.95 s so joiners started together spread out. */
  retryIntervalMs: number | null;
  requestTimeoutMs: number;
  log: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Source of the random retry interval (default: Math.random). */
  prng?: Prng;
  tls?: PeerTls;
  /** Aborting ends the attempt with JoinAbortedError (a standby being stopped). */
  signal?: AbortSignal;
  /** Sent with every join of this call, so a retry of a join that was admitted gets the same answer (default: random). */
  joinId?: string;
}

/** Every round failed: no peer answered, or none could take the join. The text is 0.4.6's fatal line. */
export class JoinFailedError extends Error {
  override name = 'JoinFailedError';
  constructor(readonly attempts: number) {
    super(`fail joining the cluster via given peers after ${attempts} retries`);
  }
}

/**
 * The cluster refused this member for a reason retrying cannot change (109: our peer URL is
 * another name's; 105: our name is already a member).
 */
export class JoinRefusedError extends Error {
  override name = 'JoinRefusedError';
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class JoinAbortedError extends Error {
  override name = 'JoinAbortedError';
  constructor() {
    super('join aborted');
  }
}

/** 0.4.6 followed the leader's redirects; a longer chain means the peers disagree about the leader. */
export const MAX_JOIN_REDIRECTS = 10;

const JOIN_PROTOCOL_VERSION = Number(PEER_PROTOCOL_VERSION);
const RANDOM_RETRY_MIN_MS = 2500;
const RANDOM_RETRY_MAX_MS = 4950;

export async function joinThroughPeers(peers: readonly string[], self: JoinSelf, callerOptions: JoinOptions): Promise<JoinOutcome> {
  const options: JoinOptions = { ...callerOptions, joinId: callerOptions.joinId ?? randomBytes(8).toString('hex') };
  const candidates = peers.map(normalizePeerUrl);
  for (let round = 1; round <= options.maxRetryAttempts; round++) {
    for (const peer of candidates) {
      throwIfAborted(options);
      const outcome = await joinThroughPeer(peer, self, options);
      if (outcome !== null) return outcome;
    }
    if (round < options.maxRetryAttempts) {
      const pauseMs = retryPauseMs(options);
      options.log(`join: round ${round} of ${options.maxRetryAttempts} failed; retrying in ${pauseMs} ms`);
      await (options.sleep ?? abortableSleep(options.signal))(pauseMs);
    }
  }
  throwIfAborted(options);
  throw new JoinFailedError(options.maxRetryAttempts);
}

function retryPauseMs(options: JoinOptions): number {
  if (options.retryIntervalMs !== null) return options.retryIntervalMs;
  const prng = options.prng ?? systemPrng;
  return RANDOM_RETRY_MIN_MS + prng.int(RANDOM_RETRY_MAX_MS - RANDOM_RETRY_MIN_MS + 1);
}

/** One peer: the outcome, or null to move on to the next peer. */
async function joinThroughPeer(peer: string, self: JoinSelf, options: JoinOptions): Promise<JoinOutcome | null> {
  const request = requestOptions(options);
  let machines: AdminMachine[];
  let config: ClusterConfigValues;
  try {
    const version = await fetchPeerVersion(peer, request);
    if (version !== PEER_PROTOCOL_VERSION) {
      options.log(`join: ${peer} speaks peer protocol version ${JSON.stringify(version)}, this member speaks ${PEER_PROTOCOL_VERSION}; skipping it`);
      return null;
    }
    machines = await fetchMachines(peer, request);
    config = await fetchClusterConfig(peer, request);
  } catch (error) {
    return skipPeer(peer, error, options);
  }
  const alreadyMember = machines.some((m) => m.name === self.name);
  if (!alreadyMember && machines.length >= config.activeSize) {
    options.log(`join: the cluster at ${peer} is full (${machines.length} of activeSize ${config.activeSize}); becoming a standby`);
    return { kind: 'standby', machines, config };
  }
  try {
    return await sendJoin(peer, self, machines, config, options);
  } catch (error) {
    return skipPeer(peer, error, options);
  }
}

function skipPeer(peer: string, error: unknown, options: JoinOptions): null {
  if (error instanceof PeerRequestError) {
    throwIfAborted(options);
    options.log(`join: cannot join through ${peer}: ${error.message}`);
    return null;
  }
  throw error;
}

/** PUT /join, following redirects to the leader. Null when this peer could not take it. */
async function sendJoin(peer: string, self: JoinSelf, machines: AdminMachine[], config: ClusterConfigValues, options: JoinOptions): Promise<JoinOutcome | null> {
  const body = JSON.stringify({
    minVersion: JOIN_PROTOCOL_VERSION,
    maxVersion: JOIN_PROTOCOL_VERSION,
    name: self.name,
    raftURL: self.peerUrl,
    etcdURL: self.clientUrl,
    ...(options.joinId !== undefined ? { joinId: options.joinId } : {}),
  });
  let url = `${peer}/join`;
  for (let redirects = 0; ; redirects++) {
    options.log(`join: sending the join request of ${self.name} to ${url}`);
    const response = await peerRequest('PUT', url, body, requestOptions(options));
    if (response.status === 307) {
      if (redirects === MAX_JOIN_REDIRECTS) throw new PeerRequestError(`PUT ${peer}/join: more than ${MAX_JOIN_REDIRECTS} redirects`);
      url = redirectTarget(response, url);
      continue;
    }
    if (response.status === 200) return joinedOutcome(response, url);
    return refusedJoin(response, url, self, machines, config, options);
  }
}

function redirectTarget(response: PeerResponse, from: string): string {
  const location = response.headers.location;
  if (location === undefined || location === '') throw new PeerRequestError(`PUT ${from} answered 307 without a Location`);
  try {
    return new URL(location, from).toString();
  } catch {
    throw new PeerRequestError(`PUT ${from} redirected to ${JSON.stringify(location)}, which is not a URL`);
  }
}

function joinedOutcome(response: PeerResponse, url: string): JoinedOutcome {
  const memberId = headerValue(response, 'x-etcd-member-id');
  const clusterId = headerValue(response, 'x-etcd-cluster-id');
  if (memberId === null || !isMemberId(memberId) || clusterId === null || !isMemberId(clusterId)) {
    throw new PeerRequestError(`PUT ${url} answered 200 without a member id and cluster id of 16 hex digits`);
  }
  const commitIndex = decodeUvarint(response.body);
  if (commitIndex === null) throw new PeerRequestError(`PUT ${url} answered 200 without a commit index`);
  return { kind: 'joined', memberId, clusterId, commitIndex, leaderPeerUrl: new URL(url).origin };
}

function headerValue(response: PeerResponse, name: string): string | null {
  const value = response.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? null : first.trim().toLowerCase();
}

/** A non-200 answer: a full cluster makes us a standby, a taken peer address stops us, anything else tries the next peer. */
function refusedJoin(response: PeerResponse, url: string, self: JoinSelf, machines: AdminMachine[], config: ClusterConfigValues, options: JoinOptions): StandbyOutcome | null {
  // The status of a refusal differs between versions; the errorCode in the body is what counts.
  const errorCode = errorCodeOf(response.body);
  if (errorCode === ErrorCode.NoMorePeer) {
    options.log(`join: ${url} refused ${self.name}: the cluster is full (error 103); becoming a standby`);
    return { kind: 'standby', machines, config };
  }
  if (errorCode === ErrorCode.ExistingPeerAddr) {
    throw new JoinRefusedError(errorCode, `peer address ${self.peerUrl} is already used by another member`);
  }
  if (errorCode === ErrorCode.NodeExist) throw knownNameRefusal(response, url, self);
  const detail = errorCode === null ? `status ${response.status}` : `status ${response.status}, error ${errorCode}`;
  throw new PeerRequestError(`PUT ${url} refused the join (${detail})`);
}

/**
 * 105: our name is already a member (the leader's cause names its id). Our data dir is empty, so
 * that member's identity is lost with it: the operator removes it or picks another name.
 */
function knownNameRefusal(response: PeerResponse, url: string, self: JoinSelf): JoinRefusedError {
  const id = /\(([0-9a-f]{16})\)/.exec(causeOf(response.body))?.[1] ?? '<id>';
  const leaderPeerUrl = new URL(url).origin;
  return new JoinRefusedError(
    ErrorCode.NodeExist,
    `member ${self.name} is already in the cluster as ${id} and this data dir is empty: remove it first ` +
      `(DELETE ${leaderPeerUrl}/v2/admin/machines/${self.name}, or etcdctl member remove ${id}) or start it with a new name`,
  );
}

function causeOf(body: Buffer): string {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    const cause = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['cause'] : undefined;
    return typeof cause === 'string' ? cause : '';
  } catch {
    return '';
  }
}

function errorCodeOf(body: Buffer): number | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return null;
    const code = (parsed as Record<string, unknown>)['errorCode'];
    return typeof code === 'number' ? code : null;
  } catch {
    return null;
  }
}

/**
 * Go's binary.Uvarint: 7 bits per byte, low group first, high bit = more follows. 0.4.6 writes the
 * commit index this way into an 8-byte buffer (the rest zeros). Null when the bytes end mid-number
 * or it would not be an exact JS integer.
 */
export function decodeUvarint(bytes: Uint8Array): number | null {
  let value = 0;
  let scale = 1;
  for (const byte of bytes) {
    value += (byte & 0x7f) * scale;
    if (!Number.isSafeInteger(value)) return null;
    if ((byte & 0x80) === 0) return value;
    scale *= 128;
  }
  return null;
}

/** The inverse, for peers (and tests) that answer a join: the index in an 8-byte buffer as 0.4.6 sends it. */
export function encodeJoinIndex(index: number): Buffer {
  const bytes: number[] = [];
  let rest = index;
  while (rest >= 128) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  const buffer = Buffer.alloc(Math.max(8, bytes.length));
  buffer.set(bytes);
  return buffer;
}

function requestOptions(options: JoinOptions): PeerRequestOptions {
  return {
    timeoutMs: options.requestTimeoutMs,
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  };
}

function throwIfAborted(options: JoinOptions): void {
  if (options.signal?.aborted === true) throw new JoinAbortedError();
}

function abortableSleep(signal: AbortSignal | undefined): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
    });
}
