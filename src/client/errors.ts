/**
 * Everything the client throws is one of these: a v2 error the server answered with, an
 * unreachable cluster, a failed sync, a timeout, or a response that is not etcd's.
 */
import type { IndexHeaders } from './types.js';

/** The server's v2 error body (spec §5) with the HTTP status it came with. */
export class EtcdApiError extends Error {
  override name = 'EtcdApiError';
  constructor(
    readonly errorCode: number,
    /** The catalogue message, e.g. "Key already exists". */
    message: string,
    /** What the error is about, usually a key; "" when the server sent none. */
    override readonly cause: string,
    /** The current etcd index the server reported in the body. */
    readonly index: number,
    readonly httpStatus: number,
    readonly headers: IndexHeaders,
  ) {
    super(message);
  }

  /** The go-etcd rendering that etcdctl prints: `105: Key already exists (/k) [5]`. */
  describe(): string {
    return `${this.errorCode}: ${this.message} (${this.cause}) [${this.index}]`;
  }
}

/** One failed attempt against one endpoint. */
export interface EndpointFailure {
  readonly endpoint: string;
  readonly reason: string;
}

/** No endpoint could be reached (connection refused, reset, DNS, per-request timeout). */
export class ClusterUnreachableError extends Error {
  override name = 'ClusterUnreachableError';
  /** The 0.4 client's code for this condition (etcdctl prints it like a server error). */
  readonly errorCode = 501;
  constructor(readonly failures: readonly EndpointFailure[]) {
    super('All the given peers are not reachable');
  }

  describe(): string {
    return `${this.errorCode}: ${this.message} (Tried to connect to each peer twice and failed) [0]`;
  }
}

/** The cluster member list could not be read from any of the given endpoints. */
export class SyncError extends Error {
  override name = 'SyncError';
  constructor(
    readonly endpoints: readonly string[],
    readonly failures: readonly EndpointFailure[],
  ) {
    super(`Cannot sync with the cluster using peers ${endpoints.join(', ')}`);
  }
}

/** The operation's total time limit ran out. */
export class ClientTimeoutError extends Error {
  override name = 'ClientTimeoutError';
  constructor(readonly timeoutMs: number, readonly failures: readonly EndpointFailure[]) {
    super(`operation timed out after ${timeoutMs} ms`);
  }
}

/** The server answered with something that is not a v2 keys response (e.g. a proxy's HTML). */
export class UnexpectedResponseError extends Error {
  override name = 'UnexpectedResponseError';
  constructor(
    readonly httpStatus: number,
    readonly body: string,
    readonly url: string,
  ) {
    super(`unexpected response from ${url}: HTTP ${httpStatus} ${body.slice(0, 200).trim()}`);
  }
}

/**
 * A write lost its connection (or timed out) after reaching a member: it may or may not have
 * been applied, so it is not retried elsewhere (a retried create or in-order POST would
 * apply twice). Read the key to find out.
 */
export class WriteOutcomeUnknownError extends Error {
  override name = 'WriteOutcomeUnknownError';
  constructor(
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super(`the request to ${endpoint} may or may not have been applied: ${reason}`);
  }
}
