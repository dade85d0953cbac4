/**
 * From a raw HTTP answer to a comparable Observation, and the §17 decisions.
 *
 * Two kinds of rewriting happen here, and only these:
 *  1. `relativize` (both servers): every etcd index becomes relative to the server's index
 *     before the sequence began, so relative index 1 is the sequence's first write. This is the
 *     "first user write is 3, not 4" decision of §17/§2 — and it lets sequences share a server.
 *     Indexes appear in X-Etcd-Index, createdIndex/modifiedIndex, the error `index`, 20-digit
 *     in-order key names, the `[prevIndex != modifiedIndex]` part of a 101 cause and the
 *     `[oldest/requested]` part of a 401 cause.
 *  2. `applyProjectDecisions` (the reference etcd 3.4 only): what §17 tells this project to
 *     answer differently from 3.4 on a key request. See that function.
 *  3. `collapseDoubledDeleteLines` (the reference etcd 3.4 only, stream watches): etcd 3.4 sends
 *     a `delete`/`compareAndDelete` event twice to a stream watching exactly that key (its
 *     store notifies through the removal callback and again for the event). A client sees the
 *     same event (same modifiedIndex) twice; we deliver each event once, by decision.
 */
import type { RawResponse } from './http.js';
import { isObject, parseJson, type Json } from './target.js';

export interface Observation {
  /** HTTP status, or a description of why there was none. */
  readonly status: number | string;
  /** X-Etcd-Index relative to the sequence base; null when absent. */
  etcdIndex: number | null;
  readonly hasRaftIndex: boolean;
  readonly hasRaftTerm: boolean;
  readonly hasClusterId: boolean;
  readonly contentType: string | null;
  readonly location: string | null;
  readonly allow: string | null;
  /** Parsed JSON (relativized), the raw text of a non-JSON body, or null (no body / still open). */
  body: Json | null;
  readonly bodyIsJson: boolean;
  readonly endsWithNewline: boolean;
  /** Go's JSON escapes found in the raw body (`\u003c` ...): escaping must match. */
  readonly escapes: string;
}

const GO_ESCAPES = ['\\u0026', '\\u003c', '\\u003e', '\\ufffd', '\\u2028', '\\u2029'];

function countEscapes(text: string): string {
  return GO_ESCAPES.map((e) => `${e}x${text.split(e).length - 1}`).join(' ');
}

/** 20-digit path segments are in-order key names, i.e. indexes. */
function relativizeKey(key: string, base: number): string {
  return key.replace(/\/(\d{20})(?=[/?]|$)/g, (_m, digits: string) => `/#${Number(digits) - base}`);
}

function relativizeNode(node: Json, base: number): Json {
  if (!isObject(node)) return node;
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) {
    if ((k === 'createdIndex' || k === 'modifiedIndex') && typeof v === 'number') out[k] = v - base;
    else if (k === 'key' && typeof v === 'string') out[k] = relativizeKey(v, base);
    else if (k === 'nodes' && Array.isArray(v)) out[k] = v.map((child) => relativizeNode(child, base));
    else out[k] = v;
  }
  return out;
}

function relativizeCause(code: number, cause: string, base: number): string {
  if (code === 101) {
    // Values in the generator's vocabulary are never all digits, so `[n != m]` is the index part.
    return cause.replace(/\[(\d+) != (\d+)\]/g, (_m, a: string, b: string) => `[${Number(a) - base} != ${Number(b) - base}]`);
  }
  if (code === 401) {
    return cause.replace(/\[(\d+)\/(\d+)\]/, (_m, a: string, b: string) => `[${Number(a) - base}/${Number(b) - base}]`);
  }
  return relativizeKey(cause, base);
}

export function relativizeBody(body: Json, base: number): Json {
  if (!isObject(body)) return body;
  const out: { [key: string]: Json } = {};
  const code = typeof body['errorCode'] === 'number' ? body['errorCode'] : null;
  for (const [k, v] of Object.entries(body)) {
    if ((k === 'node' || k === 'prevNode') && v !== null) out[k] = relativizeNode(v, base);
    else if (k === 'index' && code !== null && typeof v === 'number') out[k] = v === 0 ? 0 : v - base;
    else if (k === 'cause' && code !== null && typeof v === 'string') out[k] = relativizeCause(code, v, base);
    else out[k] = v;
  }
  return out;
}

export function observe(res: RawResponse | null, failure: string | null, base: number): Observation {
  if (res === null) {
    return {
      status: failure ?? 'no response', etcdIndex: null, hasRaftIndex: false, hasRaftTerm: false, hasClusterId: false,
      contentType: null, location: null, allow: null, body: null, bodyIsJson: false, endsWithNewline: false, escapes: '',
    };
  }
  const h = res.headers;
  const rawIndex = h['x-etcd-index'];
  const contentType = h['content-type'] ?? null;
  const json = contentType?.startsWith('application/json') === true ? parseJson(res.body) : null;
  const index = rawIndex === undefined ? null : Number(rawIndex);
  return {
    status: res.status,
    etcdIndex: index === null ? null : index === 0 ? 0 : index - base,
    hasRaftIndex: h['x-raft-index'] !== undefined,
    hasRaftTerm: h['x-raft-term'] !== undefined,
    hasClusterId: h['x-etcd-cluster-id'] !== undefined,
    contentType,
    location: h['location'] === undefined ? null : relativizeKey(h['location'], base),
    allow: h['allow'] ?? null,
    body: json !== null ? relativizeBody(json, base) : res.body === '' ? null : res.body,
    bodyIsJson: json !== null,
    endsWithNewline: res.body.endsWith('\n'),
    escapes: countEscapes(res.body),
  };
}

/** A watch that was still open when the oracle stopped waiting: status and headers, no body. */
export function observeOpenWatch(status: number, headers: Readonly<Record<string, string>>, base: number): Observation {
  const obs = observe({ status, headers, body: '' }, null, base);
  return { ...obs, body: 'STILL OPEN (no event delivered)' };
}

/**
 * The §17 decisions visible in key responses, applied to the reference (etcd 3.4) observation to
 * get what this project must answer. Everything else must match 3.4 exactly.
 *  - Root node: this project renders `"key":"/"` on the root node (3.4 omits it).
 *  - Validation errors (codes 200–299): 3.4 reports `index` 0 and `X-Etcd-Index: 0`; this
 *    project reports the current etcd index ("validation cause: 3.4 wording; index = current").
 *    A HEAD has no body, so there the header alone (0 only on validation errors) identifies it.
 *  - `X-Etcd-Cluster-Id` is "always sent" here: its presence is only required where 3.4 sends it
 *    (handled in compare, not here).
 * (The 3-vs-4 first write index is absorbed by relativize; `/_etcd` keys, mixed-case booleans
 * and `/version` are kept out of the generated requests.)
 * `currentRel` is the reference's current index relative to the sequence base.
 */
export function applyProjectDecisions(obs: Observation, currentRel: number): Observation {
  const out: Observation = { ...obs };
  // Every store answer carries an index >= 1; X-Etcd-Index 0 only comes with validation errors
  // (also on HEAD, where there is no body to look at).
  if (out.etcdIndex === 0) out.etcdIndex = currentRel;
  const body = obs.body;
  if (!isObject(body)) return out;
  const node = body['node'];
  if (isObject(node) && node['key'] === undefined && node['dir'] === true) {
    out.body = { ...body, node: { key: '/', ...node } };
  }
  const code = body['errorCode'];
  if (typeof code === 'number' && code >= 200 && code < 300 && body['index'] === 0) {
    out.body = { ...body, index: currentRel };
  }
  return out;
}

/** Drops a line that repeats the line before it when it is a delete or compareAndDelete event (see 3. above). */
export function collapseDoubledDeleteLines(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const previous = out[out.length - 1];
    if (previous === line && /^\{"action":"(delete|compareAndDelete)"/.test(line)) continue;
    out.push(line);
  }
  return out;
}
