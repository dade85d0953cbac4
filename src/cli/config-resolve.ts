/**
 * Merges the sources (defaults < /etc/etcd/etcd.conf < -config file < ETCD_* env < flags) and
 * turns the merged settings into an EtcdConfig, validating what each value means.
 * Defaults are 0.4.6's (spec §12.1, §17): client 4001, peer 7001, heartbeat 50 ms,
 * election 200 ms; the member listens only where it is told (the advertised address unless a
 * bind address or listen URLs are given).
 */
import { ConfigError, type EtcdConfig, type TlsFiles } from './config-types.js';
import {
  advertisableHost,
  joinHostPort,
  listenableHost,
  parseBindAddr,
  parseDiscoveryUrl,
  parseHostPort,
  parseServiceUrl,
  type Fail,
  type Scheme,
} from './config-addr.js';
import { describeOrigin, invalidValue, type GivenValue, type SourceValues } from './config-sources.js';

export const DEFAULT_CLIENT_PORT = 4001;
export const DEFAULT_PEER_PORT = 7001;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 50;
export const DEFAULT_ELECTION_TIMEOUT_MS = 200;
export const DEFAULT_SNAPSHOT_COUNT = 10_000;
export const DEFAULT_CLUSTER_ACTIVE_SIZE = 9;
export const MIN_CLUSTER_ACTIVE_SIZE = 3;
export const DEFAULT_CLUSTER_REMOVE_DELAY_SEC = 1800;
export const MIN_CLUSTER_REMOVE_DELAY_SEC = 2;
export const DEFAULT_CLUSTER_SYNC_INTERVAL_SEC = 5;
export const MIN_CLUSTER_SYNC_INTERVAL_SEC = 1;
export const DEFAULT_MAX_RETRY_ATTEMPTS = 3;
export const DEFAULT_HTTP_TIMEOUT_SEC = 300;
export const DEFAULT_CLUSTER_TOKEN = 'etcd-cluster';

/**
 * Layers are given lowest precedence first. A layer that sets one spelling of a grouped
 * setting (`-addr` / `--advertise-client-urls`) replaces every spelling of it from below,
 * so an old-style ETCD_ADDR does not collide with a new-style flag on the command line.
 */
export function mergeLayers(layers: readonly SourceValues[]): SourceValues {
  const merged: SourceValues = new Map();
  for (const layer of layers) {
    const groups = new Set([...layer.values()].map((given) => given.spec.group).filter((group) => group !== null));
    for (const [name, given] of merged) {
      if (given.spec.group !== null && groups.has(given.spec.group)) merged.delete(name);
    }
    for (const [name, given] of layer) merged.set(name, given);
  }
  return merged;
}

/** Typed reads of the merged settings; an empty string counts as unset (as 0.4.6's "" defaults). */
class Settings {
  constructor(private readonly values: SourceValues) {}

  given(name: string): GivenValue | undefined {
    return this.values.get(name);
  }

  string(name: string): { text: string; given: GivenValue } | null {
    const given = this.values.get(name);
    if (given === undefined || typeof given.value !== 'string' || given.value === '') return null;
    return { text: given.value, given };
  }

  list(name: string): { items: readonly string[]; given: GivenValue } | null {
    const given = this.values.get(name);
    if (given === undefined || !Array.isArray(given.value) || given.value.length === 0) return null;
    return { items: given.value as readonly string[], given };
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.values.get(name)?.value;
    return typeof value === 'boolean' ? value : fallback;
  }

  /** A number, checked against `min`; the message names the flag (or variable, or key) and value. */
  number(name: string, fallback: number, min: number, unit: string): number {
    const given = this.values.get(name);
    if (given === undefined || typeof given.value !== 'number') return fallback;
    if (given.value < min) throw invalidValue(given, `must be at least ${min}${unit}`);
    return given.value;
  }
}

function failFor(given: GivenValue): Fail {
  return (reason: string): never => {
    throw invalidValue(given, reason);
  };
}

function flagOf(given: GivenValue): string {
  return describeOrigin(given.origin);
}

// ---------------------------------------------------------------- TLS

interface TlsNames {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly trustedCa: string;
  readonly certAuth: string;
}

const CLIENT_TLS: TlsNames = {
  cert: 'cert-file', key: 'key-file', ca: 'ca-file', trustedCa: 'trusted-ca-file', certAuth: 'client-cert-auth',
};
const PEER_TLS: TlsNames = {
  cert: 'peer-cert-file', key: 'peer-key-file', ca: 'peer-ca-file',
  trustedCa: 'peer-trusted-ca-file', certAuth: 'peer-client-cert-auth',
};

/** §14: cert+key → https; 0.4.6 `-ca-file` or 2.x `--client-cert-auth` → client certificates required. */
function resolveTls(settings: Settings, names: TlsNames): TlsFiles | null {
  const cert = settings.string(names.cert);
  const key = settings.string(names.key);
  const ca = settings.string(names.ca) ?? settings.string(names.trustedCa);
  const certAuth = settings.bool(names.certAuth, false);
  if ((cert === null) !== (key === null)) {
    const present = (cert ?? key) as { given: GivenValue };
    throw new ConfigError(`-${names.cert} and -${names.key} must be given together (only ${flagOf(present.given)} is set)`);
  }
  if (cert === null || key === null) {
    if (ca !== null) throw new ConfigError(`${flagOf(ca.given)} needs -${names.cert} and -${names.key} as well`);
    if (certAuth) throw new ConfigError(`-${names.certAuth} needs -${names.cert}, -${names.key} and -${names.trustedCa}`);
    return null;
  }
  if (certAuth && ca === null) throw new ConfigError(`-${names.certAuth} needs -${names.trustedCa}`);
  const zeroFourCa = settings.string(names.ca) !== null;
  return { certFile: cert.text, keyFile: key.text, caFile: ca?.text ?? '', clientCertAuth: certAuth || zeroFourCa };
}

// ---------------------------------------------------------------- listen / advertise

interface EndpointNames {
  readonly advertiseAddr: string;
  readonly advertiseUrls: string;
  readonly bindAddr: string;
  readonly listenUrls: string;
  readonly defaultPort: number;
  readonly tlsFlag: string;
}

const CLIENT_ENDPOINTS: EndpointNames = {
  advertiseAddr: 'addr', advertiseUrls: 'advertise-client-urls', bindAddr: 'bind-addr',
  listenUrls: 'listen-client-urls', defaultPort: DEFAULT_CLIENT_PORT, tlsFlag: '-cert-file/-key-file',
};
const PEER_ENDPOINTS: EndpointNames = {
  advertiseAddr: 'peer-addr', advertiseUrls: 'initial-advertise-peer-urls', bindAddr: 'peer-bind-addr',
  listenUrls: 'listen-peer-urls', defaultPort: DEFAULT_PEER_PORT, tlsFlag: '-peer-cert-file/-peer-key-file',
};

interface Endpoints {
  readonly advertise: readonly string[];
  readonly listen: readonly string[];
}

function explicitAdvertise(settings: Settings, names: EndpointNames, scheme: Scheme): string[] | null {
  const addr = settings.string(names.advertiseAddr);
  if (addr !== null) return [`${scheme}://${joinHostPort(parseHostPort(addr.text, failFor(addr.given)))}`];
  const urls = settings.list(names.advertiseUrls);
  if (urls === null) return null;
  return urls.items.map((item) => parseServiceUrl(item, failFor(urls.given)).href);
}

interface ListenAddress {
  readonly scheme: Scheme;
  readonly host: string;
  readonly port: number;
}

function explicitListen(settings: Settings, names: EndpointNames, scheme: Scheme, port: number): ListenAddress[] | null {
  const bind = settings.string(names.bindAddr);
  if (bind !== null) {
    const address = parseBindAddr(bind.text, port, failFor(bind.given));
    return [{ scheme, host: listenableHost(address.host), port: address.port }];
  }
  const urls = settings.list(names.listenUrls);
  if (urls === null) return null;
  return urls.items.map((item) => {
    const url = parseServiceUrl(item, failFor(urls.given));
    if (url.scheme === 'https' && scheme === 'http') throw invalidValue(urls.given, `https needs ${names.tlsFlag}`);
    return url;
  });
}

function urlOf(address: ListenAddress): string {
  return `${address.scheme}://${joinHostPort(address)}`;
}

function portOf(url: string): number {
  return Number(url.slice(url.lastIndexOf(':') + 1));
}

/** Listen where told, else where advertised. Advertise what was told, else the listen address. */
function resolveEndpoints(settings: Settings, names: EndpointNames, tls: TlsFiles | null): Endpoints {
  const scheme: Scheme = tls === null ? 'http' : 'https';
  const advertised = explicitAdvertise(settings, names, scheme);
  const bindDefaultPort = advertised?.[0] === undefined ? names.defaultPort : portOf(advertised[0]);
  const listened = explicitListen(settings, names, scheme, bindDefaultPort);
  const advertise =
    advertised ??
    listened?.map((address) => urlOf({ ...address, host: advertisableHost(address.host) })) ?? [
      `${scheme}://127.0.0.1:${names.defaultPort}`,
    ];
  return { advertise, listen: listened?.map(urlOf) ?? advertise };
}

// ---------------------------------------------------------------- peers and cluster

function peerUrl(entry: string, scheme: Scheme, fail: Fail): string {
  if (entry.includes('://')) return parseServiceUrl(entry, fail).href;
  return `${scheme}://${joinHostPort(parseHostPort(entry, fail))}`;
}

/** `-peers-file` holds the same comma list as `-peers` (0.4.6 trims it; we also allow newlines). */
function resolvePeers(settings: Settings, scheme: Scheme, readFile: (path: string) => string | null): string[] {
  const file = settings.string('peers-file');
  if (file !== null) {
    const text = readFile(file.text);
    if (text === null) throw invalidValue(file.given, 'no such file');
    const entries = text.split(/[,\n]/).map((item) => item.trim()).filter((item) => item !== '');
    return entries.map((entry) =>
      peerUrl(entry, scheme, (reason) => {
        throw new ConfigError(`bad peer "${entry}" in peers file ${file.text} (${flagOf(file.given)}): ${reason}`);
      }),
    );
  }
  const peers = settings.list('peers');
  if (peers === null) return [];
  return peers.items.map((entry) => peerUrl(entry, scheme, failFor(peers.given)));
}

function resolveInitialCluster(settings: Settings): EtcdConfig['initialCluster'] {
  const cluster = settings.list('initial-cluster');
  if (cluster === null) return [];
  const fail = failFor(cluster.given);
  return cluster.items.map((item) => {
    const equals = item.indexOf('=');
    if (equals <= 0) fail(`"${item}" is not name=url`);
    return { name: item.slice(0, equals), peerUrl: parseServiceUrl(item.slice(equals + 1), fail).href };
  });
}

function resolveClusterState(settings: Settings): 'new' | 'existing' {
  const state = settings.given('initial-cluster-state');
  if (state === undefined) return 'new';
  if (state.value === 'new' || state.value === 'existing') return state.value;
  throw invalidValue(state, 'must be "new" or "existing"');
}

const CORS_ORIGIN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@\s]+\/?$/;

function resolveCors(settings: Settings): string[] {
  const cors = settings.list('cors');
  if (cors === null) return [];
  for (const origin of cors.items) {
    if (origin !== '*' && !CORS_ORIGIN.test(origin)) {
      throw invalidValue(cors.given, `CORS origin "${origin}" must be "*" or scheme://host[:port]`);
    }
  }
  return [...cors.items];
}

// ---------------------------------------------------------------- identity and timing

function resolveName(settings: Settings, hostname: string): string {
  const name = settings.string('name');
  if (name === null) {
    // 0.4.6: without -name the machine is named after its host.
    if (hostname === '') throw new ConfigError("Node name required and hostname not set. e.g. '-name=name'");
    return hostname;
  }
  if (name.text.includes('/')) throw invalidValue(name.given, 'a name must not contain "/"');
  return name.text;
}

function resolveDiscovery(settings: Settings): string {
  const discovery = settings.string('discovery');
  return discovery === null ? '' : parseDiscoveryUrl(discovery.text, failFor(discovery.given));
}

function resolveTrace(settings: Settings): boolean {
  const trace = settings.given('trace');
  if (trace === undefined || trace.value === '') return false;
  if (trace.value === '*') return true;
  throw invalidValue(trace, 'only "*" (every trace endpoint) is supported');
}

function resolveVerbosity(settings: Settings): number {
  if (settings.bool('vvv', false)) return 3;
  if (settings.bool('vv', false)) return 2;
  return settings.bool('v', false) ? 1 : 0;
}

interface RaftTiming {
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
}

/** The 0.4.6 and 2.x names share one group each, so at most one of each pair is set here. */
function resolveRaftTiming(settings: Settings): RaftTiming {
  const heartbeatName = settings.given('heartbeat-interval') ? 'heartbeat-interval' : 'peer-heartbeat-interval';
  const electionName = settings.given('election-timeout') ? 'election-timeout' : 'peer-election-timeout';
  const heartbeatIntervalMs = settings.number(heartbeatName, DEFAULT_HEARTBEAT_INTERVAL_MS, 1, ' ms');
  const electionTimeoutMs = settings.number(electionName, DEFAULT_ELECTION_TIMEOUT_MS, 1, ' ms');
  if (heartbeatIntervalMs >= electionTimeoutMs) {
    throw new ConfigError(
      `the heartbeat interval (${heartbeatIntervalMs} ms, -${heartbeatName}) must be less than ` +
        `the election timeout (${electionTimeoutMs} ms, -${electionName})`,
    );
  }
  return { heartbeatIntervalMs, electionTimeoutMs };
}

function resolveRetryInterval(settings: Settings): number | null {
  const given = settings.given('retry-interval');
  if (given === undefined) return null;
  if (typeof given.value !== 'number' || given.value <= 0) throw invalidValue(given, 'must be more than 0 seconds');
  return given.value;
}

function positiveSeconds(settings: Settings, name: string, fallback: number): number {
  const given = settings.given(name);
  if (given === undefined || typeof given.value !== 'number') return fallback;
  if (given.value <= 0) throw invalidValue(given, 'must be more than 0 seconds');
  return given.value;
}

// ---------------------------------------------------------------- warnings

function ignoredWarnings(settings: SourceValues): string[] {
  const warnings: string[] = [];
  for (const given of settings.values()) {
    if (given.spec.ignored) warnings.push(`${describeOrigin(given.origin)} is not supported by this server; ignored`);
    if (given.spec.name === 'enable-v2' && given.value === false) {
      warnings.push(`${describeOrigin(given.origin)}=false ignored: this server always serves the v2 API`);
    }
  }
  return warnings;
}

// ---------------------------------------------------------------- the whole config

export interface ResolveContext {
  readonly hostname: string;
  readonly readFile: (path: string) => string | null;
  /** Warnings from reading the sources, in order. */
  readonly warnings: readonly string[];
}

export function resolveConfig(merged: SourceValues, context: ResolveContext): EtcdConfig {
  const settings = new Settings(merged);
  const name = resolveName(settings, context.hostname);
  const clientTls = resolveTls(settings, CLIENT_TLS);
  const peerTls = resolveTls(settings, PEER_TLS);
  const client = resolveEndpoints(settings, CLIENT_ENDPOINTS, clientTls);
  const peer = resolveEndpoints(settings, PEER_ENDPOINTS, peerTls);
  settings.number('max-result-buffer', 0, 0, '');
  return {
    name,
    dataDir: settings.string('data-dir')?.text ?? `${name}.etcd`,
    advertiseClientUrls: client.advertise,
    listenClientUrls: client.listen,
    advertisePeerUrls: peer.advertise,
    listenPeerUrls: peer.listen,
    peers: resolvePeers(settings, peerTls === null ? 'http' : 'https', context.readFile),
    discovery: resolveDiscovery(settings),
    initialCluster: resolveInitialCluster(settings),
    initialClusterState: resolveClusterState(settings),
    initialClusterToken: settings.string('initial-cluster-token')?.text ?? DEFAULT_CLUSTER_TOKEN,
    snapshot: settings.bool('snapshot', true),
    snapshotCount: settings.number('snapshot-count', DEFAULT_SNAPSHOT_COUNT, 1, ''),
    ...resolveRaftTiming(settings),
    corsOrigins: resolveCors(settings),
    clusterActiveSize: settings.number('cluster-active-size', DEFAULT_CLUSTER_ACTIVE_SIZE, MIN_CLUSTER_ACTIVE_SIZE, ''),
    clusterActiveSizeExplicit: typeof settings.given('cluster-active-size')?.value === 'number',
    clusterRemoveDelaySec: settings.number(
      'cluster-remove-delay', DEFAULT_CLUSTER_REMOVE_DELAY_SEC, MIN_CLUSTER_REMOVE_DELAY_SEC, ' seconds'),
    clusterSyncIntervalSec: settings.number(
      'cluster-sync-interval', DEFAULT_CLUSTER_SYNC_INTERVAL_SEC, MIN_CLUSTER_SYNC_INTERVAL_SEC, ' seconds'),
    maxRetryAttempts: settings.number('max-retry-attempts', DEFAULT_MAX_RETRY_ATTEMPTS, 0, ''),
    retryIntervalSec: resolveRetryInterval(settings),
    httpReadTimeoutSec: positiveSeconds(settings, 'http-read-timeout', DEFAULT_HTTP_TIMEOUT_SEC),
    httpWriteTimeoutSec: positiveSeconds(settings, 'http-write-timeout', DEFAULT_HTTP_TIMEOUT_SEC),
    clientTls,
    peerTls,
    force: settings.bool('force', false),
    forceNewCluster: settings.bool('force-new-cluster', false),
    verbosity: resolveVerbosity(settings),
    trace: resolveTrace(settings),
    warnings: [...new Set([...context.warnings, ...ignoredWarnings(merged)])],
  };
}
