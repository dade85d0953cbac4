/**
 * ConfChange <-> bytes, for the data of a confChange entry. Layout (version 1):
 *   u8 version | u8 type | u16be nodeId length | nodeId utf-8 | context bytes (rest)
 */
import type { ConfChange, ConfChangeType } from './types.js';

const VERSION = 1;
const TYPE_CODES: Record<ConfChangeType, number> = { addNode: 1, removeNode: 2, addLearner: 3 };
const TYPES_BY_CODE = new Map<number, ConfChangeType>(
  (Object.entries(TYPE_CODES) as [ConfChangeType, number][]).map(([type, code]) => [code, type]),
);

export class ConfChangeDecodeError extends Error {
  override name = 'ConfChangeDecodeError';
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const id = new TextEncoder().encode(cc.nodeId);
  if (id.byteLength > 0xffff) throw new ConfChangeDecodeError(`node id too long (${id.byteLength} bytes)`);
  const out = new Uint8Array(4 + id.byteLength + cc.context.byteLength);
  out[0] = VERSION;
  out[1] = TYPE_CODES[cc.type];
  out[2] = id.byteLength >> 8;
  out[3] = id.byteLength & 0xff;
  out.set(id, 4);
  out.set(cc.context, 4 + id.byteLength);
  return out;
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  if (bytes.byteLength < 4) throw new ConfChangeDecodeError(`conf change too short (${bytes.byteLength} bytes)`);
  if (bytes[0] !== VERSION) throw new ConfChangeDecodeError(`unknown conf change version ${String(bytes[0])}`);
  const type = TYPES_BY_CODE.get(bytes[1] ?? 0);
  if (type === undefined) throw new ConfChangeDecodeError(`unknown conf change type ${String(bytes[1])}`);
  const idLength = ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
  if (bytes.byteLength < 4 + idLength) throw new ConfChangeDecodeError('conf change node id truncated');
  const nodeId = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + idLength));
  return { type, nodeId, context: bytes.slice(4 + idLength) };
}
