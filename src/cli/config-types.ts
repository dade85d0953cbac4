/**
 * The whole server configuration after flags, ETCD_* environment, the config file and defaults
 * have been merged (src/cli/config.ts builds it; src/cli/etcd.ts hands it to the member).
 * URLs carry their scheme. Durations carry their unit in the name.
 */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** Require and verify client certificates (-ca-file or --client-cert-auth). */
  readonly clientCertAuth: boolean;
}

export interface EtcdConfig {
  readonly name: string;
  readonly dataDir: string;
  /** URLs clients are told to use (-addr / --advertise-client-urls). */
  readonly advertiseClientUrls: readonly string[];
  /** Where the client port listens (-bind-addr / --listen-client-urls). */
  readonly listenClientUrls: readonly string[];
  /** URLs peers are told to use (-peer-addr / --initial-advertise-peer-urls). */
  readonly advertisePeerUrls: readonly string[];
  readonly listenPeerUrls: readonly string[];
  /** -peers / -peers-file: peer URLs to join through (scheme added). */
  readonly peers: readonly string[];
  readonly discovery: string;
  /** --initial-cluster as name=url pairs (empty when not given). */
  readonly initialCluster: ReadonlyArray<{ readonly name: string; readonly peerUrl: string }>;
  readonly initialClusterState: 'new' | 'existing';
  readonly initialClusterToken: string;
  readonly snapshot: boolean;
  readonly snapshotCount: number;
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  /** Allowed CORS origins; empty = CORS off; ['*'] = any. */
  readonly corsOrigins: readonly string[];
  readonly clusterActiveSize: number;
  /** -cluster-active-size was given (flag, env or file): a discovery token's size does not override it. */
  readonly clusterActiveSizeExplicit: boolean;
  readonly clusterRemoveDelaySec: number;
  readonly clusterSyncIntervalSec: number;
  readonly maxRetryAttempts: number;
  /** null = 0.4.6's random 2.5–4.95 s between join rounds. */
  readonly retryIntervalSec: number | null;
  readonly httpReadTimeoutSec: number;
  readonly httpWriteTimeoutSec: number;
  readonly clientTls: TlsFiles | null;
  readonly peerTls: TlsFiles | null;
  /** -f/-force: delete log, conf, snapshot and standby_info before starting. */
  readonly force: boolean;
  readonly forceNewCluster: boolean;
  /** 0 quiet, 1 -v, 2 -vv, 3 -vvv. */
  readonly verbosity: number;
  readonly trace: boolean;
  /** Warnings produced while parsing (deprecated flags, ignored 2.x flags), printed to stderr at start. */
  readonly warnings: readonly string[];
}

/** What the command line asked for. */
export type EtcdCommand =
  | { readonly kind: 'run'; readonly config: EtcdConfig }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version'; readonly text: string };

/** A bad flag, value or file: the entry point prints the message (and usage) and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
