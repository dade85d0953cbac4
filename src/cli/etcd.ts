/**
 * `bin/etcd`: the server process itself (no fork, no daemon — tools stop it by its pid).
 * Parses flags/env/config file, prints help, version and warnings, decides how this data dir
 * becomes a member (spec §9.3: restart from its log, found a cluster, join one through its
 * peers, or wait as a standby), listens on exactly the peer and client URLs it was given, and
 * runs the member with its Raft transport and the leader's membership monitor.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { systemClock } from '../common/clock.js';
import { systemPrng } from '../common/prng.js';
import { createClientPortHandler } from '../api/client-port.js';
import { StorageOpenError } from '../storage/disk-storage.js';
import { SnapshotCorruptError } from '../storage/snapshot.js';
import { WalCorruptError } from '../storage/wal.js';
import { createPeerTransport } from '../transport/index.js';
import { startClusterMonitor } from '../server/cluster-monitor.js';
import { DataDirLockedError, lockDataDir } from '../server/data-dir-lock.js';
import { IDENTITY_FILE } from '../server/identity.js';
import { memberConfigFrom, validateMemberConfig, type MemberConfig } from '../server/config.js';
import { JoinFailedError, JoinRefusedError, joinThroughPeers, type JoinSelf, type StandbyOutcome } from '../server/join.js';
import { closeAll, listenAll, type RequestHandler } from '../server/listeners.js';
import type { Member, TransportFactory } from '../server/member.js';
import type { RemovalReason } from '../server/membership.js';
import { BootstrapError, hasMemberData, openMember, type BootstrapPlan } from '../server/open-member.js';
import { peerClusterFor } from '../server/peer-cluster.js';
import { createPeerPortHandler } from '../server/peer-port.js';
import { peerAdminFor } from '../server/peer-admin.js';
import { normalizePeerUrl, peerRequest, type PeerTls } from '../server/peer-client.js';
import { readStandbyInfo, STANDBY_INFO_FILE, StandbyLoop, standbyClientHandler, standbyPeerHandler } from '../server/standby.js';
import { DEFAULT_DISCOVERY_CLIENT_OPTIONS, DiscoveryClient, DiscoveryError } from '../discovery/client.js';
import { discoverCluster, RegistrationRefresher, type DiscoveryOutcome } from '../discovery/registration.js';
import { etcdUsage, parseEtcdCommand } from './config.js';
import { MIN_CLUSTER_ACTIVE_SIZE } from './config-resolve.js';
import { ConfigError, type EtcdConfig } from './config-types.js';

function logLine(text: string): void {
  process.stderr.write(`[etcd] ${new Date().toISOString()} ${text}\n`);
}

/** Exit code 1 with the message on stderr: bad flags, unusable data dir, address in use. */
function refuse(message: string): never {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
  process.exit(1);
}

function parseOrExit(): EtcdConfig {
  let command;
  try {
    command = parseEtcdCommand(process.argv.slice(2), process.env);
  } catch (error) {
    // As Go's flag package: the problem, then the usage, on stderr.
    if (error instanceof ConfigError) refuse(`etcd: ${error.message}\n${etcdUsage()}`);
    throw error;
  }
  if (command.kind === 'help' || command.kind === 'version') {
    process.stdout.write(command.text.endsWith('\n') ? command.text : command.text + '\n');
    process.exit(0);
  }
  return command.config;
}

// ---- listeners whose handlers change as the process moves between standby and member ----------

type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

const refuseUpgrade: UpgradeHandler = (_req, socket) => {
  socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
};

const notReady: RequestHandler = (_req, res) => {
  res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('etcd is starting\n');
};

class Ports {
  peer: RequestHandler = notReady;
  client: RequestHandler = notReady;
  upgrade: UpgradeHandler = refuseUpgrade;
  private peerServers: http.Server[] = [];
  private clientServers: http.Server[] = [];

  constructor(private readonly config: EtcdConfig) {}

  async listenPeer(): Promise<void> {
    if (this.peerServers.length > 0) return;
    this.peerServers = await listenAll(this.config.listenPeerUrls, (req, res) => this.peer(req, res), this.config.peerTls);
    for (const server of this.peerServers) server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  async listenClient(): Promise<void> {
    if (this.clientServers.length > 0) return;
    this.clientServers = await listenAll(this.config.listenClientUrls, (req, res) => this.client(req, res), this.config.clientTls);
  }

  async close(): Promise<void> {
    await closeAll([...this.peerServers, ...this.clientServers]);
    this.peerServers = [];
    this.clientServers = [];
  }
}

/** Starts listening or exits 1 with the reason (an address in use, a missing certificate). */
async function listenOrExit(ports: Ports, which: 'peer' | 'client'): Promise<void> {
  try {
    if (which === 'peer') await ports.listenPeer();
    else await ports.listenClient();
  } catch (error) {
    await ports.close();
    refuse(`etcd: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// ---- deciding how this data dir becomes a member (spec §9.3) ---------------------------------

type StartPlan =
  | { readonly kind: 'restart' }
  /** activeSize: the founder's cluster size when the discovery token set it (else the flag's). */
  | { readonly kind: 'bootstrap'; readonly plan: BootstrapPlan; readonly activeSize?: number }
  | { readonly kind: 'standby'; readonly peers: readonly string[]; readonly outcome: StandbyOutcome | null };

/** The peer TLS files, read once, for the join and standby requests to https peers. */
function peerTlsOption(config: EtcdConfig): { tls?: PeerTls } {
  const files = config.peerTls;
  if (files === null) return {};
  return {
    tls: {
      cert: readFileSync(files.certFile),
      key: readFileSync(files.keyFile),
      ...(files.caFile !== '' ? { ca: readFileSync(files.caFile) } : {}),
    },
  };
}

function selfOf(config: EtcdConfig): JoinSelf {
  return { name: config.name, peerUrl: config.advertisePeerUrls[0] ?? '', clientUrl: config.advertiseClientUrls[0] ?? '' };
}

function joinOptions(config: EtcdConfig): Parameters<typeof joinThroughPeers>[2] {
  return {
    maxRetryAttempts: config.maxRetryAttempts,
    retryIntervalMs: config.retryIntervalSec === null ? null : config.retryIntervalSec * 1000,
    requestTimeoutMs: 2000,
    log: logLine,
    ...peerTlsOption(config),
  };
}

async function decideStart(config: EtcdConfig): Promise<StartPlan> {
  if (hasMemberData(config.dataDir)) return { kind: 'restart' };
  const standbyInfo = readStandbyInfo(config.dataDir);
  if (standbyInfo?.running === true) {
    return { kind: 'standby', peers: [...standbyInfo.cluster.map((m) => m.peerURL), ...config.peers], outcome: null };
  }
  if (config.discovery !== '') return discoverStart(config);
  const others = config.initialCluster.filter((m) => m.name !== config.name);
  if (config.initialClusterState === 'existing' && config.initialCluster.length > 0) return joinExisting(config, others.map((m) => m.peerUrl));
  if (config.initialCluster.length > 1) {
    return { kind: 'bootstrap', plan: { kind: 'found', members: foundersOf(config) } };
  }
  if (config.peers.length > 0) return joinThroughPeersOrExit(config, config.peers);
  return { kind: 'bootstrap', plan: foundAlone(config) };
}

function foundAlone(config: EtcdConfig): BootstrapPlan {
  return { kind: 'found', members: [{ name: config.name, peerUrls: config.advertisePeerUrls }] };
}

// ---- discovery (spec §11.1) --------------------------------------------------------------------

function discoveryClientFor(config: EtcdConfig): DiscoveryClient {
  return new DiscoveryClient(config.discovery, { ...DEFAULT_DISCOVERY_CLIENT_OPTIONS, log: logLine });
}

/**
 * A fresh data dir with -discovery: register, then found the cluster or join the registered
 * peers. A registry we cannot use falls back to -peers; without them this member cannot start.
 */
async function discoverStart(config: EtcdConfig): Promise<StartPlan> {
  let outcome: DiscoveryOutcome;
  try {
    outcome = await discoverCluster(discoveryClientFor(config), selfOf(config), logLine);
  } catch (error) {
    if (!(error instanceof DiscoveryError)) throw error;
    if (config.peers.length > 0) {
      logLine(`discovery failed (${error.message}); joining through -peers ${config.peers.join(',')}`);
      return joinThroughPeersOrExit(config, config.peers);
    }
    refuse(`etcd: ${config.name}, the new instance, must register itself to discovery service as required\netcd: discovery failed: ${error.message}`);
  }
  if (outcome.kind === 'join') return joinThroughPeersOrExit(config, outcome.peers.map((peer) => peerUrlOf(config, peer.address)));
  const activeSize = foundingActiveSize(config, outcome.size);
  return { kind: 'bootstrap', plan: foundAlone(config), ...(activeSize !== null ? { activeSize } : {}) };
}

/**
 * The token's `_config/size` seeds the founder's activeSize (so a size=5 token forms five voters)
 * unless -cluster-active-size was given: an explicit flag is the operator's word and wins.
 */
function foundingActiveSize(config: EtcdConfig, tokenSize: number | null): number | null {
  if (tokenSize === null) return null;
  if (config.clusterActiveSizeExplicit) {
    logLine(`discovery: the token asks for ${tokenSize} members; -cluster-active-size ${config.clusterActiveSize} wins (the rest become standbys)`);
    return null;
  }
  const activeSize = Math.max(MIN_CLUSTER_ACTIVE_SIZE, tokenSize);
  logLine(`discovery: activeSize ${activeSize} from the token's _config/size ${tokenSize}`);
  return activeSize;
}

/** Registered peers are host:port (0.4.6 stripped the scheme); ours is the one to dial them with. */
function peerUrlOf(config: EtcdConfig, address: string): string {
  return `${config.peerTls === null ? 'http' : 'https'}://${address}`;
}

/**
 * Keeps our registry entry alive while we run. A fresh data dir went through discovery moments
 * ago (registered, or the registry failed just now); a restart re-registers at once.
 */
function startRegistrationRefresh(config: EtcdConfig, ranDiscovery: boolean, shutdown: ShutdownHook): void {
  if (config.discovery === '') return;
  const refresher = new RegistrationRefresher(discoveryClientFor(config), selfOf(config), { log: logLine });
  refresher.start(!ranDiscovery);
  shutdown.beforeStop.push(() => refresher.stop());
}

/** decideStart runs the discovery protocol exactly for a data dir that is neither a member nor a standby. */
function isFreshDataDir(config: EtcdConfig): boolean {
  return !hasMemberData(config.dataDir) && readStandbyInfo(config.dataDir)?.running !== true;
}

/** Best effort: the registered peers, as extra candidates for a standby (never fatal). */
async function discoveryPeers(config: EtcdConfig): Promise<string[]> {
  if (config.discovery === '') return [];
  try {
    const peers = await discoveryClientFor(config).registeredPeers(config.name);
    return peers.map((peer) => peerUrlOf(config, peer.address));
  } catch (error) {
    logLine(`discovery: cannot read the registered peers: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}

/** --initial-cluster as founders; a repeated name lists all its URLs. */
function foundersOf(config: EtcdConfig): Array<{ name: string; peerUrls: string[] }> {
  const byName = new Map<string, string[]>();
  for (const { name, peerUrl } of config.initialCluster) byName.set(name, [...(byName.get(name) ?? []), peerUrl]);
  return [...byName.entries()].map(([name, peerUrls]) => ({ name, peerUrls }));
}

async function joinThroughPeersOrExit(config: EtcdConfig, peers: readonly string[]): Promise<StartPlan> {
  try {
    const outcome = await joinThroughPeers(peers, selfOf(config), joinOptions(config));
    if (outcome.kind === 'standby') return { kind: 'standby', peers, outcome };
    logLine(`joined the cluster ${outcome.clusterId} as member ${outcome.memberId} (leader ${outcome.leaderPeerUrl})`);
    return { kind: 'bootstrap', plan: { kind: 'join', memberId: outcome.memberId, clusterId: outcome.clusterId } };
  } catch (error) {
    if (error instanceof JoinFailedError || error instanceof JoinRefusedError) refuse(`etcd: ${error.message}`);
    throw error;
  }
}

/**
 * 3.4's `--initial-cluster-state existing`: the member was added (`member add`) by its peer URL;
 * a running member's peer port says which id it got.
 */
async function joinExisting(config: EtcdConfig, peers: readonly string[]): Promise<StartPlan> {
  const ownUrls = new Set([...config.advertisePeerUrls, ...config.initialCluster.filter((m) => m.name === config.name).map((m) => m.peerUrl)]);
  for (let round = 1; round <= Math.max(1, config.maxRetryAttempts); round++) {
    for (const peer of peers) {
      try {
        const answer = await peerRequest('GET', `${normalizePeerUrl(peer)}/members`, null, { timeoutMs: 2000, ...peerTlsOption(config) });
        if (answer.status !== 200) continue;
        const members = JSON.parse(answer.body.toString('utf8')) as Array<{ id: string; peerURLs: string[] }>;
        const clusterId = answer.headers['x-etcd-cluster-id'];
        const self = members.find((m) => m.peerURLs.some((url) => ownUrls.has(url)));
        if (self === undefined) {
          refuse(`etcd: this member (${[...ownUrls].join(',')}) is not in the cluster: add it first (etcdctl member add, or POST /v2/members)`);
        }
        if (typeof clusterId !== 'string') continue;
        logLine(`joining the existing cluster ${clusterId} as member ${self.id}`);
        return { kind: 'bootstrap', plan: { kind: 'join', memberId: self.id, clusterId } };
      } catch (error) {
        logLine(`cannot get the member list from ${peer}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (round < config.maxRetryAttempts) await new Promise((resolve) => setTimeout(resolve, (config.retryIntervalSec ?? 1) * 1000));
  }
  refuse(`etcd: cannot reach any member of the existing cluster (${peers.join(', ')})`);
}

function dataDirProblem(config: EtcdConfig, error: unknown): string {
  const errno = error as NodeJS.ErrnoException;
  const where = typeof errno.syscall === 'string' ? ` (${errno.syscall}${errno.path !== undefined ? ` ${errno.path}` : ''})` : '';
  return `etcd: cannot use the data dir ${config.dataDir}: ${errno.code ?? errno.message}${where}`;
}

// ---- running --------------------------------------------------------------------------------

/** -force: start over, deleting only what a member writes, never anything else in the directory. */
function forgetMemberData(dataDir: string): void {
  for (const entry of ['wal', 'snap', IDENTITY_FILE, STANDBY_INFO_FILE]) rmSync(join(dataDir, entry), { recursive: true, force: true });
}

function transportFactory(config: EtcdConfig): TransportFactory {
  return (handlers, ids) =>
    createPeerTransport(
      {
        selfId: ids.selfId,
        clusterId: ids.clusterId,
        selfPeerUrls: config.advertisePeerUrls,
        tls: config.peerTls === null ? null : { certFile: config.peerTls.certFile, keyFile: config.peerTls.keyFile, caFile: config.peerTls.caFile },
        dialTimeoutMs: Math.max(1000, config.heartbeatIntervalMs * 5),
        minBackoffMs: 50,
        maxBackoffMs: 1000,
        maxQueuedMessages: 4096,
        log: logLine,
      },
      handlers,
    );
}

async function openOrExit(config: EtcdConfig, memberConfig: MemberConfig, bootstrap: BootstrapPlan | undefined, onRemoved: (reason: RemovalReason) => void): Promise<Member> {
  try {
    return await openMember({
      config: memberConfig,
      clock: systemClock,
      prng: systemPrng,
      onFatal: (error: unknown) => {
        logLine(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        process.exit(2);
      },
      onNotice: logLine,
      ...(bootstrap !== undefined ? { bootstrap } : {}),
      transport: transportFactory(config),
      onRemoved,
    });
  } catch (error) {
    if (error instanceof WalCorruptError || error instanceof SnapshotCorruptError || error instanceof StorageOpenError || error instanceof BootstrapError) {
      refuse(`etcd: refusing to start: ${error.message}`);
    }
    const errno = error as NodeJS.ErrnoException;
    // An unusable data dir (permissions, a file in the way, full disk) is the user's to fix.
    if (typeof errno.code === 'string' && typeof errno.syscall === 'string') refuse(dataDirProblem(config, error));
    throw error;
  }
}

/** What ended a member's run. */
type RunEnd = { readonly kind: 'removed'; readonly reason: RemovalReason } | { readonly kind: 'signal' };

/** A standby until a slot frees; resolves with the plan to join as a member. */
async function runStandby(config: EtcdConfig, ports: Ports, peers: readonly string[], outcome: StandbyOutcome | null, shutdown: ShutdownHook): Promise<BootstrapPlan> {
  const loop = new StandbyLoop({
    dataDir: config.dataDir,
    peers,
    self: selfOf(config),
    syncIntervalSec: outcome?.config.syncInterval ?? config.clusterSyncIntervalSec,
    ...(outcome !== null ? { machines: outcome.machines } : {}),
    ...peerTlsOption(config),
    log: logLine,
  });
  ports.peer = standbyPeerHandler();
  ports.client = standbyClientHandler(() => loop.view());
  ports.upgrade = refuseUpgrade;
  await listenOrExit(ports, 'peer');
  await listenOrExit(ports, 'client');
  logLine(`${config.name} is a standby: the cluster is full; clients are redirected to its leader`);
  shutdown.current = async () => loop.stop();
  const joined = await loop.start();
  logLine(`standby ${config.name} joined the cluster ${joined.clusterId} as member ${joined.memberId}`);
  return { kind: 'join', memberId: joined.memberId, clusterId: joined.clusterId };
}

async function runMember(config: EtcdConfig, ports: Ports, bootstrap: BootstrapPlan | undefined, shutdown: ShutdownHook): Promise<RunEnd> {
  const memberConfig = memberConfigFrom(config);
  let removed: (reason: RemovalReason) => void = () => undefined;
  const removal = new Promise<RunEnd>((resolve) => (removed = (reason) => resolve({ kind: 'removed', reason })));
  const member = await openOrExit(config, memberConfig, bootstrap, (reason) => removed(reason));
  const transport = member.peerTransport();
  ports.upgrade = transport === null ? refuseUpgrade : (req, socket, head) => transport.handleUpgrade(req, socket, head);
  ports.peer = createPeerPortHandler({
    ...member.peerPortSource(),
    admin: peerAdminFor(member, () => member.clusterConfigJson()),
    cluster: peerClusterFor(member),
  });
  ports.client = createClientPortHandler(member, { corsOrigins: config.corsOrigins });
  // Peers must reach us before we can elect or be sent the log.
  await listenOrExit(ports, 'peer');
  await member.start();
  await listenOrExit(ports, 'client');
  const monitor = startClusterMonitor(
    {
      isLeader: () => member.isLeader(),
      selfId: () => member.self.id,
      clusterConfig: () => member.clusterConfig(),
      voters: () => member.voters(),
      sinceLastContactMs: (id) => member.sinceLastContactMs(id),
      removeMember: (id, reason) => member.removeMember(id, reason),
    },
    { intervalMs: 1000, prng: systemPrng, log: logLine, leaderSinceMs: () => member.leadershipStartedAtMs(), nowMs: () => systemClock.monotonicMs() },
  );
  logLine(
    `${config.name} (${member.self.id}) is serving: client ${config.advertiseClientUrls.join(',')} ` +
      `(listening on ${config.listenClientUrls.join(',')}), peer ${config.advertisePeerUrls.join(',')} ` +
      `(listening on ${config.listenPeerUrls.join(',')}), data in ${config.dataDir}`,
  );
  let stopping: Promise<void> | null = null;
  const stopMember = (): Promise<void> => {
    stopping ??= (async () => {
      monitor.stop();
      await member.stop();
    })();
    return stopping;
  };
  shutdown.current = stopMember;
  const end = await removal;
  // Let the messages of the last Ready (the removal's commit) reach the others first.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await stopMember();
  return end;
}

interface ShutdownHook {
  current: () => Promise<void>;
  /** Timers to stop first (the discovery refresh). */
  readonly beforeStop: Array<() => void>;
}

async function main(): Promise<void> {
  const config = parseOrExit();
  for (const warning of config.warnings) process.stderr.write(`${warning}\n`);
  const problems = validateMemberConfig(memberConfigFrom(config));
  if (problems.length > 0) refuse(`etcd: ${problems.join('; ')}`);
  try {
    mkdirSync(config.dataDir, { recursive: true });
  } catch (error) {
    refuse(dataDirProblem(config, error));
  }
  try {
    const release = lockDataDir(config.dataDir);
    process.on('exit', release);
  } catch (error) {
    if (error instanceof DataDirLockedError) refuse(`etcd: ${error.message}`);
    refuse(dataDirProblem(config, error));
  }
  if (config.force) {
    forgetMemberData(config.dataDir);
    logLine(`-force: removed the log, snapshots and identity (and any standby_info) in ${config.dataDir}`);
  }
  const ports = new Ports(config);
  const shutdown: ShutdownHook = { current: async () => undefined, beforeStop: [] };
  installShutdown(ports, shutdown);
  const fresh = isFreshDataDir(config);
  const start = await decideStart(config);
  startRegistrationRefresh(config, fresh, shutdown);
  // Only the founder's config seeds the cluster's; after that the admin API owns activeSize.
  const runConfig: EtcdConfig = start.kind === 'bootstrap' && start.activeSize !== undefined ? { ...config, clusterActiveSize: start.activeSize } : config;
  let bootstrap: BootstrapPlan | undefined =
    start.kind === 'bootstrap' ? start.plan : start.kind === 'standby' ? await runStandby(config, ports, start.peers, start.outcome, shutdown) : undefined;
  for (;;) {
    const end = await runMember(runConfig, ports, bootstrap, shutdown);
    if (end.kind === 'signal') return;
    if (end.reason === 'explicit') {
      logLine(`${config.name} was removed from the cluster; exiting`);
      await ports.close();
      process.exit(0);
    }
    // Removed by the leader (removeDelay, activeSize): 0.4.6 turns such a member into a standby
    // that starts over from the cluster's state when it joins again.
    logLine(`${config.name} was removed by the leader; becoming a standby`);
    const peers = [...new Set([...collectPeers(config), ...(await discoveryPeers(config))])].filter((url) => !config.advertisePeerUrls.includes(url));
    forgetMemberData(config.dataDir);
    bootstrap = await runStandby(config, ports, peers, null, shutdown);
  }
}

/** Peers to poll as a standby after removal: the -peers given and the initial cluster. */
function collectPeers(config: EtcdConfig): string[] {
  return [...new Set([...config.peers, ...config.initialCluster.map((m) => m.peerUrl)])];
}

function installShutdown(ports: Ports, hook: ShutdownHook): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logLine(`${signal}: shutting down`);
    void (async () => {
      for (const stop of hook.beforeStop) stop();
      // The member first: its transport owns the upgraded raft sockets, which would otherwise
      // keep the peer listener's close() waiting.
      await hook.current();
      await Promise.race([ports.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  logLine(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(2);
});
