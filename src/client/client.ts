/**
 * EtcdClient: the v2 keys API over HTTP with endpoint failover, cluster sync, redirect
 * following and resumable watches. It never imports server code; it only speaks HTTP.
 */
import { SyncError, UnexpectedResponseError, type EndpointFailure } from './errors.js';
import { TransportError } from './http.js';
import { parseKeysResponse } from './parse.js';
import { EndpointPool, normalizeEndpoint, type Call } from './pool.js';
import { addMember, leaderMember, listMembers, memberHealthy, removeMember } from './members.js';
import { watchOnce, watchEvents } from './watch.js';
import type { ClientOptions, DeleteOptions, EtcdMember, EtcdResponse, GetOptions, SetOptions, WatchOptions } from './types.js';

/** `/v2/keys` + the key with each segment percent-encoded (slashes kept). */
export function keysPath(key: string): string {
  const absolute = key.startsWith('/') ? key : `/${key}`;
  return '/v2/keys' + absolute.split('/').map(encodeURIComponent).join('/');
}

function withQuery(path: string, query: URLSearchParams): string {
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

export class EtcdClient {
  protected readonly pool: EndpointPool;
  private readonly givenEndpoints: readonly string[];

  constructor(options: ClientOptions) {
    this.pool = new EndpointPool(options);
    this.givenEndpoints = options.endpoints;
  }

  /** The endpoints requests go to (the given ones, or the cluster's after sync()). */
  endpoints(): readonly string[] {
    return this.pool.list();
  }

  /**
   * Reads the cluster's client URLs (`/v2/machines`, else `/v2/members`) from the first
   * endpoint that answers and uses them from now on. Throws SyncError when none answers.
   */
  async sync(): Promise<readonly string[]> {
    const failures: EndpointFailure[] = [];
    for (const endpoint of this.pool.list()) {
      try {
        const urls = await this.clusterUrlsFrom(endpoint);
        if (urls.length > 0) {
          this.pool.replace(urls);
          return this.pool.list();
        }
        failures.push({ endpoint, reason: 'empty member list' });
      } catch (err) {
        if (!(err instanceof TransportError) && !(err instanceof UnexpectedResponseError)) throw err;
        failures.push({ endpoint, reason: err.message });
      }
    }
    throw new SyncError(this.givenEndpoints, failures);
  }

  private async clusterUrlsFrom(endpoint: string): Promise<string[]> {
    const machines = await this.pool.callOne(endpoint, { method: 'GET', pathAndQuery: '/v2/machines', body: '', longPoll: false });
    if (machines.status === 200) {
      return machines.body.split(',').map((url) => url.trim()).filter((url) => url !== '').map(normalizeEndpoint);
    }
    const members = await this.pool.callOne(endpoint, { method: 'GET', pathAndQuery: '/v2/members', body: '', longPoll: false });
    if (members.status !== 200) throw new UnexpectedResponseError(members.status, members.body, members.url.href);
    let json: { members?: { clientURLs?: string[] }[] };
    try {
      json = JSON.parse(members.body) as typeof json;
    } catch {
      throw new UnexpectedResponseError(members.status, members.body, members.url.href);
    }
    return (json.members ?? []).flatMap((member) => member.clientURLs ?? []).map(normalizeEndpoint);
  }

  // ---- reads ----

  async get(key: string, options: GetOptions = {}): Promise<EtcdResponse> {
    const query = new URLSearchParams();
    if (options.recursive === true) query.set('recursive', 'true');
    if (options.sorted === true) query.set('sorted', 'true');
    if (options.quorum === true) query.set('quorum', 'true');
    if (options.consistent === true) query.set('consistent', 'true');
    return this.keys({ method: 'GET', pathAndQuery: withQuery(keysPath(key), query), body: '', longPoll: false });
  }

  // ---- writes ----

  /** PUT with any combination of the v2 conditions; the named methods below are shorthands. */
  async set(key: string, value: string | undefined, options: SetOptions = {}): Promise<EtcdResponse> {
    const query = new URLSearchParams();
    if (options.dir === true) query.set('dir', 'true');
    if (options.prevExist !== undefined) query.set('prevExist', String(options.prevExist));
    if (options.prevValue !== undefined) query.set('prevValue', options.prevValue);
    if (options.prevIndex !== undefined) query.set('prevIndex', String(options.prevIndex));
    return this.keys({ method: 'PUT', pathAndQuery: withQuery(keysPath(key), query), body: formBody(value, options.ttl), longPoll: false });
  }

  /** Creates the key; fails with 105 when it exists. */
  create(key: string, value: string, options: { ttl?: number } = {}): Promise<EtcdResponse> {
    return this.set(key, value, { ...options, prevExist: false });
  }

  /** Replaces the value of an existing key (100 when missing). */
  update(key: string, value: string, options: { ttl?: number } = {}): Promise<EtcdResponse> {
    return this.set(key, value, { ...options, prevExist: true });
  }

  /** Sets only if the current value and/or modifiedIndex match (101 otherwise). */
  compareAndSwap(key: string, value: string, options: { prevValue?: string; prevIndex?: number; ttl?: number }): Promise<EtcdResponse> {
    return this.set(key, value, options);
  }

  /** Creates a directory; fails with 105 when the key exists. */
  mkdir(key: string, options: { ttl?: number } = {}): Promise<EtcdResponse> {
    return this.set(key, undefined, { ...options, dir: true, prevExist: false });
  }

  /** PUT dir=true: creates a directory or replaces a file (an existing dir answers 102). */
  setDir(key: string, options: { ttl?: number } = {}): Promise<EtcdResponse> {
    return this.set(key, undefined, { ...options, dir: true });
  }

  /** Changes an existing directory's TTL (no ttl = make it permanent). */
  updateDir(key: string, options: { ttl?: number } = {}): Promise<EtcdResponse> {
    return this.set(key, undefined, { ...options, dir: true, prevExist: true });
  }

  /** POST: a new key under `dir` named after its creation index (in-order queue). */
  async createInOrder(dir: string, value: string, options: { ttl?: number } = {}): Promise<EtcdResponse> {
    return this.keys({ method: 'POST', pathAndQuery: keysPath(dir), body: formBody(value, options.ttl), longPoll: false });
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<EtcdResponse> {
    const query = new URLSearchParams();
    if (options.dir === true) query.set('dir', 'true');
    if (options.recursive === true) query.set('recursive', 'true');
    if (options.prevValue !== undefined) query.set('prevValue', options.prevValue);
    if (options.prevIndex !== undefined) query.set('prevIndex', String(options.prevIndex));
    return this.keys({ method: 'DELETE', pathAndQuery: withQuery(keysPath(key), query), body: '', longPoll: false });
  }

  /** Deletes a file only if its value and/or modifiedIndex match (101 otherwise). */
  compareAndDelete(key: string, options: { prevValue?: string; prevIndex?: number }): Promise<EtcdResponse> {
    return this.delete(key, options);
  }

  /** Deletes an empty directory (108 when not empty). */
  rmdir(key: string): Promise<EtcdResponse> {
    return this.delete(key, { dir: true });
  }

  // ---- watches ----

  /** Resolves with the first change at or after `waitIndex` (resuming across failovers and 401s). */
  watch(key: string, options: WatchOptions = {}): Promise<EtcdResponse> {
    return watchOnce((call) => this.keys(call), keysPath(key), options);
  }

  /** Every change from `waitIndex` on, in order, until `signal` aborts (then the iterator ends). */
  watchStream(key: string, options: WatchOptions = {}): AsyncGenerator<EtcdResponse, void, undefined> {
    return watchEvents((call) => this.keys(call), keysPath(key), options);
  }

  // ---- cluster (3.4 membership API) ----

  members(): Promise<EtcdMember[]> {
    return listMembers(this.pool);
  }

  /** The leader, or undefined while an election is under way. */
  leader(): Promise<EtcdMember | undefined> {
    return leaderMember(this.pool);
  }

  addMember(peerURLs: readonly string[]): Promise<EtcdMember> {
    return addMember(this.pool, peerURLs);
  }

  removeMember(id: string): Promise<void> {
    return removeMember(this.pool, id);
  }

  /** Asks one member's /health (no failover: the answer is about that member). */
  healthy(clientUrl: string): Promise<boolean> {
    return memberHealthy(this.pool, clientUrl);
  }

  protected async keys(call: Call): Promise<EtcdResponse> {
    return parseKeysResponse(await this.pool.call(call));
  }
}

function formBody(value: string | undefined, ttl: number | undefined): string {
  const form = new URLSearchParams();
  if (value !== undefined) form.set('value', value);
  if (ttl !== undefined) form.set('ttl', String(ttl));
  return form.toString();
}

