/**
 * What the member writes into a Raft log entry's data. Raft treats it as opaque bytes; the member
 * decodes committed entries and applies their command to the store. The request id lets the
 * member that proposed an entry find the HTTP request waiting for it (ids carry a per-boot nonce,
 * so entries replayed from an earlier run never resolve a request of this run).
 */
import { assert } from '../common/assert.js';
import type { StoreCommand } from '../store/types.js';

export interface LogRequest {
  readonly requestId: string;
  readonly command: StoreCommand;
}

interface WireRequest {
  readonly r: string;
  readonly c: StoreCommand;
}

export function encodeLogRequest(request: LogRequest): Uint8Array {
  const wire: WireRequest = { r: request.requestId, c: request.command };
  return Buffer.from(JSON.stringify(wire), 'utf8');
}

/** Entries are written only by this codec, so anything else is a broken invariant (corrupt log). */
export function decodeLogRequest(data: Uint8Array): LogRequest {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  const wire: unknown = JSON.parse(text);
  assert(isWireRequest(wire), () => `log entry is not a member request: ${text.slice(0, 200)}`);
  return { requestId: wire.r, command: wire.c };
}

function isWireRequest(value: unknown): value is WireRequest {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const command = record['c'];
  return typeof record['r'] === 'string' && typeof command === 'object' && command !== null &&
    typeof (command as Record<string, unknown>)['op'] === 'string';
}
