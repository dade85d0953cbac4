/**
 * Every server option `etcd` accepts, in one table: the 0.4.6 flags (spec §12.1) with their
 * environment names and TOML keys, their deprecated aliases, and the 2.x/3.4 names (§12.2).
 * The parsers (config-sources.ts), the merger (config-resolve.ts) and the usage text
 * (config-usage.ts) are all driven by this table, so a flag cannot be accepted without
 * also being documented, or documented without being accepted.
 */

import { assert } from '../common/assert.js';

/** How a raw value is read: Go flag kinds, plus comma-separated lists. */
export type OptionKind = 'string' | 'int' | 'float' | 'bool' | 'list';

export type UsageSection = 'general' | 'cluster' | 'client' | 'peer' | 'other' | 'v2names' | 'ignored';

export interface OptionSpec {
  /** Canonical flag name, without dashes. */
  readonly name: string;
  readonly kind: OptionKind;
  /** Environment variables that set it (the first is the documented one). */
  readonly env: readonly string[];
  /** TOML key path in the config file (`['peer', 'addr']` = `[peer]` table, key `addr`). */
  readonly toml: readonly string[] | null;
  /** Deprecated 0.4.x spellings: accepted with a `[deprecated] use -<name>, not -<alias>` warning. */
  readonly aliases: readonly string[];
  /** Other current spellings, accepted silently (`-f` for `-force`). */
  readonly synonyms: readonly string[];
  /**
   * Options that are two spellings of one setting (0.4.6 `-addr` and 2.x
   * `--advertise-client-urls`): one source may set only one of them.
   */
  readonly group: string | null;
  /** Accepted for compatibility but without effect: a warning says so when it is set. */
  readonly ignored: boolean;
  readonly section: UsageSection;
  /** Placeholder shown in the usage text (`<host:port>`), empty for switches. */
  readonly valueHint: string;
  readonly help: string;
}

interface OptionInit {
  readonly kind?: OptionKind;
  readonly env?: readonly string[];
  readonly toml?: readonly string[] | null;
  readonly aliases?: readonly string[];
  readonly synonyms?: readonly string[];
  readonly group?: string;
  readonly ignored?: boolean;
  readonly valueHint?: string;
}

function option(name: string, section: UsageSection, help: string, init: OptionInit = {}): OptionSpec {
  const kind = init.kind ?? 'string';
  return {
    name,
    kind,
    env: init.env ?? [`ETCD_${name.toUpperCase().replaceAll('-', '_')}`],
    toml: init.toml === undefined ? [name.replaceAll('-', '_')] : init.toml,
    aliases: init.aliases ?? [],
    synonyms: init.synonyms ?? [],
    group: init.group ?? null,
    ignored: init.ignored ?? false,
    section,
    valueHint: init.valueHint ?? (kind === 'bool' ? '' : '<value>'),
    help,
  };
}

/** A 2.x/3.4 name: environment `ETCD_<NAME>`, no TOML key (0.4.6's file format predates it). */
function v2name(name: string, help: string, init: OptionInit = {}): OptionSpec {
  return option(name, 'v2names', help, { toml: null, ...init });
}

/** A 2.x/3.4 option this server accepts so that scripts keep working, with a warning. */
function ignoredV2(name: string, kind: 'string' | 'bool'): OptionSpec {
  const help = 'Accepted for etcd 2.x/3.4 compatibility; has no effect here.';
  return option(name, 'ignored', help, { kind, toml: null, ignored: true });
}

const GENERAL: readonly OptionSpec[] = [
  option('force', 'general', 'Force a new configuration to be used (deletes log, conf, snapshot, standby_info).', {
    kind: 'bool', env: [], toml: null, synonyms: ['f'],
  }),
  option('name', 'general', 'Name of this node in the etcd cluster (default: the hostname).', {
    aliases: ['n'], valueHint: '<name>',
  }),
  option('data-dir', 'general', 'Path to the data directory (default: <name>.etcd).', {
    aliases: ['d'], valueHint: '<path>',
  }),
  option('cors', 'general', 'Comma-separated list of CORS origins ("*" for any).', {
    kind: 'list', env: ['ETCD_CORS', 'ETCD_CORS_ORIGINS'], valueHint: '<origins>',
  }),
  option('v', 'general', 'Enable verbose logging.', { kind: 'bool', env: ['ETCD_VERBOSE'], toml: ['verbose'] }),
  option('vv', 'general', 'Enable very verbose logging.', {
    kind: 'bool', env: ['ETCD_VERY_VERBOSE'], toml: ['very_verbose'],
  }),
  option('vvv', 'general', 'Enable very very verbose logging.', {
    kind: 'bool', env: ['ETCD_VERY_VERY_VERBOSE'], toml: ['very_very_verbose'],
  }),
];

const CLUSTER: readonly OptionSpec[] = [
  option('discovery', 'cluster', 'Discovery service used to find a peer list.', { valueHint: '<url>' }),
  option('peers-file', 'cluster', 'Path to a file containing the peer list.', {
    aliases: ['CF'], group: 'peers', valueHint: '<path>',
  }),
  option('peers', 'cluster', "Comma-separated list of peers. The members should match the peer's '-peer-addr' flag.", {
    kind: 'list', aliases: ['C'], group: 'peers', valueHint: '<host:port>,<host:port>',
  }),
];

const CLIENT: readonly OptionSpec[] = [
  option('addr', 'client', 'The public host:port used for client communication.', {
    aliases: ['c'], group: 'client-advertise', valueHint: '<host:port>',
  }),
  option('bind-addr', 'client', 'The listening host[:port] used for client communication (default: -addr).', {
    aliases: ['cl'], group: 'client-listen', valueHint: '<host[:port]>',
  }),
  option('ca-file', 'client', 'Path to the client CA file (clients must present a certificate it signed).', {
    aliases: ['clientCAFile'], group: 'client-ca', valueHint: '<path>',
  }),
  option('cert-file', 'client', 'Path to the client cert file.', { aliases: ['clientCert'], valueHint: '<path>' }),
  option('key-file', 'client', 'Path to the client key file.', { aliases: ['clientKey'], valueHint: '<path>' }),
];

const PEER: readonly OptionSpec[] = [
  option('peer-addr', 'peer', 'The public host:port used for peer communication.', {
    aliases: ['s'], toml: ['peer', 'addr'], group: 'peer-advertise', valueHint: '<host:port>',
  }),
  option('peer-bind-addr', 'peer', 'The listening host[:port] used for peer communication (default: -peer-addr).', {
    aliases: ['sl'], toml: ['peer', 'bind_addr'], group: 'peer-listen', valueHint: '<host[:port]>',
  }),
  option('peer-ca-file', 'peer', 'Path to the peer CA file.', {
    aliases: ['serverCAFile'], toml: ['peer', 'ca_file'], group: 'peer-ca', valueHint: '<path>',
  }),
  option('peer-cert-file', 'peer', 'Path to the peer cert file.', {
    aliases: ['serverCert'], toml: ['peer', 'cert_file'], valueHint: '<path>',
  }),
  option('peer-key-file', 'peer', 'Path to the peer key file.', {
    aliases: ['serverKey'], toml: ['peer', 'key_file'], valueHint: '<path>',
  }),
  option('peer-heartbeat-interval', 'peer', 'Time (in milliseconds) of a heartbeat interval (default 50).', {
    kind: 'int', aliases: ['peer-heartbeat-timeout'], toml: ['peer', 'heartbeat_interval'],
    group: 'heartbeat', valueHint: '<time>',
  }),
  option('peer-election-timeout', 'peer', 'Time (in milliseconds) for an election to timeout (default 200).', {
    kind: 'int', toml: ['peer', 'election_timeout'], group: 'election', valueHint: '<time>',
  }),
];

const OTHER: readonly OptionSpec[] = [
  option('max-result-buffer', 'other', 'Max size of the result buffer (unused, as in etcd 0.4.6).', {
    kind: 'int', aliases: ['m'], valueHint: '<n>',
  }),
  option('max-retry-attempts', 'other', 'Number of times a node will try to join a cluster (default 3).', {
    kind: 'int', aliases: ['r'], valueHint: '<n>',
  }),
  option('retry-interval', 'other', 'Seconds to wait between cluster join retry attempts (default: random 2.5-4.95).', {
    kind: 'float', valueHint: '<seconds>',
  }),
  option('snapshot', 'other', 'Take log snapshots (-snapshot=false disables them).', { kind: 'bool' }),
  option('snapshot-count', 'other', 'Number of transactions before issuing a snapshot (default 10000).', {
    kind: 'int', aliases: ['snapshotCount'], env: ['ETCD_SNAPSHOTCOUNT', 'ETCD_SNAPSHOT_COUNT'], valueHint: '<n>',
  }),
  option('cluster-active-size', 'other', 'Number of active nodes in the cluster (default 9, at least 3).', {
    kind: 'int', aliases: ['maxsize', 'max-cluster-size'], toml: ['cluster', 'active_size'], valueHint: '<n>',
  }),
  option('cluster-remove-delay', 'other', 'Seconds before one node is removed (default 1800, at least 2).', {
    kind: 'float', toml: ['cluster', 'remove_delay'], valueHint: '<seconds>',
  }),
  option('cluster-sync-interval', 'other', 'Seconds between synchronizations for standby mode (default 5, at least 1).', {
    kind: 'float', toml: ['cluster', 'sync_interval'], valueHint: '<seconds>',
  }),
  option('http-read-timeout', 'other', 'Seconds to read a client request (default 300).', {
    kind: 'float', valueHint: '<seconds>',
  }),
  option('http-write-timeout', 'other', 'Seconds to write a response (default 300).', {
    kind: 'float', valueHint: '<seconds>',
  }),
  option('trace', 'other', 'Enable the /debug endpoints (-trace=*).', { valueHint: '*' }),
  option('graphite-host', 'other', 'Graphite endpoint for metrics (not supported here: ignored with a warning).', {
    ignored: true, valueHint: '<host:port>',
  }),
  option('cpuprofile', 'other', 'Write a CPU profile to a file (not supported here: ignored with a warning).', {
    env: [], toml: null, ignored: true, valueHint: '<path>',
  }),
];

const V2_NAMES: readonly OptionSpec[] = [
  v2name('listen-client-urls', 'URLs to listen on for client traffic (instead of -bind-addr).', {
    kind: 'list', group: 'client-listen', valueHint: '<urls>',
  }),
  v2name('advertise-client-urls', 'Client URLs to advertise to the cluster (instead of -addr).', {
    kind: 'list', group: 'client-advertise', valueHint: '<urls>',
  }),
  v2name('listen-peer-urls', 'URLs to listen on for peer traffic (instead of -peer-bind-addr).', {
    kind: 'list', group: 'peer-listen', valueHint: '<urls>',
  }),
  v2name('initial-advertise-peer-urls', 'Peer URLs to advertise to the cluster (instead of -peer-addr).', {
    kind: 'list', group: 'peer-advertise', valueHint: '<urls>',
  }),
  v2name('initial-cluster', 'Initial cluster configuration for bootstrapping.', {
    kind: 'list', valueHint: '<name>=<url>,...',
  }),
  v2name('initial-cluster-state', 'Initial cluster state: new or existing (default new).', {
    valueHint: 'new|existing',
  }),
  v2name('initial-cluster-token', 'Initial cluster token (default etcd-cluster).', { valueHint: '<token>' }),
  v2name('heartbeat-interval', 'Time (in milliseconds) of a heartbeat interval (as -peer-heartbeat-interval).', {
    kind: 'int', group: 'heartbeat', valueHint: '<ms>',
  }),
  v2name('election-timeout', 'Time (in milliseconds) for an election to timeout (as -peer-election-timeout).', {
    kind: 'int', group: 'election', valueHint: '<ms>',
  }),
  v2name('trusted-ca-file', 'Client CA file (with --client-cert-auth; as -ca-file).', {
    group: 'client-ca', valueHint: '<path>',
  }),
  v2name('client-cert-auth', 'Require client certificates signed by --trusted-ca-file.', { kind: 'bool' }),
  v2name('peer-trusted-ca-file', 'Peer CA file (with --peer-client-cert-auth; as -peer-ca-file).', {
    group: 'peer-ca', valueHint: '<path>',
  }),
  v2name('peer-client-cert-auth', 'Require peer certificates signed by --peer-trusted-ca-file.', { kind: 'bool' }),
  v2name('force-new-cluster', 'Force to create a new one-member cluster from the existing data.', { kind: 'bool' }),
  v2name('enable-v2', 'Accepted and ignored: this server always serves the v2 API.', { kind: 'bool' }),
];

const IGNORED_V2: readonly OptionSpec[] = [
  ignoredV2('proxy', 'string'),
  ignoredV2('discovery-fallback', 'string'),
  ignoredV2('discovery-proxy', 'string'),
  ignoredV2('discovery-srv', 'string'),
  ignoredV2('strict-reconfig-check', 'bool'),
  ignoredV2('debug', 'bool'),
  ignoredV2('log-level', 'string'),
  ignoredV2('logger', 'string'),
  ignoredV2('log-outputs', 'string'),
  ignoredV2('max-snapshots', 'string'),
  ignoredV2('max-wals', 'string'),
  ignoredV2('quota-backend-bytes', 'string'),
  ignoredV2('auto-compaction-retention', 'string'),
  ignoredV2('auto-compaction-mode', 'string'),
];

/** Every option, in usage order. `-config`, `-h`/`-help` and `-version` are handled apart. */
export const OPTIONS: readonly OptionSpec[] = [
  ...GENERAL,
  ...CLUSTER,
  ...CLIENT,
  ...PEER,
  ...OTHER,
  ...V2_NAMES,
  ...IGNORED_V2,
];

/** Flags that are not settings: they select the command or the config file. */
export const COMMAND_FLAGS = {
  help: ['h', 'help'],
  version: ['version'],
  config: ['config'],
  cloudConfig: ['cloud-config'],
  privateIpv4: ['private-ipv4'],
  publicIpv4: ['public-ipv4'],
} as const;

export interface FlagLookup {
  readonly spec: OptionSpec;
  /** Set when the flag was given by a deprecated alias. */
  readonly deprecatedAlias: string | null;
}

function buildFlagIndex(): ReadonlyMap<string, FlagLookup> {
  const index = new Map<string, FlagLookup>();
  for (const spec of OPTIONS) {
    index.set(spec.name, { spec, deprecatedAlias: null });
    for (const synonym of spec.synonyms) index.set(synonym, { spec, deprecatedAlias: null });
    for (const alias of spec.aliases) index.set(alias, { spec, deprecatedAlias: alias });
  }
  return index;
}

const FLAG_INDEX = buildFlagIndex();

export function lookupFlag(name: string): FlagLookup | undefined {
  return FLAG_INDEX.get(name);
}

export function optionByName(name: string): OptionSpec {
  const found = FLAG_INDEX.get(name);
  assert(found !== undefined && found.spec.name === name, () => `no option named ${name}`);
  return found.spec;
}
