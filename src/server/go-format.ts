/**
 * Time rendering the way Go prints it, for /v2/stats/self: clients (and the tutorial) show
 * `uptime` as a Go Duration string and `startTime` as RFC3339 with fractional seconds.
 */
import { assert } from '../common/assert.js';
import { formatExpiration } from '../store/render.js';

const NS_PER_US = 1_000;
const NS_PER_MS = 1_000_000;
const NS_PER_S = 1_000_000_000;

/** Go's time.Duration.String(): "0s", "950ms", "1.5s", "1m18.54s", "2h3m4.005s". */
export function goDurationString(durationNs: number): string {
  assert(Number.isSafeInteger(durationNs), () => `duration must be integral nanoseconds, got ${durationNs}`);
  if (durationNs === 0) return '0s';
  const sign = durationNs < 0 ? '-' : '';
  const ns = Math.abs(durationNs);
  if (ns < NS_PER_S) return sign + subSecond(ns);
  const hours = Math.floor(ns / (3600 * NS_PER_S));
  const minutes = Math.floor((ns % (3600 * NS_PER_S)) / (60 * NS_PER_S));
  const secondsNs = ns % (60 * NS_PER_S);
  let text = `${fraction(Math.floor(secondsNs / NS_PER_S), secondsNs % NS_PER_S, 9)}s`;
  if (hours > 0 || minutes > 0) text = `${minutes}m${text}`;
  if (hours > 0) text = `${hours}h${text}`;
  return sign + text;
}

/** Below one second Go picks the largest unit that keeps an integer part: ns, µs or ms. */
function subSecond(ns: number): string {
  if (ns < NS_PER_US) return `${ns}ns`;
  if (ns < NS_PER_MS) return `${fraction(Math.floor(ns / NS_PER_US), ns % NS_PER_US, 3)}µs`;
  return `${fraction(Math.floor(ns / NS_PER_MS), ns % NS_PER_MS, 6)}ms`;
}

/** "whole.frac" with the fraction zero-padded to `digits` and trailing zeros trimmed. */
function fraction(whole: number, rest: number, digits: number): string {
  if (rest === 0) return String(whole);
  const frac = String(rest).padStart(digits, '0').replace(/0+$/, '');
  return `${whole}.${frac}`;
}

/** RFC3339 in UTC with the fractional seconds Go's RFC3339Nano keeps: the store's renderer, one for the whole member. */
export function goRfc3339Nano(epochMs: number): string {
  assert(Number.isFinite(epochMs), 'timestamp must be finite');
  return formatExpiration(Math.floor(epochMs));
}
