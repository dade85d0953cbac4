/**
 * Seeded generator of v2 key-API request sequences (spec §1–§6). Keys come from a small
 * vocabulary so operations collide (files become parents → 104, dirs get values → 102, creates
 * hit existing keys → 105, ...). Every parameter is placed at random in the query or in the form
 * body, and some requests get extra parameters with bad values so the validation order (§17.1) is
 * exercised too.
 *
 * Deliberately NOT generated (documented so a reader knows the coverage):
 *  - mixed-case booleans such as `tRuE`: §17 accepts them, 3.4 answers 209 — a chosen difference;
 *  - TTLs above 2^32 s: Go's int64 nanosecond arithmetic overflows there (negative or no expiry),
 *    which is not behaviour worth copying;
 *  - `/_etcd/...` keys: the cluster bookkeeping lives there in this project, not in 3.4 (§17);
 *  - `stream=true` watches and 5-minute idle watch timeouts (covered by the api tests).
 */
import { SeededPrng } from '../../src/common/prng.js';
import { lit, name, type PathSeg, type ReqSpec, type Sequence, type Step, type Sym } from './spec.js';

type Param = readonly [string, Sym];

const SEGMENTS = ['a', 'b', 'c', '_h', 'q', 'a', 'b'];
const RARE_SEGMENTS = ['x%20y', 'k%C3%A9', 'd.e'];
/**
 * Form-encoded values: two common ones (so compare-and-swap often matches) and rare odd ones
 * (empty, space, Go-escaped `<&>`, UTF-8, U+2028, invalid UTF-8, `=`, long, a broken escape → 210).
 * None is all digits, so digits inside a 101 cause are always indexes.
 */
const COMMON_VALUES = ['v1', 'two'];
const RARE_VALUES = ['v2', '', 'x+y', '%3C%26%3E', 'h%C3%A9llo', '%E2%80%A8', '%FF%80', 'a%3Db', 'L'.repeat(200), '%ZZ'];
const LARGE_TTLS = ['300', '3600', '86400', '1000000', '4294967296'];
const BAD_TTLS = ['abc', '1.5', '%205', '-1', '10s', '%2B5', '0x10', '99999999999999999999'];
const BAD_INDEXES = ['abc', '-1', '0x10', '1e3', '%201', '99999999999999999999'];
const GOOD_BOOLS = ['true', 'true', 'true', 'false', '1', '0', 't', 'f', 'TRUE', 'True', 'FALSE', 'False'];
const BAD_BOOLS = ['yes', 'abc', '', '2'];
const BOOL_PARAMS = ['recursive', 'sorted', 'wait', 'dir', 'quorum', 'stream', 'prevExist', 'refresh', 'noValueOnSuccess', 'consistent'];
const ODD_METHODS = ['PATCH', 'PROPFIND', 'TRACE'];

/** One sequence generator; all randomness comes from the seed. */
class SequenceGenerator {
  private readonly prng: SeededPrng;
  private smallTtlsLeft: number;

  constructor(readonly seed: number) {
    this.prng = new SeededPrng(seed);
    // Expiry costs ~1 s of waiting, so only some sequences get one small-TTL write.
    this.smallTtlsLeft = this.chance(0.3) ? 1 : 0;
  }

  chance(p: number): boolean {
    return this.prng.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.prng.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  int(n: number): number {
    return this.prng.int(n);
  }

  segment(): PathSeg {
    return name(this.chance(0.06) ? this.pick(RARE_SEGMENTS) : this.pick(SEGMENTS));
  }

  /** A key below the sequence prefix: shallow mostly (collisions), sometimes deep. */
  key(): PathSeg[] {
    if (this.chance(0.07)) {
      const ref: PathSeg[] = [{ kind: 'inorder', n: this.int(4) }];
      if (this.chance(0.25)) ref.push(this.segment());
      return ref;
    }
    const roll = this.prng.next();
    const depth = roll < 0.55 ? 1 : roll < 0.83 ? 2 : roll < 0.93 ? 3 : 5 + this.int(3);
    return Array.from({ length: depth }, () => this.segment());
  }

  /** The key, or (rarely) the root. */
  keyOrRoot(rootChance: number): PathSeg[] | null {
    return this.chance(rootChance) ? null : this.key();
  }

  value(): Sym {
    return lit(this.chance(0.75) ? this.pick(COMMON_VALUES) : this.pick(RARE_VALUES));
  }

  bool(): Sym {
    return lit(this.chance(0.9) ? this.pick(GOOD_BOOLS) : this.pick(BAD_BOOLS));
  }

  trueish(): Sym {
    return lit(this.chance(0.85) ? 'true' : this.pick(GOOD_BOOLS));
  }

  ttl(): { sym: Sym; expires: boolean } {
    const roll = this.prng.next();
    if (this.smallTtlsLeft > 0 && roll < 0.6) {
      this.smallTtlsLeft--;
      return { sym: lit(this.pick(['0', '1'])), expires: true };
    }
    if (roll < 0.12) return { sym: lit(this.pick(BAD_TTLS)), expires: false };
    if (roll < 0.18) return { sym: lit(''), expires: false };
    return { sym: lit(this.pick(LARGE_TTLS)), expires: false };
  }

  prevIndex(key: readonly PathSeg[] | null): Sym {
    const roll = this.prng.next();
    if (roll < 0.5 && key !== null) return { kind: 'modifiedOf', key, delta: 0 };
    if (roll < 0.65 && key !== null) return { kind: 'modifiedOf', key, delta: this.pick([1, -1]) };
    if (roll < 0.75) return { kind: 'seqIndex', rel: 1 + this.int(20) };
    if (roll < 0.85) return lit('0');
    return lit(this.pick(BAD_INDEXES));
  }

  waitIndex(key: readonly PathSeg[] | null): Sym | null {
    const roll = this.prng.next();
    if (roll < 0.2) return null;
    if (roll < 0.45) return { kind: 'currentIndex', delta: -this.int(12) };
    if (roll < 0.55) return { kind: 'currentIndex', delta: 1 };
    if (roll < 0.65) return { kind: 'seqIndex', rel: 1 };
    if (roll < 0.75 && key !== null) return { kind: 'modifiedOf', key, delta: 0 };
    if (roll < 0.82) return lit('0');
    if (roll < 0.9) return { kind: 'ancientIndex' };
    return lit(this.pick(BAD_INDEXES));
  }

  /** Rarely, one more parameter with a random (often invalid) value: exercises validation order. */
  noise(method: string, params: Param[]): void {
    if (!this.chance(0.1)) return;
    // A GET that turned into a real watch would hang: plain GETs never get a `wait` from noise.
    const flags = method === 'GET' ? BOOL_PARAMS.filter((f) => f !== 'wait') : BOOL_PARAMS;
    const which = this.int(4);
    if (which === 0) params.push([this.pick(flags), this.bool()]);
    else if (which === 1) params.push(['ttl', lit(this.pick(BAD_TTLS))]);
    else if (which === 2) params.push([this.pick(['prevIndex', 'waitIndex']), lit(this.pick(BAD_INDEXES))]);
    else params.push([this.pick(flags), lit(this.pick(BAD_BOOLS))]);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const a = items[i] as T;
      items[i] = items[j] as T;
      items[j] = a;
    }
    return items;
  }

  /**
   * Splits params between query and form body. Go reads a form body only for PUT/POST/PATCH, so
   * for other methods a body parameter must be ignored: that is tested, but rarely.
   */
  request(method: string, key: readonly PathSeg[] | null, params: Param[], expectsExpiry = false, pinnedQuery: Param[] = []): ReqSpec {
    this.noise(method, params);
    const bodyChance = method === 'PUT' || method === 'POST' ? 0.5 : 0.04;
    const query: Param[] = [...pinnedQuery];
    const form: Param[] = [];
    for (const p of this.shuffle(params)) (this.chance(bodyChance) ? form : query).push(p);
    if (params.length > 0 && this.chance(0.03)) {
      // The same parameter in both places with another value: Go's FormValue takes the body's first.
      const [k] = this.pick(params);
      (form.length > 0 ? query : form).push([k, k === 'value' ? this.value() : this.bool()]);
    }
    const pathStyle = key === null ? (this.chance(0.3) ? 'noSlashRoot' : 'normal') : this.chance(0.06) ? 'trailingSlash' : 'normal';
    return { method, key, pathStyle, query, form, expectsExpiry };
  }
}

type OpBuilder = (g: SequenceGenerator) => Step;

function req(r: ReqSpec): Step {
  return { kind: 'request', req: r };
}

/** set: plain PUT; maybe ttl, maybe dir=true (with or without a value). */
function opSet(g: SequenceGenerator): Step {
  const key = g.keyOrRoot(0.05);
  const params: Param[] = [];
  let expires = false;
  if (g.chance(0.15)) {
    params.push(['dir', g.trueish()]);
    if (g.chance(0.3)) params.push(['value', g.value()]);
  } else if (g.chance(0.95)) {
    params.push(['value', g.value()]);
  }
  if (g.chance(0.25)) {
    const t = g.ttl();
    params.push(['ttl', t.sym]);
    expires = t.expires;
  }
  if (!expires && g.chance(0.08)) params.push(['noValueOnSuccess', g.trueish()]);
  return req(g.request('PUT', key, params, expires));
}

function opCreate(g: SequenceGenerator): Step {
  const key = g.keyOrRoot(0.03);
  const params: Param[] = [['prevExist', lit(g.pick(['false', 'false', 'f', '0', 'FALSE']))]];
  if (g.chance(0.2)) params.push(['dir', g.trueish()]);
  else params.push(['value', g.value()]);
  if (g.chance(0.2)) params.push(['ttl', lit(g.pick(LARGE_TTLS))]);
  if (g.chance(0.1)) params.push(['prevValue', g.value()]);
  if (g.chance(0.08)) params.push(['noValueOnSuccess', g.trueish()]);
  return req(g.request('PUT', key, params));
}

/** update (prevExist=true), incl. dir TTL updates, and prevExist spelled oddly (209). */
function opUpdate(g: SequenceGenerator): Step {
  const key = g.keyOrRoot(0.03);
  const pe = g.chance(0.9) ? lit(g.pick(['true', 'true', 't', '1', 'TRUE'])) : lit(g.pick(BAD_BOOLS));
  const params: Param[] = [['prevExist', pe]];
  if (g.chance(0.75)) params.push(['value', g.value()]);
  if (g.chance(0.15)) params.push(['dir', g.trueish()]);
  let expires = false;
  if (g.chance(0.3)) {
    const t = g.ttl();
    params.push(['ttl', t.sym]);
    expires = t.expires;
  }
  if (!expires && g.chance(0.08)) params.push(['noValueOnSuccess', g.trueish()]);
  return req(g.request('PUT', key, params, expires));
}

function opCompareAndSwap(g: SequenceGenerator): Step {
  const key = g.keyOrRoot(0.03);
  const params: Param[] = [['value', g.value()]];
  const mode = g.int(3);
  if (mode !== 1) params.push(['prevValue', g.chance(0.1) ? lit('') : g.value()]);
  if (mode !== 0) params.push(['prevIndex', g.prevIndex(key)]);
  if (g.chance(0.2)) params.push(['prevExist', lit(g.pick(['true', 'false']))]);
  if (g.chance(0.15)) params.push(['ttl', lit(g.pick(LARGE_TTLS))]);
  if (g.chance(0.08)) params.push(['noValueOnSuccess', g.trueish()]);
  return req(g.request('PUT', key, params));
}

function opDelete(g: SequenceGenerator): Step {
  const key = g.keyOrRoot(0.05);
  const params: Param[] = [];
  const roll = g.int(4);
  if (roll === 1) params.push(['dir', g.bool()]);
  if (roll === 2) params.push(['recursive', g.bool()]);
  if (roll === 3) params.push(['dir', g.bool()], ['recursive', g.bool()]);
  return req(g.request('DELETE', key, params));
}

function opCompareAndDelete(g: SequenceGenerator): Step {
  const key = g.keyOrRoot(0.03);
  const params: Param[] = [];
  const mode = g.int(3);
  if (mode !== 1) params.push(['prevValue', g.chance(0.1) ? lit('') : g.value()]);
  if (mode !== 0) params.push(['prevIndex', g.prevIndex(key)]);
  if (g.chance(0.2)) params.push(['dir', g.bool()]);
  return req(g.request('DELETE', key, params));
}

/** POST: in-order keys (20-digit names), also under the root and under files (104). */
function opPost(g: SequenceGenerator): Step {
  const key = g.chance(0.08) ? null : g.chance(0.6) ? [name('q')] : g.key();
  const params: Param[] = [];
  let expires = false;
  if (g.chance(0.15)) params.push(['dir', g.trueish()]);
  else if (g.chance(0.9)) params.push(['value', g.value()]);
  if (g.chance(0.2)) {
    const t = g.ttl();
    params.push(['ttl', t.sym]);
    expires = t.expires;
  }
  if (g.chance(0.1)) params.push(['prevExist', lit('false')]);
  return req(g.request('POST', key, params, expires));
}

function opGet(g: SequenceGenerator, method = 'GET'): Step {
  const key = g.keyOrRoot(0.08);
  const params: Param[] = [];
  // A recursive listing of the root spans every earlier sequence: keep it rare.
  if (g.chance(key === null ? 0.25 : 0.4)) params.push(['recursive', g.bool()]);
  if (g.chance(0.4)) params.push(['sorted', g.bool()]);
  if (g.chance(0.05)) params.push(['consistent', g.trueish()]);
  if (method === 'HEAD' && g.chance(0.2)) params.push(['wait', g.trueish()]);
  // quorum=true makes etcd ignore wait=true (§17.1): a plain read, not a watch.
  // Both in the query: a GET body is not read, and wait=true alone would be a real watch.
  const pinned: Param[] = g.chance(0.05) ? [['quorum', lit('true')], ['wait', g.trueish()]] : [];
  if (pinned.length === 0 && g.chance(0.12)) params.push(['quorum', g.bool()]);
  return req(g.request(method, key, params, false, pinned));
}

function opRefresh(g: SequenceGenerator): Step {
  const key = g.key();
  const params: Param[] = [['refresh', g.trueish()]];
  if (g.chance(0.8)) params.push(['ttl', lit(g.pick(LARGE_TTLS))]);
  if (g.chance(0.7)) params.push(['prevExist', lit('true')]);
  if (g.chance(0.15)) params.push(['value', g.value()]);
  if (g.chance(0.1)) params.push(['prevValue', g.value()]);
  return req(g.request('PUT', key, params));
}

/** Long-poll watch, with waitIndex in the past, now, next, too old (401) or malformed. */
function opWatch(g: SequenceGenerator): Step {
  // Shallow keys mostly: a watch below a file can never fire and costs the open-watch grace time.
  const key = g.chance(0.06) ? null : g.chance(0.7) ? [g.segment()] : g.key();
  const recursive = key === null || g.chance(0.4);
  const params: Param[] = [['wait', g.chance(0.92) ? lit('true') : g.bool()]];
  if (recursive) params.push(['recursive', g.trueish()]);
  const waitIndex = g.waitIndex(key);
  if (waitIndex !== null) params.push(['waitIndex', waitIndex]);
  const watch = g.request('GET', key, params);
  const triggerKey = key ?? [name(g.pick(['a', 'b']))];
  const value = lit(g.pick(COMMON_VALUES));
  const put = plain('PUT', triggerKey, [['value', value]]);
  const triggers: ReqSpec[][] = [];
  if (recursive && key !== null && g.chance(0.5)) triggers.push([plain('POST', triggerKey, [['value', value]])]);
  triggers.push([put], [plain('DELETE', triggerKey, [['recursive', lit('true')]])]);
  // Below a file (104) nothing can fire: delete the file ancestor (deepest first), then put again.
  for (let depth = triggerKey.length - 1; depth >= 1; depth--) {
    triggers.push([plain('DELETE', triggerKey.slice(0, depth), []), put]);
  }
  return { kind: 'watch', watch, triggers };
}

/**
 * A stream watch on one key: a few writes to the key itself (set, update, CAS, delete — some fail,
 * e.g. 102 on a dir), each success one line on the stream. No waitIndex: history replay on a
 * stream would make the expected line count depend on the past.
 */
function opStream(g: SequenceGenerator): Step {
  const key = [g.segment()];
  const recursive = g.chance(0.5);
  const params: Param[] = [['wait', lit('true')], ['stream', lit(g.pick(['true', 'true', '1', 't']))]];
  if (recursive) params.push(['recursive', lit('true')]);
  const writes: ReqSpec[] = [];
  const count = 2 + g.int(3);
  for (let i = 0; i < count; i++) {
    const roll = g.int(4);
    if (roll === 0) writes.push(plain('PUT', key, [['value', lit(g.pick(COMMON_VALUES))]]));
    else if (roll === 1) writes.push(plain('PUT', key, [['value', lit(g.pick(COMMON_VALUES))], ['prevExist', lit('true')]]));
    else if (roll === 2) writes.push(plain('PUT', key, [['value', lit('v1')], ['prevValue', lit(g.pick(COMMON_VALUES))]]));
    else writes.push(plain('DELETE', key, g.chance(0.5) ? [['recursive', lit('true')]] : []));
  }
  return { kind: 'stream', watch: plain('GET', key, params), writes };
}

/**
 * After a 0–1 s TTL has expired (the runner waits for it), a recursive watch from the current
 * index replays the `expire` event from the history.
 */
function expiryWatch(key: readonly PathSeg[]): Step {
  const params: Param[] = [['wait', lit('true')], ['recursive', lit('true')], ['waitIndex', { kind: 'currentIndex', delta: 0 }]];
  const watch = plain('GET', key, params);
  return { kind: 'watch', watch, triggers: [[plain('PUT', key, [['value', lit('v1')]])], [plain('DELETE', key, [['recursive', lit('true')]])]] };
}

/** A request without random placement or noise (watch triggers must be predictable). */
function plain(method: string, key: readonly PathSeg[], params: Param[]): ReqSpec {
  return { method, key, pathStyle: 'normal', query: method === 'PUT' || method === 'POST' ? [] : params, form: method === 'PUT' || method === 'POST' ? params : [], expectsExpiry: false };
}

function opOddMethod(g: SequenceGenerator): Step {
  return req(g.request(g.pick(ODD_METHODS), g.keyOrRoot(0.1), []));
}

/** Unclean paths (`//`, `..`): Go's mux answers 301 to the cleaned path, query kept. */
function opUncleanPath(g: SequenceGenerator): Step {
  const method = g.pick(['GET', 'PUT', 'DELETE', 'HEAD']);
  const params: Param[] = method === 'PUT' ? [['value', g.value()]] : g.chance(0.5) ? [['recursive', lit('true')]] : [];
  const r = g.request(method, g.key(), params);
  return req({ ...r, form: [], query: [...r.query, ...r.form], pathStyle: g.chance(0.7) ? 'doubleSlash' : 'dotDot' });
}

/** `wait=true` on a write: 209. */
function opWaitOnWrite(g: SequenceGenerator): Step {
  const method = g.pick(['PUT', 'POST', 'DELETE']);
  const params: Param[] = [['wait', g.trueish()]];
  if (method !== 'DELETE') params.push(['value', g.value()]);
  return req(g.request(method, g.key(), params));
}

const OPS: ReadonlyArray<readonly [number, OpBuilder]> = [
  [16, opSet],
  [7, opCreate],
  [7, opUpdate],
  [9, opCompareAndSwap],
  [8, opDelete],
  [5, opCompareAndDelete],
  [6, opPost],
  [14, (g) => opGet(g)],
  [3, (g) => opGet(g, 'HEAD')],
  [8, opWatch],
  [2, opStream],
  [3, opRefresh],
  [2, opOddMethod],
  [2, opUncleanPath],
  [1, opWaitOnWrite],
];
const TOTAL_WEIGHT = OPS.reduce((sum, [w]) => sum + w, 0);

function pickOp(g: SequenceGenerator): OpBuilder {
  let roll = g.int(TOTAL_WEIGHT);
  for (const [weight, op] of OPS) {
    if (roll < weight) return op;
    roll -= weight;
  }
  throw new Error('unreachable: weights exhausted');
}

/** The sequence for `seed`: `requestCount` steps (a watch step counts as one request). */
export function generateSequence(seed: number, requestCount: number): Sequence {
  const g = new SequenceGenerator(seed);
  const steps: Step[] = [];
  while (steps.length < requestCount) {
    const step = pickOp(g)(g);
    steps.push(step);
    if (step.kind === 'request' && step.req.expectsExpiry && step.req.key !== null && steps.length < requestCount) {
      steps.push(expiryWatch(step.req.key));
    }
  }
  return { seed, prefix: `o${seed}`, steps };
}
