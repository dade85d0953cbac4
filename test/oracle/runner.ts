/**
 * Replays generated sequences against a reference (real etcd 3.4) and a candidate (our member)
 * side by side: each request goes to both at the same moment, both answers are normalised and
 * compared; the first mismatch ends the sequence and is reported with the seed, the request and
 * both responses. Sequences share one server pair (each works below its own key prefix, and
 * indexes are taken relative to the sequence's start); after a mismatch the pair is replaced so
 * one bug is reported once and later sequences start clean.
 */
import { closeIdleConnections, openRequest, send, type PendingWatch, type RawRequest, type RawResponse } from './http.js';
import { applyProjectDecisions, collapseDoubledDeleteLines, observe, observeOpenWatch, type Observation } from './normalize.js';
import { compareObservations } from './compare.js';
import { generateSequence } from './generate.js';
import type { ReqSpec, Sequence, Step } from './spec.js';
import { isObject, parseJson, TargetState, type Server } from './target.js';

export interface OracleConfig {
  readonly requestTimeoutMs: number;
  /** How long a watch may take to deliver the event its trigger caused. */
  readonly watchEventTimeoutMs: number;
  /** How long a watch with no successful trigger is watched before both count as "still open". */
  readonly openWatchGraceMs: number;
  /** How long a 0–1 s TTL may take to expire (expiry sweeps run every 500 ms). */
  readonly expiryTimeoutMs: number;
  /** Both servers are real etcds: apply the §17 decisions to both (proves the comparison sound). */
  readonly selfCheck: boolean;
  /** Also compare how /v2/stats/store counters moved over each sequence. */
  readonly compareStoreStats: boolean;
}

export const defaultOracleConfig: OracleConfig = {
  requestTimeoutMs: 10_000,
  watchEventTimeoutMs: 5_000,
  openWatchGraceMs: 1_000,
  expiryTimeoutMs: 6_000,
  selfCheck: false,
  compareStoreStats: true,
};

/**
 * Store-stats write counters must move by the same amounts on both servers over a sequence
 * (spec §8). Not compared: `watchers` (a gauge) and `getsSuccess`/`getsFail` — etcd 3.4 reads its
 * own v2 store in the background (membership), so its get counters drift by timing alone.
 */
const UNCOMPARABLE_STATS = new Set(['watchers', 'getsSuccess', 'getsFail']);

function compareStatsDeltas(
  before: readonly [Record<string, number>, Record<string, number>],
  after: readonly [Record<string, number>, Record<string, number>],
): string[] {
  const delta = (side: 0 | 1, k: string): number => (after[side][k] ?? NaN) - (before[side][k] ?? NaN);
  const diffs: string[] = [];
  const refKeys = Object.keys(after[0]);
  const candKeys = Object.keys(after[1]);
  if (refKeys.join(',') !== candKeys.join(',')) diffs.push(`fields: expected [${refKeys.join(',')}], got [${candKeys.join(',')}]`);
  for (const k of refKeys.filter((key) => !UNCOMPARABLE_STATS.has(key))) {
    if (delta(0, k) !== delta(1, k)) diffs.push(`${k}: etcd 3.4 moved by ${delta(0, k)}, ours by ${delta(1, k)}`);
  }
  return diffs;
}

export interface Mismatch {
  readonly seed: number;
  readonly step: number;
  readonly report: string;
}

interface Side {
  readonly request: RawRequest | null;
  readonly response: RawResponse | null;
  readonly failure: string | null;
  readonly observation: Observation;
}

class MismatchFound extends Error {
  constructor(readonly report: string) {
    super('mismatch');
  }
}

const TRUE_SPELLINGS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

/** The flag as etcd reads it: Go's r.Form puts body values (PUT/POST/PATCH only) before the query's. */
function effectiveFlag(spec: ReqSpec, flag: string): boolean {
  const bodyRead = spec.method === 'PUT' || spec.method === 'POST' || spec.method === 'PATCH';
  const all = [...(bodyRead ? spec.form : []), ...spec.query];
  const first = all.find(([k]) => k === flag);
  return first !== undefined && first[1].kind === 'lit' && TRUE_SPELLINGS.has(first[1].text);
}

function describeRequest(r: RawRequest | null): string {
  if (r === null) return '(none)';
  return `${r.method} ${r.path}${r.body === null ? '' : `  body: ${r.body}`}`;
}

function describeResponse(side: Side): string {
  if (side.response === null) return `no response (${side.failure ?? '?'})`;
  const h = side.response.headers;
  const headers = ['x-etcd-index', 'x-raft-index', 'x-raft-term', 'x-etcd-cluster-id', 'content-type', 'location', 'allow']
    .filter((k) => h[k] !== undefined)
    .map((k) => `${k}: ${h[k] ?? ''}`)
    .join('; ');
  const body = side.response.body.length > 3000 ? `${side.response.body.slice(0, 3000)}...(${side.response.body.length} chars)` : side.response.body;
  return `${side.response.status} [${headers}] ${JSON.stringify(body)}`;
}

/** What the reference answered, by kind (`set 201`, `error 104`, `watch expire`...): shows coverage. */
export type Coverage = Map<string, number>;

function outcomeOf(label: string, side: Side): string {
  const res = side.response;
  if (res === null) return `${label} no response: ${describeRequest(side.request)}`;
  const body = parseJson(res.body);
  if (isObject(body) && typeof body['errorCode'] === 'number') return `${label} error ${body['errorCode']}`;
  if (isObject(body) && typeof body['action'] === 'string') return `${label} ${body['action']} ${res.status}`;
  return `${label} ${side.request?.method ?? '?'} ${res.status}${res.body === '' ? ' (no body)' : ''}`;
}

class SequenceRun {
  private requests = 0;
  private readonly history: string[] = [];

  constructor(
    private readonly seq: Sequence,
    private readonly ref: TargetState,
    private readonly cand: TargetState,
    private readonly config: OracleConfig,
    private readonly coverage: Coverage,
  ) {}

  get requestCount(): number {
    return this.requests;
  }

  async run(): Promise<Mismatch | null> {
    await Promise.all([this.ref.beginSequence(this.seq.prefix, this.config.requestTimeoutMs), this.cand.beginSequence(this.seq.prefix, this.config.requestTimeoutMs)]);
    const statsBefore = this.config.compareStoreStats ? await this.storeStats() : null;
    for (const [i, step] of this.seq.steps.entries()) {
      try {
        await this.runStep(step);
      } catch (err) {
        if (!(err instanceof MismatchFound)) throw err;
        return { seed: this.seq.seed, step: i + 1, report: this.formatReport(i + 1, err.report) };
      }
    }
    if (statsBefore === null) return null;
    const diffs = compareStatsDeltas(statsBefore, await this.storeStats());
    if (diffs.length === 0) return null;
    const n = this.seq.steps.length;
    return { seed: this.seq.seed, step: n, report: this.formatReport(n, `  /v2/stats/store counters moved differently over the sequence:\n${diffs.map((d) => `    - ${d}`).join('\n')}`) };
  }

  private async storeStats(): Promise<readonly [Record<string, number>, Record<string, number>]> {
    const read = async (t: TargetState): Promise<Record<string, number>> => {
      const res = await send(t.server.clientUrl, { method: 'GET', path: '/v2/stats/store', body: null }, this.config.requestTimeoutMs);
      const json = parseJson(res.body);
      if (!isObject(json)) throw new Error(`${t.server.label}: /v2/stats/store answered ${res.status} ${res.body}`);
      return Object.fromEntries(Object.entries(json).filter((e): e is [string, number] => typeof e[1] === 'number'));
    };
    return [await read(this.ref), await read(this.cand)];
  }

  private formatReport(step: number, detail: string): string {
    const context = this.history.slice(-12, -1).map((line) => `    ${line}`).join('\n');
    return [
      `MISMATCH seed=${this.seq.seed} step=${step}/${this.seq.steps.length} (replay: node dist/test/oracle/main.js --seed ${this.seq.seed} --requests ${this.seq.steps.length})`,
      `  preceding requests (reference side, most recent last):\n${context || '    (none)'}`,
      detail,
    ].join('\n');
  }

  private async runStep(step: Step): Promise<void> {
    if (step.kind === 'request') await this.exchange(step.req);
    else if (step.kind === 'watch') await this.watch(step.watch, step.triggers);
    else await this.stream(step.watch, step.writes);
  }

  private async sendOne(target: TargetState, spec: ReqSpec): Promise<Side> {
    const request = target.toRaw(spec);
    try {
      const response = await send(target.server.clientUrl, request, this.config.requestTimeoutMs);
      target.learn(spec, response);
      return { request, response, failure: null, observation: observe(response, null, target.seqBase) };
    } catch (err) {
      const failure = err instanceof Error ? err.message : String(err);
      return { request, response: null, failure, observation: observe(null, failure, target.seqBase) };
    }
  }

  /** One request on both servers, compared. Returns the reference's status. */
  private async exchange(spec: ReqSpec, label = 'request'): Promise<number | null> {
    this.requests++;
    const [refSide, candSide] = await Promise.all([this.sendOne(this.ref, spec), this.sendOne(this.cand, spec)]);
    this.history.push(describeRequest(refSide.request));
    this.tally(label, refSide);
    this.check(spec, refSide, candSide, label);
    const status = refSide.response?.status ?? null;
    if (spec.expectsExpiry && status !== null && status >= 200 && status < 300) await this.awaitExpiry(spec, refSide, candSide);
    return status;
  }

  /**
   * `currentAtRequest` (per server) is the index when the request was handled: a validation error
   * reports it (§17). For a watch that is the index at registration, before its triggers ran.
   */
  private check(spec: ReqSpec, refSide: Side, candSide: Side, label: string, currentAtRequest?: readonly [number, number]): void {
    const [refCurrent, candCurrent] = currentAtRequest ?? [this.ref.current, this.cand.current];
    const expected = applyProjectDecisions(refSide.observation, refCurrent - this.ref.seqBase);
    const actual = this.config.selfCheck ? applyProjectDecisions(candSide.observation, candCurrent - this.cand.seqBase) : candSide.observation;
    const diffs = compareObservations(expected, actual, { sorted: effectiveFlag(spec, 'sorted') });
    if (diffs.length === 0) return;
    throw new MismatchFound([
      `  ${label} (${this.ref.server.label}): ${describeRequest(refSide.request)}`,
      `  ${label} (${this.cand.server.label}): ${describeRequest(candSide.request)}`,
      `  ${this.ref.server.label} answered: ${describeResponse(refSide)}`,
      `  ${this.cand.server.label} answered: ${describeResponse(candSide)}`,
      `  differences (after normalisation):`,
      ...diffs.map((d) => `    - ${d}`),
    ].join('\n'));
  }

  /** A 0–1 s TTL write succeeded: wait until the node is gone on both, so expiry never races a request. */
  private async awaitExpiry(spec: ReqSpec, refSide: Side, candSide: Side): Promise<void> {
    const results = await Promise.all([
      this.pollUntilGone(this.ref, spec, refSide),
      this.pollUntilGone(this.cand, spec, candSide),
    ]);
    const [refGone, candGone] = results;
    this.coverage.set('expiry of a 0-1 s TTL awaited', (this.coverage.get('expiry of a 0-1 s TTL awaited') ?? 0) + 1);
    if (refGone !== candGone) {
      throw new MismatchFound(`  after ${describeRequest(refSide.request)}: node expired on ${this.ref.server.label}: ${refGone}, on ${this.cand.server.label}: ${candGone} (waited ${this.config.expiryTimeoutMs} ms)`);
    }
  }

  private async pollUntilGone(target: TargetState, spec: ReqSpec, side: Side): Promise<boolean> {
    const body = parseJson(side.response?.body ?? null);
    const node = isObject(body) ? body['node'] : undefined;
    const key = isObject(node) && typeof node['key'] === 'string' ? node['key'] : target.nodeKey(spec.key);
    const path = '/v2/keys' + key.split('/').map(encodeURIComponent).join('/');
    const deadline = Date.now() + this.config.expiryTimeoutMs;
    while (Date.now() < deadline) {
      const res = await send(target.server.clientUrl, { method: 'GET', path, body: null }, this.config.requestTimeoutMs);
      if (res.status === 404) {
        target.learn(null, res);
        return true;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  private async openWatch(target: TargetState, spec: ReqSpec): Promise<{ request: RawRequest; pending: PendingWatch | null; failure: string | null }> {
    const request = target.toRaw(spec);
    try {
      return { request, pending: await openRequest(target.server.clientUrl, request, this.config.requestTimeoutMs), failure: null };
    } catch (err) {
      return { request, pending: null, failure: err instanceof Error ? err.message : String(err) };
    }
  }

  private async finishWatch(target: TargetState, spec: ReqSpec, opened: Awaited<ReturnType<SequenceRun['openWatch']>>, waitMs: number): Promise<Side> {
    const { request, pending, failure } = opened;
    if (pending === null) return { request, response: null, failure, observation: observe(null, failure, target.seqBase) };
    const body = await pending.body(waitMs);
    pending.close();
    if (body === null) {
      target.learn(null, { status: pending.status, headers: pending.headers, body: null });
      const response = { status: pending.status, headers: pending.headers, body: '' };
      return { request, response, failure: 'still open', observation: observeOpenWatch(pending.status, pending.headers, target.seqBase) };
    }
    const response = { status: pending.status, headers: pending.headers, body };
    target.learn(spec, response);
    return { request, response, failure: null, observation: observe(response, null, target.seqBase) };
  }

  /** Open the watch on both, run triggers until one succeeds on the reference, then compare the bodies. */
  private async watch(spec: ReqSpec, triggers: ReadonlyArray<readonly ReqSpec[]>): Promise<void> {
    this.requests++;
    const [refOpen, candOpen] = await Promise.all([this.openWatch(this.ref, spec), this.openWatch(this.cand, spec)]);
    this.history.push(`${describeRequest(refOpen.request)}   (watch)`);
    const currentAtOpen = [this.ref.current, this.cand.current] as const;
    let delivered = false;
    try {
      for (const group of triggers) {
        let status: number | null = null;
        for (const trigger of group) status = await this.exchange(trigger, 'watch trigger');
        if (status !== null && status < 300) {
          delivered = true;
          break;
        }
      }
    } catch (err) {
      refOpen.pending?.close();
      candOpen.pending?.close();
      throw err;
    }
    const waitMs = delivered ? this.config.watchEventTimeoutMs : this.config.openWatchGraceMs;
    const [refSide, candSide] = await Promise.all([this.finishWatch(this.ref, spec, refOpen, waitMs), this.finishWatch(this.cand, spec, candOpen, waitMs)]);
    this.tally('watch', refSide);
    this.check(spec, refSide, candSide, 'watch', currentAtOpen);
  }

  /**
   * Open a stream watch on both, run the writes, then wait until both received one line per
   * write that succeeded on the reference; compare the headers and each line as an event.
   */
  private async stream(spec: ReqSpec, writes: readonly ReqSpec[]): Promise<void> {
    this.requests++;
    const [refOpen, candOpen] = await Promise.all([this.openWatch(this.ref, spec), this.openWatch(this.cand, spec)]);
    this.history.push(`${describeRequest(refOpen.request)}   (stream)`);
    const currentAtOpen = [this.ref.current, this.cand.current] as const;
    try {
      let expectedLines = 0;
      for (const write of writes) {
        const status = await this.exchange(write, 'stream write');
        if (status !== null && status < 300) expectedLines++;
      }
      const [refRawLines, candLines] = await Promise.all([
        this.awaitLines(refOpen.pending, expectedLines),
        this.awaitLines(candOpen.pending, expectedLines),
      ]);
      const refLines = this.config.selfCheck ? refRawLines : collapseDoubledDeleteLines(refRawLines);
      const headerOnly = (target: TargetState, open: typeof refOpen): Side => {
        const response = open.pending === null ? null : { status: open.pending.status, headers: open.pending.headers, body: '' };
        return { request: open.request, response, failure: open.failure, observation: observe(response, open.failure, target.seqBase) };
      };
      this.check(spec, headerOnly(this.ref, refOpen), headerOnly(this.cand, candOpen), 'stream watch (headers)', currentAtOpen);
      this.tally('stream', { ...headerOnly(this.ref, refOpen), response: { status: refOpen.pending?.status ?? 0, headers: {}, body: refLines.join('\n') } });
      try {
        for (let i = 0; i < Math.max(refLines.length, candLines.length); i++) {
          this.check(spec, this.streamLine(this.ref, refOpen, refLines[i]), this.streamLine(this.cand, candOpen, candLines[i]), `stream event ${i + 1} (${expectedLines} writes succeeded)`);
        }
      } catch (err) {
        if (!(err instanceof MismatchFound)) throw err;
        const all = (label: string, lines: string[]): string => `  whole stream from ${label}:\n${lines.map((l) => `    ${l}`).join('\n')}`;
        throw new MismatchFound(`${err.report}\n${all(this.ref.server.label, refLines)}\n${all(this.cand.server.label, candLines)}`);
      }
    } finally {
      refOpen.pending?.close();
      candOpen.pending?.close();
    }
  }

  /** Complete lines received once `count` have arrived (or after the watch-event timeout), plus a moment for extras. */
  private async awaitLines(pending: PendingWatch | null, count: number): Promise<string[]> {
    if (pending === null) return [];
    const lines = (): string[] => pending.received().split('\n').slice(0, -1);
    const deadline = Date.now() + this.config.watchEventTimeoutMs;
    while (lines().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 30)); // an extra, unexpected event would show up now
    return lines();
  }

  private streamLine(target: TargetState, open: { request: RawRequest; pending: PendingWatch | null }, line: string | undefined): Side {
    const headers = { 'content-type': open.pending?.headers['content-type'] ?? '' };
    if (line === undefined) {
      return { request: open.request, response: null, failure: 'no such line', observation: observe(null, 'line missing from the stream', target.seqBase) };
    }
    const response = { status: open.pending?.status ?? 0, headers, body: `${line}\n` };
    target.learn(null, response);
    return { request: open.request, response, failure: null, observation: observe(response, null, target.seqBase) };
  }

  private tally(label: string, side: Side): void {
    const outcome = outcomeOf(label, side);
    this.coverage.set(outcome, (this.coverage.get(outcome) ?? 0) + 1);
  }
}

export interface PairFactory {
  /** Starts a fresh [reference, candidate] pair. */
  (): Promise<readonly [Server, Server]>;
}

export interface OracleSummary {
  readonly sequences: number;
  readonly requests: number;
  readonly mismatches: readonly Mismatch[];
  readonly coverage: Coverage;
}

export interface RunOptions {
  readonly seeds: readonly number[];
  readonly requestsPerSequence: number;
  readonly startPair: PairFactory;
  readonly config: OracleConfig;
  readonly log: (line: string) => void;
}

async function stopPair(pair: readonly [Server, Server]): Promise<void> {
  await Promise.all(pair.map((s) => s.stop()));
}

export async function runOracle(options: RunOptions): Promise<OracleSummary> {
  const seeds = [...new Set(options.seeds)]; // prefixes must be unique on a shared pair
  const mismatches: Mismatch[] = [];
  const coverage: Coverage = new Map();
  let requests = 0;
  let pair = await options.startPair();
  // One TargetState per server for its whole life: it remembers the server's first index base.
  let states = [new TargetState(pair[0]), new TargetState(pair[1])] as const;
  try {
    for (const seed of seeds) {
      const seq = generateSequence(seed, options.requestsPerSequence);
      const run = new SequenceRun(seq, states[0], states[1], options.config, coverage);
      const mismatch = await run.run();
      requests += run.requestCount;
      if (mismatch === null) continue;
      mismatches.push(mismatch);
      options.log(mismatch.report);
      await stopPair(pair);
      pair = await options.startPair();
      states = [new TargetState(pair[0]), new TargetState(pair[1])] as const;
    }
  } finally {
    await stopPair(pair);
    closeIdleConnections();
  }
  return { sequences: seeds.length, requests, mismatches, coverage };
}
