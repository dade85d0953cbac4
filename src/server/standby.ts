/**
 * Standby mode (spec §9.4): a process whose cluster was full when it joined (or that the leader
 * removed). It is not a Raft member and holds no store: it sends every client to the leader, serves
 * nothing on its peer port, and polls the cluster every syncInterval until there is a free slot,
 * then joins. What it knows of the cluster survives a restart in `<data-dir>/standby_info`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { open, rename } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestTarget } from '../api/key-path.js';
import { sendJson, sendNotFound, sendRedirect } from '../api/respond.js';
import { assert } from '../common/assert.js';
import { EtcdError, ErrorCode } from '../common/errors.js';
import { goJsonBody } from '../common/json.js';
import { joinThroughPeers, JoinFailedError, JoinRefusedError, type JoinedOutcome, type JoinSelf } from './join.js';
import type { RequestHandler } from './listeners.js';
import { CLUSTER_CONFIG_MINIMUMS, type AdminMachine, type ClusterConfigValues } from './peer-admin.js';
import { asAdminMachine, fetchClusterConfig, fetchMachines, normalizePeerUrl, PeerRequestError, type PeerTls } from './peer-client.js';

export interface StandbyView {
  /** Where clients are sent; null until some peer has named a leader. */
  readonly leaderClientUrl: string | null;
}

/** Every client request, whatever its path (even /version), is the leader's to answer (0.4.6, obs). */
export function standbyClientHandler(view: () => StandbyView): RequestHandler {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const leader = view().leaderClientUrl;
    if (leader === null) {
      const error = new EtcdError(ErrorCode.StandbyInternal, 'no leader is known to this standby');
      sendJson(req, res, error.httpStatus, { 'Content-Type': 'application/json' }, error.toJSON());
      return;
    }
    sendRedirect(req, res, 307, `${leader.replace(/\/+$/, '')}${requestTarget(req.url ?? '/')}`);
  };
}

/** A standby takes no part in Raft and answers no admin or join request. */
export function standbyPeerHandler(): RequestHandler {
  return (req: IncomingMessage, res: ServerResponse): void => sendNotFound(req, res);
}

// --- standby_info -------------------------------------------------------------------------------

export const STANDBY_INFO_FILE = 'standby_info';

export interface StandbyInfo {
  /** True while this process is a standby; a restart with it set starts as a standby again. */
  readonly running: boolean;
  readonly cluster: AdminMachine[];
  /** Seconds between polls. */
  readonly syncInterval: number;
}

export class StandbyInfoError extends Error {
  override name = 'StandbyInfoError';
}

/** The 0.4.6 field names, so a data dir reads the same to anyone who knows that layout. */
function standbyInfoText(info: StandbyInfo): string {
  return goJsonBody({ Running: info.running, Cluster: info.cluster, SyncInterval: info.syncInterval });
}

/** Null when the data dir has none (this member was never a standby). */
export function readStandbyInfo(dataDir: string): StandbyInfo | null {
  const path = join(dataDir, STANDBY_INFO_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const info = parseStandbyInfo(text);
  if (info === null) throw new StandbyInfoError(`${path} is not standby info: ${text.slice(0, 200)}`);
  return info;
}

function parseStandbyInfo(text: string): StandbyInfo | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { Running, Cluster, SyncInterval } = parsed as Record<string, unknown>;
  if (typeof Running !== 'boolean' || !Array.isArray(Cluster) || typeof SyncInterval !== 'number') return null;
  const cluster = Cluster.map(asAdminMachine);
  if (cluster.some((m) => m === null)) return null;
  return { running: Running, cluster: cluster.filter((m): m is AdminMachine => m !== null), syncInterval: SyncInterval };
}

/** Temp file, fsync, rename, fsync the directory: a crash leaves the old file or the new one. */
export async function writeStandbyInfo(dataDir: string, info: StandbyInfo): Promise<void> {
  const path = join(dataDir, STANDBY_INFO_FILE);
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(standbyInfoText(info));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dataDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

// --- the polling loop ---------------------------------------------------------------------------

export interface StandbyLoopConfig {
  readonly dataDir: string;
  /** Peers to ask first (`-peers`, the join's peers, or standby_info's cluster). */
  readonly peers: readonly string[];
  readonly self: JoinSelf;
  /** Seconds between polls until the cluster tells us its own value. */
  readonly syncIntervalSec: number;
  /** The cluster as last seen (from the refused join or standby_info), so clients are redirected from the start. */
  readonly machines?: readonly AdminMachine[];
  readonly requestTimeoutMs?: number;
  readonly tls?: PeerTls;
  readonly log: (line: string) => void;
}

/** start() was ended by stop() before the standby joined. */
export class StandbyStoppedError extends Error {
  override name = 'StandbyStoppedError';
  constructor() {
    super('standby stopped before joining the cluster');
  }
}

const DEFAULT_REQUEST_TIMEOUT_MS = 2000;

export class StandbyLoop {
  private machines: AdminMachine[];
  private knownPeers: string[];
  private syncIntervalSec: number;
  /** standby_info as last written (to write only changes). */
  private persisted: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private settle: { resolve: (outcome: JoinedOutcome) => void; reject: (error: unknown) => void } | null = null;
  private started = false;

  constructor(private readonly config: StandbyLoopConfig) {
    this.machines = [...(config.machines ?? [])];
    this.knownPeers = unique([...this.machines.map((m) => normalizePeerUrl(m.peerURL)), ...config.peers.map(normalizePeerUrl)]).filter(
      (peer) => peer !== normalizePeerUrl(config.self.peerUrl),
    );
    this.syncIntervalSec = effectiveSyncInterval(config.syncIntervalSec);
  }

  view(): StandbyView {
    const leaderClientUrl = this.machines.find((m) => m.state === 'leader')?.clientURL ?? '';
    // A member registered without a client URL cannot take redirected clients: answer 402 instead.
    return { leaderClientUrl: leaderClientUrl === '' ? null : leaderClientUrl };
  }

  /** Peers the next poll asks, in order. */
  peers(): readonly string[] {
    return this.knownPeers;
  }

  /** Polls at once, then every syncInterval; resolves when this process has joined as a member. */
  start(): Promise<JoinedOutcome> {
    assert(!this.started, 'StandbyLoop.start called twice');
    this.started = true;
    return new Promise<JoinedOutcome>((resolve, reject) => {
      this.settle = { resolve, reject };
      void this.persist(true).then(
        () => this.poll(),
        (error: unknown) => this.finish(error),
      );
    });
  }

  /** Ends polling (and any request in flight); a pending start() rejects with StandbyStoppedError. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    this.finish(new StandbyStoppedError());
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async poll(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    try {
      const joined = await this.pollOnce();
      if (this.stopped) return;
      if (joined !== null) {
        await this.persist(false);
        this.finish(null, joined);
        return;
      }
    } catch (error) {
      if (!this.stopped) this.finish(error);
      return;
    }
    this.timer = setTimeout(() => void this.poll(), this.syncIntervalSec * 1000);
  }

  /** One sync: refresh what we know of the cluster; join if it has room. */
  private async pollOnce(): Promise<JoinedOutcome | null> {
    const seen = await this.fetchCluster();
    if (seen === null) {
      this.config.log(`standby: no peer answered (${this.knownPeers.join(', ')}); retrying in ${this.syncIntervalSec} s`);
      return null;
    }
    this.adopt(seen.machines, seen.config);
    await this.persist(true);
    const listed = seen.machines.some((m) => m.name === this.config.self.name);
    if (!listed && seen.machines.length >= seen.config.activeSize) return null;
    return this.tryJoin();
  }

  private async fetchCluster(): Promise<{ machines: AdminMachine[]; config: ClusterConfigValues } | null> {
    const request = { timeoutMs: this.config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, signal: this.abort.signal, ...(this.config.tls !== undefined ? { tls: this.config.tls } : {}) };
    for (const peer of this.knownPeers) {
      try {
        return { machines: await fetchMachines(peer, request), config: await fetchClusterConfig(peer, request) };
      } catch (error) {
        if (!(error instanceof PeerRequestError)) throw error;
        if (this.stopped) return null;
      }
    }
    return null;
  }

  private adopt(machines: AdminMachine[], config: ClusterConfigValues): void {
    this.machines = machines;
    const self = normalizePeerUrl(this.config.self.peerUrl);
    const fromCluster = machines.map((m) => normalizePeerUrl(m.peerURL)).filter((peer) => peer !== self);
    // An empty list would strand us; keep asking the peers we had until the cluster names others.
    if (fromCluster.length > 0) this.knownPeers = unique(fromCluster);
    this.syncIntervalSec = effectiveSyncInterval(config.syncInterval);
  }

  private async tryJoin(): Promise<JoinedOutcome | null> {
    const leader = this.machines.find((m) => m.state === 'leader');
    const peers = unique([...(leader !== undefined ? [normalizePeerUrl(leader.peerURL)] : []), ...this.knownPeers]);
    this.config.log(`standby: the cluster has room; joining through ${peers.join(', ')}`);
    try {
      const outcome = await joinThroughPeers(peers, this.config.self, {
        maxRetryAttempts: 1,
        retryIntervalMs: 0,
        requestTimeoutMs: this.config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        log: this.config.log,
        signal: this.abort.signal,
        ...(this.config.tls !== undefined ? { tls: this.config.tls } : {}),
      });
      if (outcome.kind === 'joined') return outcome;
      this.adopt(outcome.machines, outcome.config);
      await this.persist(true);
      return null;
    } catch (error) {
      // A round that failed is tried again at the next sync; a refusal (109) will not change.
      if (error instanceof JoinFailedError) return null;
      if (error instanceof JoinRefusedError) this.config.log(`standby: ${error.message}`);
      throw error;
    }
  }

  private async persist(running: boolean): Promise<void> {
    const info: StandbyInfo = { running, cluster: this.machines, syncInterval: this.syncIntervalSec };
    const text = standbyInfoText(info);
    if (text === this.persisted) return;
    await writeStandbyInfo(this.config.dataDir, info);
    this.persisted = text;
  }

  private finish(error: unknown, outcome?: JoinedOutcome): void {
    const settle = this.settle;
    if (settle === null) return;
    this.settle = null;
    if (outcome !== undefined) settle.resolve(outcome);
    else settle.reject(error);
  }
}

/** A zero or garbage interval (a hand-written /_etcd/config) crashed 0.4.6 standbys; we poll at the minimum instead. */
function effectiveSyncInterval(seconds: number): number {
  return Number.isFinite(seconds) && seconds >= CLUSTER_CONFIG_MINIMUMS.syncInterval ? seconds : CLUSTER_CONFIG_MINIMUMS.syncInterval;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
