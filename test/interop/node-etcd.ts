/**
 * node-etcd 7 (npm `node-etcd`, CommonJS, no types) loaded unmodified, with just the part of its
 * callback API the interop tests use typed here. Only the async API: the *Sync calls need the
 * native `deasync` addon, which is not built.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';

export interface V2Node {
  key: string;
  value?: string;
  dir?: boolean;
  nodes?: V2Node[];
  ttl?: number;
  expiration?: string;
  modifiedIndex: number;
  createdIndex: number;
}

export interface V2Response {
  action: string;
  node: V2Node;
  prevNode?: V2Node;
}

/** node-etcd's error for an etcd error body: `errorCode` plus the body itself in `error`. */
export interface NodeEtcdError extends Error {
  errorCode?: number;
  error?: { errorCode: number; message: string; cause?: string; index: number };
}

export type Headers = Readonly<Record<string, string | undefined>>;
type Callback = (err: NodeEtcdError | null, body: V2Response | '', headers: Headers) => void;
type Options = Readonly<Record<string, string | number | boolean>>;

export interface NodeEtcdWatcher extends EventEmitter {
  stop(): void;
}

export interface NodeEtcd {
  set(key: string, value: string, options: Options, callback: Callback): void;
  get(key: string, options: Options, callback: Callback): void;
  create(dir: string, value: string, options: Options, callback: Callback): void;
  del(key: string, options: Options, callback: Callback): void;
  mkdir(dir: string, options: Options, callback: Callback): void;
  rmdir(dir: string, options: Options, callback: Callback): void;
  compareAndSwap(key: string, value: string, oldValue: string, options: Options, callback: Callback): void;
  watcher(key: string, index: number | null, options: Options): NodeEtcdWatcher;
  /** GET /version with `Accept: application/json` (node-etcd asks for JSON everywhere). */
  version(callback: Callback): void;
  /** GET /v2/keys/_etcd/machines: the 0.4 machine registry. */
  machines(callback: Callback): void;
}

type NodeEtcdConstructor = new (hosts: string | string[], options?: Options) => NodeEtcd;

export function nodeEtcdClient(clientUrl: string): NodeEtcd {
  const require = createRequire(import.meta.url);
  const Etcd = require('node-etcd') as NodeEtcdConstructor;
  return new Etcd(clientUrl);
}

export interface Outcome {
  readonly err: NodeEtcdError | null;
  readonly body: V2Response | '';
  readonly headers: Headers;
}

/** Runs one callback-style call and resolves with everything the callback got. */
export function call(start: (callback: Callback) => void): Promise<Outcome> {
  return new Promise((resolve) => start((err, body, headers) => resolve({ err, body, headers })));
}

/** The parts of an outcome a test compares: the body, or the error's code and etcd body. */
export function summary(outcome: Outcome): unknown {
  if (outcome.err !== null) {
    return { errorCode: outcome.err.errorCode, message: outcome.err.message, error: outcome.err.error };
  }
  return { body: outcome.body, etcdIndex: Number(outcome.headers['x-etcd-index']) };
}
