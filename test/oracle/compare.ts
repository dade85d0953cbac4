/**
 * Field-by-field comparison of two Observations. Exact everywhere (including JSON field order)
 * except: directory listings are compared as sets unless the request asked for `sorted=true`
 * (Go map order is random), `ttl` may differ by 1 s and `expiration` by 2 s (the two servers
 * render a moment apart), and `X-Etcd-Cluster-Id` may be present where 3.4 omits it (§17).
 */
import type { Observation } from './normalize.js';
import { isObject, type Json } from './target.js';

const EXPIRATION_FORMAT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const TTL_SLACK_S = 1;
const EXPIRATION_SLACK_MS = 2000;

export interface CompareOptions {
  /** The request asked for sorted listings: `nodes` order matters. */
  readonly sorted: boolean;
}

export function compareObservations(expected: Observation, actual: Observation, options: CompareOptions): string[] {
  const diffs: string[] = [];
  const field = (label: string, e: unknown, a: unknown): void => {
    if (e !== a) diffs.push(`${label}: expected ${JSON.stringify(e)}, got ${JSON.stringify(a)}`);
  };
  field('status', expected.status, actual.status);
  field('X-Etcd-Index (relative)', expected.etcdIndex, actual.etcdIndex);
  field('X-Raft-Index present', expected.hasRaftIndex, actual.hasRaftIndex);
  field('X-Raft-Term present', expected.hasRaftTerm, actual.hasRaftTerm);
  if (expected.hasClusterId) field('X-Etcd-Cluster-Id present', true, actual.hasClusterId);
  if (expected.status === 301) {
    field('Location', expected.location, actual.location);
    return diffs; // Go's mux writes an HTML body on 301: not part of the v2 API
  }
  if (expected.status === 405) field('Allow', expected.allow, actual.allow);
  if (expected.bodyIsJson) {
    field('Content-Type', expected.contentType, actual.contentType);
    field('body ends with \\n', expected.endsWithNewline, actual.endsWithNewline);
    field('Go JSON escapes', expected.escapes, actual.escapes);
  }
  field('body is JSON', expected.bodyIsJson, actual.bodyIsJson);
  compareJson('body', expected.body, actual.body, options, diffs);
  return diffs;
}

function compareJson(path: string, e: Json | null | undefined, a: Json | null | undefined, options: CompareOptions, diffs: string[]): void {
  if (isObject(e ?? null) && isObject(a ?? null)) {
    compareObjects(path, e as { [key: string]: Json }, a as { [key: string]: Json }, options, diffs);
    return;
  }
  if (Array.isArray(e) && Array.isArray(a)) {
    if (e.length !== a.length) {
      diffs.push(`${path}: expected ${e.length} items, got ${a.length}`);
      return;
    }
    e.forEach((item, i) => compareJson(`${path}[${i}]`, item, a[i], options, diffs));
    return;
  }
  if (e !== a) diffs.push(`${path}: expected ${JSON.stringify(e)}, got ${JSON.stringify(a)}`);
}

function compareObjects(path: string, e: { [key: string]: Json }, a: { [key: string]: Json }, options: CompareOptions, diffs: string[]): void {
  // ttl is omitted when it rounds to 0, so presence may legitimately differ within the slack.
  const eKeys = Object.keys(e).filter((k) => k !== 'ttl');
  const aKeys = Object.keys(a).filter((k) => k !== 'ttl');
  if (eKeys.join(',') !== aKeys.join(',')) {
    diffs.push(`${path}: expected fields [${eKeys.join(',')}], got [${aKeys.join(',')}]`);
  }
  if ('ttl' in e || 'ttl' in a) compareTtl(`${path}.ttl`, e['ttl'], a['ttl'], diffs);
  for (const k of eKeys) {
    if (!(k in a)) continue;
    const sub = `${path}.${k}`;
    if (k === 'expiration') compareExpiration(sub, e[k], a[k], diffs);
    else if (k === 'nodes' && !options.sorted) compareJson(sub, byKey(e[k]), byKey(a[k]), options, diffs);
    else compareJson(sub, e[k], a[k], options, diffs);
  }
}

function compareTtl(path: string, e: Json | undefined, a: Json | undefined, diffs: string[]): void {
  const eTtl = e ?? 0;
  const aTtl = a ?? 0;
  if (typeof eTtl !== 'number' || typeof aTtl !== 'number' || Math.abs(eTtl - aTtl) > TTL_SLACK_S) {
    diffs.push(`${path}: expected ${JSON.stringify(e)} (±${TTL_SLACK_S}), got ${JSON.stringify(a)}`);
  }
}

function compareExpiration(path: string, e: Json | undefined, a: Json | undefined, diffs: string[]): void {
  if (typeof a !== 'string' || !EXPIRATION_FORMAT.test(a)) {
    diffs.push(`${path}: expected an RFC3339 UTC time like ${JSON.stringify(e)}, got ${JSON.stringify(a)}`);
    return;
  }
  if (typeof e !== 'string' || Math.abs(Date.parse(e) - Date.parse(a)) > EXPIRATION_SLACK_MS) {
    diffs.push(`${path}: expected ${JSON.stringify(e)} (±${EXPIRATION_SLACK_MS} ms), got ${JSON.stringify(a)}`);
  }
}

/** An unordered listing, in a canonical order (by key) so it compares as a set. */
function byKey(nodes: Json | undefined): Json | undefined {
  if (!Array.isArray(nodes)) return nodes;
  const keyOf = (n: Json): string => (isObject(n) && typeof n['key'] === 'string' ? n['key'] : '');
  return [...nodes].sort((x, y) => (keyOf(x) < keyOf(y) ? -1 : keyOf(x) > keyOf(y) ? 1 : 0));
}
