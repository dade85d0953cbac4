/**
 * How a node is shown to clients (spec §4.1): field order, omitempty rules, `expiration` as Go's
 * RFC3339Nano in UTC, and `ttl` computed from the renderer's clock at render time.
 */
import type { NodeJson } from './types.js';

const msPerSecond = 1000;
/** Date can represent ±8.64e15 ms; beyond it there is no calendar time to print. */
const maxDateMs = 8.64e15;

/**
 * Go's time.Time JSON (RFC3339Nano, UTC): fractional seconds with trailing zeros trimmed, no
 * fraction at all on a whole second. We keep millisecond precision.
 */
export function formatExpiration(expireAtMs: number): string {
  const clampedMs = Math.max(-maxDateMs, Math.min(maxDateMs, expireAtMs));
  const iso = new Date(clampedMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ (or ±YYYYYY-…)
  const dot = iso.lastIndexOf('.');
  let fraction = iso.slice(dot + 1, iso.length - 1);
  while (fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  return iso.slice(0, dot) + (fraction === '' ? '' : '.' + fraction) + 'Z';
}

/** ceil((expireAt - now) / 1 s), as etcd computes it (Go truncation plus one on a positive remainder). */
export function ttlSeconds(expireAtMs: number, nowMs: number): number {
  const remainingMs = expireAtMs - nowMs;
  const ttl = Math.ceil(remainingMs / msPerSecond);
  return ttl === 0 ? 0 : ttl; // never -0
}

/** Add `expiration` and (non-zero) `ttl` to a node being rendered, in etcd's field order. */
export function addExpiry(json: NodeJson, expireAtMs: number | null, nowMs: number): void {
  if (expireAtMs === null) return;
  json.expiration = formatExpiration(expireAtMs);
  const ttl = ttlSeconds(expireAtMs, nowMs);
  if (ttl !== 0) json.ttl = ttl;
}
