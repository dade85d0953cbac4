/**
 * The shapes the v2 keys API answers with (spec §4), as the client hands them to callers.
 * Index headers (X-Etcd-Index, X-Raft-Index, X-Raft-Term) ride along on every response.
 */

/** One node of the key space: a file (value) or a directory (dir, nodes). */
export interface EtcdNode {
  /** Absolute key; the root is reported as "/" even when a 3.4 server omits it. */
  readonly key: string;
  /** Present for files (possibly ""), absent for directories and delete results. */
  readonly value?: string;
  readonly dir?: boolean;
  /** RFC 3339 expiry time, only for nodes with a TTL. */
  readonly expiration?: string;
  /** Seconds left, only for nodes with a TTL (rendered by the answering member). */
  readonly ttl?: number;
  /** Children of a listed directory (absent when empty or not listed). */
  readonly nodes?: readonly EtcdNode[];
  /** 0 only for the root. */
  readonly modifiedIndex: number;
  readonly createdIndex: number;
}

/** The index headers of a response. Missing headers read as 0. */
export interface IndexHeaders {
  readonly etcdIndex: number;
  readonly raftIndex: number;
  readonly raftTerm: number;
}

/** A keys API result: the event (or get) envelope plus the index headers. */
export interface EtcdResponse extends IndexHeaders {
  /** get, set, create, update, compareAndSwap, delete, compareAndDelete, expire. */
  readonly action: string;
  readonly node: EtcdNode;
  readonly prevNode?: EtcdNode;
}

/** One member as /v2/members lists it (3.4 and this project). */
export interface EtcdMember {
  readonly id: string;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
}

export interface TlsOptions {
  /** PEM of the CA bundle that signs the servers' certificates. */
  readonly ca?: string | Buffer;
  /** PEM of the client certificate and its key (servers started with -ca-file require them). */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

/** What the client is about to send; handed to ClientOptions.onRequest (etcdctl --debug). */
export interface RequestTrace {
  readonly method: string;
  readonly url: string;
  /** The form body, when there is one. */
  readonly body: string;
}

export interface ClientOptions {
  /** Client URLs (`http://host:port`) or bare `host:port` (http:// is added). At least one. */
  readonly endpoints: readonly string[];
  /** Limit for one HTTP exchange (not for watches, which wait as long as needed). Default 10000. */
  readonly requestTimeoutMs?: number;
  /** Limit for one operation across all retries and failovers. Default 30000. */
  readonly totalTimeoutMs?: number;
  /** Redirects (307 to the leader, 301 to a cleaned path) followed per request. Default 10. */
  readonly maxRedirects?: number;
  readonly tls?: TlsOptions;
  /** Called before every HTTP request, redirects and retries included. */
  readonly onRequest?: (trace: RequestTrace) => void;
}

export interface GetOptions {
  readonly recursive?: boolean;
  readonly sorted?: boolean;
  /** Read through consensus (quorum=true). */
  readonly quorum?: boolean;
  /** 0.4 strong consistency (consistent=true): a follower redirects to the leader. */
  readonly consistent?: boolean;
}

export interface SetOptions {
  /** Seconds; absent (or 0 from etcdctl) means permanent. */
  readonly ttl?: number;
  readonly prevValue?: string;
  readonly prevIndex?: number;
  readonly prevExist?: boolean;
  readonly dir?: boolean;
}

export interface DeleteOptions {
  readonly dir?: boolean;
  readonly recursive?: boolean;
  readonly prevValue?: string;
  readonly prevIndex?: number;
}

export interface WatchOptions {
  readonly recursive?: boolean;
  /** First index of interest; absent = only changes after the watch starts. */
  readonly waitIndex?: number;
  /** Cancels the watch; the pending call rejects with an AbortError. */
  readonly signal?: AbortSignal;
}
