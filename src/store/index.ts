/**
 * The v2 key space (spec §1–§6, §8, §16): a pure, deterministic state machine.
 *
 *   const store = new Store();
 *   store.apply(cmd)            // committed write → StoreEvent, or throws EtcdError (no index used)
 *   store.applySync({op:'sync', nowMs})   // expire nodes with expireAtMs <= nowMs → StoreEvent[]
 *   store.get(key, {recursive, sorted}, nowMs)
 *   store.watch(key, {recursive, stream, sinceIndex}).onEvent(listener) / .remove()
 *   store.stats(), store.index, store.nextExpiryMs(), store.save(), Store.recover(bytes)
 *
 * Event objects (and those replayed from the history) are shared: render them, never mutate them.
 * Listeners run synchronously inside apply/applySync and must not throw or re-enter the store.
 */
export { Store, minExpireAtMs, type GetOptions, type WatchOptions, type Watcher } from './store.js';
export { normalizeKey } from './path.js';
export { formatExpiration, ttlSeconds } from './render.js';
export { historyCapacity } from './history.js';
export type * from './types.js';
