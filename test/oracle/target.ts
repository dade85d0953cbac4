/**
 * One server under test, seen from the oracle: how to turn a symbolic request into bytes for it
 * (its own indexes and in-order key names), and what it has told us so far.
 */
import { send, type RawRequest, type RawResponse } from './http.js';
import type { PathSeg, ReqSpec, Sym } from './spec.js';

/** A running server the oracle talks to (a real etcd 3.4 or our member). */
export interface Server {
  readonly label: string;
  readonly clientUrl: string;
  stop(): Promise<void>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class TargetState {
  /** Index base of the first sequence run on this server (for the 401 probe). */
  private firstBase: number | null = null;
  /** X-Etcd-Index before the sequence's first request: relative index 1 = its first write. */
  seqBase = 0;
  /** The last X-Etcd-Index this server reported. */
  current = 0;
  private prefix = '';
  private readonly modified = new Map<string, number>();
  /** In-order keys (decoded node keys) this sequence created here, in creation order. */
  private readonly inorder: string[] = [];

  constructor(readonly server: Server) {}

  async beginSequence(prefix: string, timeoutMs: number): Promise<void> {
    const res = await send(this.server.clientUrl, { method: 'GET', path: '/v2/keys/', body: null }, timeoutMs);
    const index = Number(res.headers['x-etcd-index']);
    if (res.status !== 200 || !Number.isSafeInteger(index)) {
      throw new Error(`${this.server.label}: GET /v2/keys/ answered ${res.status} with X-Etcd-Index ${String(res.headers['x-etcd-index'])}`);
    }
    this.prefix = prefix;
    this.seqBase = index;
    this.current = index;
    this.firstBase ??= index;
    this.modified.clear();
    this.inorder.length = 0;
  }

  /** Form-encoded path segments of a key (below the prefix), resolving in-order references. */
  private keySegments(key: readonly PathSeg[]): string[] {
    let segs = [this.prefix];
    for (const seg of key) {
      if (seg.kind === 'name') {
        segs.push(seg.text);
        continue;
      }
      const target = this.inorder.length === 0 ? null : this.inorder[seg.n % this.inorder.length];
      segs = target == null ? [this.prefix, 'q', 'none'] : target.split('/').filter((s) => s !== '').map(encodeURIComponent);
    }
    return segs;
  }

  /** The node key (`/o5/a/b`) a key addresses, as the server reports it. */
  nodeKey(key: readonly PathSeg[] | null): string {
    if (key === null) return '/';
    return '/' + this.keySegments(key).map((s) => decodeURIComponent(s)).join('/');
  }

  resolve(sym: Sym): string {
    switch (sym.kind) {
      case 'lit':
        return sym.text;
      case 'seqIndex':
        return String(this.seqBase + sym.rel);
      case 'currentIndex':
        return String(this.current + sym.delta);
      case 'modifiedOf': {
        const known = this.modified.get(this.nodeKey(sym.key));
        return String((known ?? this.seqBase + 1) + sym.delta);
      }
      case 'ancientIndex':
        // Only once the server holds well over 1000 events is "current - 1100" surely outside
        // the history on both servers; before that, ask for the sequence's first write.
        if (this.firstBase !== null && this.current - this.firstBase > 1500) return String(this.current - 1100);
        return String(this.seqBase + 1);
    }
  }

  urlPath(spec: ReqSpec): string {
    if (spec.key === null) return spec.pathStyle === 'noSlashRoot' ? '/v2/keys' : '/v2/keys/';
    const [first, ...rest] = this.keySegments(spec.key);
    const tail = rest.length > 0 ? rest.join('/') : 'zz';
    switch (spec.pathStyle) {
      case 'doubleSlash':
        return `/v2/keys/${first}//${tail}`;
      case 'dotDot':
        return `/v2/keys/${first}/zz/../${tail}`;
      case 'trailingSlash':
        return `/v2/keys/${[first, ...rest].join('/')}/`;
      default:
        return `/v2/keys/${[first, ...rest].join('/')}`;
    }
  }

  /**
   * A waitIndex never points before the sequence's first write (unless it is the deliberate 401
   * probe): below that, the two servers' histories differ by their internal writes (3.4 keeps
   * 3 membership events, we keep 2), and a relative index could be 0 on one and 1 on the other.
   */
  private resolveParam(name: string, sym: Sym): string {
    const text = this.resolve(sym);
    if (name !== 'waitIndex' || sym.kind === 'lit' || sym.kind === 'ancientIndex') return text;
    return String(Math.max(Number(text), this.seqBase + 1));
  }

  toRaw(spec: ReqSpec): RawRequest {
    const encode = (params: ReqSpec['query']): string => params.map(([k, v]) => `${k}=${this.resolveParam(k, v)}`).join('&');
    const query = encode(spec.query);
    const path = this.urlPath(spec) + (query === '' ? '' : `?${query}`);
    return { method: spec.method, path, body: spec.form.length === 0 ? null : encode(spec.form) };
  }

  /** Remembers the current index, modified indexes and created in-order keys from a response. */
  learn(spec: ReqSpec | null, res: { status: number; headers: Readonly<Record<string, string>>; body: string | null }): void {
    const index = Number(res.headers['x-etcd-index']);
    // max: a watch's header carries the index at registration, older than its triggers' writes.
    if (Number.isSafeInteger(index) && index > this.current) this.current = index;
    const body = parseJson(res.body);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
    this.learnNode(body['prevNode']);
    this.learnNode(body['node']);
    const node = body['node'];
    if (spec?.method === 'POST' && res.status === 201 && isObject(node) && typeof node['key'] === 'string') {
      this.inorder.push(node['key']);
    }
  }

  private learnNode(node: Json | undefined): void {
    if (!isObject(node)) return;
    const key = node['key'];
    const modifiedIndex = node['modifiedIndex'];
    if (typeof key === 'string' && typeof modifiedIndex === 'number') this.modified.set(key, modifiedIndex);
    const children = node['nodes'];
    if (Array.isArray(children)) for (const child of children) this.learnNode(child);
  }
}

export function parseJson(text: string | null): Json | null {
  if (text === null || text === '') return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return null;
  }
}

export function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type { Json, RawResponse };
