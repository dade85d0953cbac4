/**
 * The TypeScript client for the etcd v2 API. See README.md in this directory for examples.
 *
 *   const client = new EtcdClient({ endpoints: ['http://127.0.0.1:4001'] });
 *   await client.sync();
 *   const res = await client.set('/example/key', 'data', { ttl: 60 });
 */
export { EtcdClient, keysPath } from './client.js';
export {
  ClientTimeoutError,
  ClusterUnreachableError,
  EtcdApiError,
  SyncError,
  UnexpectedResponseError,
  WriteOutcomeUnknownError,
  type EndpointFailure,
} from './errors.js';
export { TransportError } from './http.js';
export { MembersApiError } from './members.js';
export { defaultMaxRedirects, defaultRequestTimeoutMs, defaultTotalTimeoutMs, normalizeEndpoint } from './pool.js';
export type {
  ClientOptions,
  DeleteOptions,
  EtcdMember,
  EtcdNode,
  EtcdResponse,
  GetOptions,
  IndexHeaders,
  RequestTrace,
  SetOptions,
  TlsOptions,
  WatchOptions,
} from './types.js';
