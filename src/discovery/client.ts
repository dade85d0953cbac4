/**
 * The member's side of the 0.4.6 discovery registry (spec §11.1): the few requests a member
 * makes to a token URL. The token URL is either a discovery service's `http://host/<token>` or a
 * plain etcd's `http://host:4001/v2/keys/_etcd/registry/<token>`; both speak the v2 keys API under
 * that prefix, so the path is used verbatim and every request is `<url>` or `<url>/<key>`.
 *
 * A registry that cannot be reached, answers 5xx or answers something that is not the v2 keys
 * API's JSON is a DiscoveryError: the caller falls back to `-peers` or gives up. Each request is
 * retried a couple of times (a restarting service, a busy etcd), with a deadline on every attempt
 * so that a dead URL fails within seconds.
 */
import http from 'node:http';
import https from 'node:https';

/** One week, as 0.4.6 registered every member. */
export const REGISTRATION_TTL_SEC = 604_800;

/** The `_state` value of a token whose cluster has been founded. */
export const FOUNDED_STATE = 'started';

/** Why discovery could not be used; the message is the cause line the member prints. */
export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
}

export interface DiscoveryClientOptions {
  /** Deadline for one attempt (connect, answer and body). */
  readonly requestTimeoutMs: number;
  /** Attempts per request when the registry is unreachable or answers 5xx (at least 1). */
  readonly attempts: number;
  readonly retryPauseMs: number;
  readonly log: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_DISCOVERY_CLIENT_OPTIONS: Omit<DiscoveryClientOptions, 'log'> = {
  requestTimeoutMs: 2000,
  attempts: 3,
  retryPauseMs: 300,
};

interface RegistryResponse {
  readonly status: number;
  readonly body: string;
}

/** A v2 keys answer: `node` on success, `errorCode` on failure. */
interface KeysAnswer {
  readonly errorCode?: number;
  readonly node?: RegistryNode;
}

interface RegistryNode {
  readonly key?: string;
  readonly value?: string;
  readonly dir?: boolean;
  readonly nodes?: readonly RegistryNode[];
}

/** A peer some other member registered: its name and its address as `host:port`. */
export interface RegisteredPeer {
  readonly name: string;
  readonly address: string;
}

const MAX_REDIRECTS = 10;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export class DiscoveryClient {
  /** The token URL without a trailing slash. */
  readonly url: string;

  constructor(
    url: string,
    private readonly options: DiscoveryClientOptions,
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  /** Step 1 (and every refresh): `<url>/<name>` = our peer URL, for a week. */
  async register(name: string, peerUrl: string): Promise<void> {
    const form = new URLSearchParams({ value: peerUrl, ttl: String(REGISTRATION_TTL_SEC) }).toString();
    const answer = await this.request('PUT', this.keyUrl(name), form);
    if (answer.status !== 200 && answer.status !== 201) throw this.unexpected('PUT', this.keyUrl(name), answer);
  }

  /**
   * Step 2: create `_state` only if absent. True = we found the cluster; false = someone did
   * (412 with error 105).
   */
  async claimFounding(): Promise<boolean> {
    const url = `${this.keyUrl('_state')}?prevExist=false`;
    const answer = await this.request('PUT', url, new URLSearchParams({ value: FOUNDED_STATE }).toString());
    if (answer.status === 201) return true;
    if (answer.status === 412 && this.parse('PUT', url, answer).errorCode === 105) return false;
    throw this.unexpected('PUT', url, answer);
  }

  /** Step 3: every registered member but `ownName`; `_`-keys (the registry's own) are skipped. */
  async registeredPeers(ownName: string): Promise<RegisteredPeer[]> {
    const url = `${this.url}?recursive=true`;
    const answer = await this.request('GET', url, null);
    if (answer.status !== 200) throw this.unexpected('GET', url, answer);
    const node = this.parse('GET', url, answer).node;
    if (node === undefined) throw new DiscoveryError(`GET ${url} answered without a node: ${preview(answer.body)}`);
    const peers: RegisteredPeer[] = [];
    for (const child of node.nodes ?? []) {
      const name = lastSegment(child.key ?? '');
      if (name === '' || name.startsWith('_') || name === ownName || child.dir === true) continue;
      const address = hostPortOf(child.value ?? '');
      if (address !== null) peers.push({ name, address });
      else this.options.log(`discovery: ignoring ${name}, whose registered value ${JSON.stringify(child.value)} is not a peer URL`);
    }
    return peers;
  }

  /** The cluster size the token was made for (`/new?size=N` writes `_config/size`); null = none. */
  async configuredSize(): Promise<number | null> {
    const url = this.keyUrl('_config/size');
    const answer = await this.request('GET', url, null);
    if (answer.status === 404) return null;
    if (answer.status !== 200) throw this.unexpected('GET', url, answer);
    const value = this.parse('GET', url, answer).node?.value ?? '';
    if (!/^[0-9]+$/.test(value) || Number(value) < 1) {
      this.options.log(`discovery: ignoring the token's _config/size ${JSON.stringify(value)}: not a positive integer`);
      return null;
    }
    return Number(value);
  }

  private keyUrl(key: string): string {
    return `${this.url}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private parse(method: string, url: string, answer: RegistryResponse): KeysAnswer {
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.body);
    } catch {
      throw new DiscoveryError(`${method} ${url} answered ${answer.status} with a body that is not JSON: ${preview(answer.body)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new DiscoveryError(`${method} ${url} answered ${answer.status} with JSON that is not a v2 keys answer: ${preview(answer.body)}`);
    }
    return parsed as KeysAnswer;
  }

  private unexpected(method: string, url: string, answer: RegistryResponse): DiscoveryError {
    return new DiscoveryError(`${method} ${url} answered ${answer.status}: ${preview(answer.body)}`);
  }

  /** One request with its retries: unreachable and 5xx are retried, any other answer is returned. */
  private async request(method: string, url: string, form: string | null): Promise<RegistryResponse> {
    const attempts = Math.max(1, this.options.attempts);
    let last: DiscoveryError = new DiscoveryError(`${method} ${url}: not attempted`);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await (this.options.sleep ?? sleep)(this.options.retryPauseMs);
      try {
        const answer = await followRedirects(method, url, form, this.options.requestTimeoutMs);
        if (answer.status < 500) return answer;
        last = this.unexpected(method, url, answer);
      } catch (error) {
        if (!(error instanceof DiscoveryError)) throw error;
        last = error;
      }
      if (attempt < attempts) this.options.log(`discovery: ${last.message}; retrying (${attempt} of ${attempts})`);
    }
    throw last;
  }
}

/** A plain etcd's follower answers writes with 307 to the leader: follow it with the same request. */
async function followRedirects(method: string, url: string, form: string | null, timeoutMs: number): Promise<RegistryResponse & { location?: string }> {
  let target = url;
  for (let hops = 0; ; hops++) {
    const answer = await oneRequest(method, target, form, timeoutMs);
    if (![301, 302, 307, 308].includes(answer.status) || answer.location === undefined) return answer;
    if (hops === MAX_REDIRECTS) throw new DiscoveryError(`${method} ${url}: more than ${MAX_REDIRECTS} redirects`);
    target = new URL(answer.location, target).toString();
  }
}

function oneRequest(method: string, url: string, form: string | null, timeoutMs: number): Promise<RegistryResponse & { location?: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers: http.OutgoingHttpHeaders = {};
    if (form !== null) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = Buffer.byteLength(form);
    }
    const request = (target.protocol === 'https:' ? https : http).request(target, { method, headers, agent: false });
    let settled = false;
    const finish = (error: DiscoveryError | null, answer?: RegistryResponse & { location?: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error !== null) {
        request.destroy();
        reject(error);
      } else if (answer !== undefined) {
        resolve(answer);
      }
    };
    const deadline = setTimeout(() => finish(new DiscoveryError(`cannot reach ${url}: no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => finish(new DiscoveryError(`cannot reach ${url}: ${error.code ?? error.message}`)));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) finish(new DiscoveryError(`${method} ${url}: answer larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', (error: NodeJS.ErrnoException) => finish(new DiscoveryError(`cannot reach ${url}: ${error.code ?? error.message}`)));
      response.on('end', () => {
        const location = response.headers.location;
        finish(null, {
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          ...(location !== undefined ? { location } : {}),
        });
      });
    });
    request.end(form ?? undefined);
  });
}

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/** 0.4.6 kept only `host:port` of a registered peer URL (the member adds its own scheme). */
export function hostPortOf(value: string): string | null {
  const trimmed = value.trim();
  if (trimmed === '') return null;
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`);
    if (url.hostname === '') return null;
    return url.host;
  } catch {
    return null;
  }
}

function preview(body: string): string {
  const text = body.trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text === '' ? '(empty body)' : text;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
