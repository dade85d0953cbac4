/**
 * How a node is shown to clients (spec §4.1): field order, omitempty rules, `expiration` as Go's
 * RFC3339Nano in UTC, and `ttl` computed from the renderer's clock at render time. Calendar
 * arithmetic is done here by hand so the store never touches Date.
 */
import type { NodeJson } from './types.js';

const msPerSecond = 1000;
const msPerDay = 86_400_000;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Proleptic Gregorian (year, month 1-12, day 1-31) of a day count since 1970-01-01. */
function civilFromDays(daysSinceEpoch: number): [number, number, number] {
  // Shift to 0000-03-01 so that leap days fall at the end of a 400-year era's years.
  const shifted = daysSinceEpoch + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const marchMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * marchMonth + 2) / 5) + 1;
  const month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return [year, month, day];
}

/**
 * Go's time.Time JSON (RFC3339Nano, UTC): fractional seconds with trailing zeros trimmed, no
 * fraction at all on a whole second. We keep millisecond precision.
 */
export function formatExpiration(expireAtMs: number): string {
  const days = Math.floor(expireAtMs / msPerDay);
  const msOfDay = expireAtMs - days * msPerDay;
  const [year, month, day] = civilFromDays(days);
  const seconds = Math.floor(msOfDay / msPerSecond);
  const millis = msOfDay - seconds * msPerSecond;
  const time = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`;
  let fraction = millis === 0 ? '' : '.' + pad(millis, 3);
  while (fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  const yearText = year < 0 ? '-' + pad(-year, 4) : pad(year, 4);
  return `${yearText}-${pad(month, 2)}-${pad(day, 2)}T${time}${fraction}Z`;
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
