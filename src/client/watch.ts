/**
 * Long-poll watches. A watch asks for the first change at or after `waitIndex`; it survives
 * (a) the 3.4 idle timeout (200 with an empty body) by asking again with the same index,
 * (b) error 401 (the index fell out of the 1000-event history) by re-watching from the
 *     current index + 1 the server reported, and
 * (c) a member going away, through the pool's failover with the same index.
 * A stream is a chain of such watches, each starting after the previous event.
 */
import { ErrorCode } from '../common/errors.js';
import { EtcdApiError, UnexpectedResponseError } from './errors.js';
import type { Call } from './pool.js';
import type { EtcdResponse, WatchOptions } from './types.js';

export type KeysCall = (call: Call) => Promise<EtcdResponse>;

function watchCall(path: string, recursive: boolean, waitIndex: number | undefined, signal: AbortSignal | undefined): Call {
  const query = new URLSearchParams({ wait: 'true' });
  if (recursive) query.set('recursive', 'true');
  if (waitIndex !== undefined && waitIndex > 0) query.set('waitIndex', String(waitIndex));
  return { method: 'GET', pathAndQuery: `${path}?${query.toString()}`, body: '', longPoll: true, ...(signal !== undefined ? { signal } : {}) };
}

/** Where to resume after a 401: just after the newest index the server told us about. */
function indexAfterClearedHistory(err: EtcdApiError): number {
  return Math.max(err.index, err.headers.etcdIndex) + 1;
}

export async function watchOnce(keys: KeysCall, path: string, options: WatchOptions): Promise<EtcdResponse> {
  let waitIndex = options.waitIndex;
  for (;;) {
    try {
      return await keys(watchCall(path, options.recursive === true, waitIndex, options.signal));
    } catch (err) {
      if (err instanceof EtcdApiError && err.errorCode === ErrorCode.EventIndexCleared) {
        waitIndex = indexAfterClearedHistory(err);
        continue;
      }
      if (err instanceof UnexpectedResponseError && err.httpStatus === 200 && err.body.trim() === '') continue;
      throw err;
    }
  }
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

export async function* watchEvents(keys: KeysCall, path: string, options: WatchOptions): AsyncGenerator<EtcdResponse, void, undefined> {
  let waitIndex = options.waitIndex;
  while (!isAborted(options.signal)) {
    let event: EtcdResponse;
    try {
      event = await watchOnce(keys, path, { ...options, ...(waitIndex !== undefined ? { waitIndex } : {}) });
    } catch (err) {
      if (isAbort(err) && isAborted(options.signal)) return;
      throw err;
    }
    yield event;
    waitIndex = event.node.modifiedIndex + 1;
  }
}
