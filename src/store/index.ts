export { Store, minExpireAtMs, type GetOptions, type WatchOptions } from './store.js';
export type { Watcher } from './watcher-hub.js';
export { normalizeKey } from './path.js';
export { formatExpiration, ttlSeconds } from './render.js';
export { historyCapacity } from './history.js';
export type * from './types.js';
