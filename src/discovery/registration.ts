/**
 * The 0.4.6 discovery protocol as a fresh member runs it (spec §11.1), and the weekly entry's
 * refresh that every member keeps up while it runs.
 *
 *   1. register `<token>/<name>` = our peer URL (ttl one week);
 *   2. claim `<token>/_state` with prevExist=false: whoever creates it founds the cluster alone;
 *   3. everyone else reads the registered peers and joins through them.
 *
 * The founder also reads `_config/size` (written by the service's `/new?size=N`): the token says
 * how many voters the cluster is meant to have. What to do with that number is the caller's
 * decision (src/cli/etcd.ts seeds activeSize from it unless -cluster-active-size was given).
 */
import { DiscoveryError, REGISTRATION_TTL_SEC, type DiscoveryClient, type RegisteredPeer } from './client.js';

export interface DiscoverySelf {
  readonly name: string;
  /** Our advertised peer URL, with its scheme (what others dial). */
  readonly peerUrl: string;
}

export type DiscoveryOutcome =
  /** We claimed `_state`: found a cluster of one; `size` from `_config/size`, null when absent. */
  | { readonly kind: 'found'; readonly size: number | null }
  /** Someone else founded it: join through these (never empty). */
  | { readonly kind: 'join'; readonly peers: readonly RegisteredPeer[] };

/** 0.4.6's words for a founded token with nobody else registered. */
export const NO_REGISTERED_PEERS = 'Discovery found an initialized cluster but no reachable peers are registered.';

export async function discoverCluster(client: DiscoveryClient, self: DiscoverySelf, log: (line: string) => void): Promise<DiscoveryOutcome> {
  await client.register(self.name, self.peerUrl);
  log(`discovery: registered ${self.name} = ${self.peerUrl} at ${client.url} (ttl ${REGISTRATION_TTL_SEC} s)`);
  if (await client.claimFounding()) {
    const size = await client.configuredSize();
    log(`discovery: ${self.name} claimed ${client.url}/_state: founding the cluster${size === null ? '' : ` (the token asks for ${size} members)`}`);
    return { kind: 'found', size };
  }
  const peers = await client.registeredPeers(self.name);
  if (peers.length === 0) throw new DiscoveryError(NO_REGISTERED_PEERS);
  log(`discovery: the cluster at ${client.url} is founded; registered peers: ${peers.map((p) => `${p.name}=${p.address}`).join(', ')}`);
  return { kind: 'join', peers };
}

/** 0.4.6 refreshed its entry every ttl/8: 21 hours, so a week-long entry never lapses while we run. */
export const REFRESH_INTERVAL_MS = (REGISTRATION_TTL_SEC / 8) * 1000;

export interface RefreshOptions {
  readonly intervalMs?: number;
  readonly log: (line: string) => void;
}

/**
 * Re-registers `self` every interval for as long as the process runs. The timer is unref'd (it
 * never keeps the process alive); a failed refresh is logged and retried at the next tick — a
 * registry outage must never take a running member down.
 */
export class RegistrationRefresher {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly client: DiscoveryClient,
    private readonly self: DiscoverySelf,
    private readonly options: RefreshOptions,
  ) {}

  /** Starts the periodic refresh; `now` also registers once right away (a restart). */
  start(now: boolean): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.refresh(), this.options.intervalMs ?? REFRESH_INTERVAL_MS);
    this.timer.unref();
    if (now) void this.refresh();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One refresh (skipped when the previous one is still running); never rejects. */
  refresh(): Promise<void> {
    this.inFlight ??= this.client
      .register(this.self.name, this.self.peerUrl)
      .then(
        () => this.options.log(`discovery: refreshed ${this.self.name} = ${this.self.peerUrl} at ${this.client.url}`),
        (error: unknown) => this.options.log(`discovery: cannot refresh ${this.self.name} at ${this.client.url}: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }
}
