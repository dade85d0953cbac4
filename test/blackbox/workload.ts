/**
 * The black-box workload: what Jepsen's etcd test does, against our members' client URLs.
 *
 * - Client slots (default 12), each sequential, each op sent to a random member (307s followed
 *   to the leader): quorum reads, PUTs of unique values, CAS by value and by index, creates and
 *   deletes on a few register keys; in-order POSTs to /jepsen/q; TTL keys that are never
 *   refreshed. Every op is recorded with invoke/complete times (history.ts).
 * - Recursive watchers on /jepsen/, resuming from the last index + 1 after any error (on another
 *   member when one failed), recording every event and every 401.
 * - finish(), once the cluster is healed: final quorum reads of every key, the sorted queue, a
 *   marker write every watcher must reach, and a dump from every member.
 *
 * Which outcome is recorded is the subtle part: `fail` only when the answer proves the op did not
 * happen (100/101/105, or it never reached a leader: see workload-http.ts); an error 300 after a
 * write was sent may be a proposal that timed out and still commits, so it is `unknown`.
 * Choices come from a seeded Prng (one stream per slot); timings do not replay exactly.
 */
import { SeededPrng } from '../../src/common/prng.js';
import type {
  DumpNode,
  KeyOp,
  KeyOperation,
  MemberDump,
  Outcome,
  QueueListing,
  QueueOperation,
  RunRecord,
  TtlOperation,
  WatchEntry,
  WatcherLog,
} from './history.js';
import { readAction, readError, V2Client, type Exchange, type V2Node, type V2Request } from './workload-http.js';

export interface WorkloadMember {
  readonly name: string;
  readonly clientUrl: string;
}

export interface WorkloadConfig {
  readonly members: readonly WorkloadMember[];
  readonly seed: number;
  /** Concurrent client slots (default 12). */
  readonly clients?: number;
  /** Register keys `/jepsen/r/k0..` (default 5). */
  readonly keys?: number;
  /** Recursive watchers on /jepsen/ (default 2). */
  readonly watchers?: number;
  /** Client timeout for one op, redirects included (default 2500 ms). */
  readonly requestTimeoutMs?: number;
  /** Pause of a slot between two of its ops (default 0). */
  readonly thinkMs?: number;
  /** Long-poll timeout of a watch before it tries another member (default 4000 ms). */
  readonly watchTimeoutMs?: number;
}

export interface Workload {
  /** Register, queue and TTL ops so far (completed or not). */
  opCount(): number;
  /** Stops issuing ops and waits for the in-flight ones to end (each is bounded by its timeout). */
  stopClients(): Promise<void>;
  /** Once the cluster is healed and has a leader: the final reads, the queue, the dumps. */
  finish(): Promise<RunRecord>;
  /** Aborts everything (for cleanup after an error); idempotent. */
  abort(): void;
}

const DEFAULTS = { clients: 12, keys: 5, watchers: 2, requestTimeoutMs: 2500, thinkMs: 0, watchTimeoutMs: 4000 };
/** A slot's pause after an op no member answered (refused, timed out), whatever thinkMs is. */
const UNANSWERED_PAUSE_MS = 100;
const TTL_MIN_S = 2;
const TTL_MAX_S = 4;
/** Bounds of the final phase: each part gives up (and says so in the record) after these. */
const FINAL_READ_BUDGET_MS = 30_000;
const CATCH_UP_BUDGET_MS = 20_000;
const DUMP_BUDGET_MS = 20_000;

export const KEY_DIR = '/jepsen';
export const QUEUE_DIR = '/jepsen/q';
export const MARKER_KEY = '/jepsen/done';

export function registerKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `/jepsen/r/k${i}`);
}

/** Shared, append-only state of one run (JS is single-threaded: plain counters suffice). */
class Recorder {
  nextId = 0;
  nextTtlKey = 0;
  readonly operations: KeyOperation[] = [];
  readonly queue: QueueOperation[] = [];
  readonly ttl: TtlOperation[] = [];
  lastTtlInvokeMs = -Infinity;
}

export async function startWorkload(config: WorkloadConfig): Promise<Workload> {
  const settings = { ...DEFAULTS, ...definedOnly(config) };
  if (config.members.length === 0) throw new Error('workload: no members');
  const http = new V2Client();
  const recorder = new Recorder();
  const keys = registerKeys(settings.keys);
  const root = new SeededPrng(config.seed);
  const startIndex = (await currentIndex(http, config.members, settings.requestTimeoutMs, 30_000)) + 1;

  const stopClients = new AbortController();
  const stopWatchers = new AbortController();
  const slots = Array.from({ length: settings.clients }, (_, slot) => new ClientSlot(slot, settings, config.members, keys, root.fork(), http, recorder));
  const slotRuns = slots.map((s) => s.run(stopClients.signal));
  const watchers = Array.from({ length: settings.watchers }, (_, w) => new Watcher(w, startIndex, config.members, root.fork(), http, settings.watchTimeoutMs));
  const watcherRuns = watchers.map((w) => w.run(stopWatchers.signal));

  const abort = (): void => {
    stopClients.abort();
    stopWatchers.abort();
    http.close();
  };
  return {
    opCount: () => recorder.operations.length + recorder.queue.length + recorder.ttl.length,
    stopClients: async () => {
      stopClients.abort();
      await Promise.all(slotRuns);
    },
    finish: async () => {
      stopClients.abort();
      await Promise.all(slotRuns);
      try {
        const finalPrng = root.fork();
        for (const key of keys) await finalRead(http, recorder, config.members, key, finalPrng, settings.requestTimeoutMs);
        const queueListing = await readQueue(http, config.members, settings.requestTimeoutMs);
        // A TTL key expires at most TTL_MAX_S after its set was applied; wait that out so the
        // dumps compare settled data and the watchers' logs hold every expiry.
        await sleepUntil(recorder.lastTtlInvokeMs + TTL_MAX_S * 1000 + settings.requestTimeoutMs + 1000);
        const endIndex = await writeMarker(http, config.members, settings.requestTimeoutMs);
        if (endIndex > 0) await waitForWatchers(watchers, endIndex, CATCH_UP_BUDGET_MS);
        stopWatchers.abort();
        await Promise.all(watcherRuns);
        const { dumps, converged, dumpedAtMs } = await dumpMembers(http, config.members, Math.max(endIndex, 0), settings.requestTimeoutMs);
        return {
          seed: config.seed,
          members: config.members.length,
          keys,
          operations: recorder.operations,
          queue: recorder.queue,
          queueListing,
          watchers: watchers.map((w) => w.log()),
          ttl: recorder.ttl,
          dumps,
          endIndex,
          dumpedAtMs,
          dumpsConverged: converged,
        };
      } finally {
        abort();
      }
    },
    abort,
  };
}

// ---- the client slots ------------------------------------------------------------------------

type Settings = typeof DEFAULTS;

/** What one slot last saw of a key: its value (null = absent) and modifiedIndex. */
interface Seen {
  readonly value: string | null;
  readonly modifiedIndex: number;
}

class ClientSlot {
  private crashes = 0;
  private counter = 0;
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly slot: number,
    private readonly settings: Settings,
    private readonly members: readonly WorkloadMember[],
    private readonly keys: readonly string[],
    private readonly prng: SeededPrng,
    private readonly http: V2Client,
    private readonly recorder: Recorder,
  ) {}

  /** The Jepsen process id: a new one after every unknown outcome (the old op may still land). */
  private get process(): number {
    return this.slot + this.settings.clients * this.crashes;
  }

  async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      const dice = this.prng.int(100);
      const outcome = dice < 8 ? await this.post() : dice < 12 ? await this.setTtlKey() : await this.keyOp(this.pick(this.keys), dice);
      // A member that refuses connections (killed) answers at once: do not spin on it.
      const answered = outcome.type === 'ok' || (outcome.type === 'fail' && outcome.errorCode !== 0);
      const pause = answered ? this.settings.thinkMs : Math.max(this.settings.thinkMs, UNANSWERED_PAUSE_MS);
      if (pause > 0) await sleep(pause);
    }
  }

  private pick<T>(items: readonly T[]): T {
    const item = items[this.prng.int(items.length)];
    if (item === undefined) throw new Error('workload: pick from an empty list');
    return item;
  }

  private member(): WorkloadMember {
    return this.pick(this.members);
  }

  private nextValue(prefix: string): string {
    this.counter++;
    return `${prefix}${this.process}-${this.counter}`;
  }

  /** Chooses the register op from `dice` (12..99), falling back to a read when the slot lacks what a CAS needs. */
  private chooseKeyOp(key: string, dice: number): KeyOp {
    const seen = this.seen.get(key);
    if (dice < 40) return { kind: 'read' };
    if (dice < 58) return { kind: 'put', value: this.nextValue('c') };
    if (dice < 71) return seen?.value != null ? { kind: 'cas-value', prevValue: seen.value, value: this.nextValue('c') } : { kind: 'read' };
    if (dice < 84) return seen !== undefined && seen.modifiedIndex > 0 ? { kind: 'cas-index', prevIndex: seen.modifiedIndex, value: this.nextValue('c') } : { kind: 'read' };
    if (dice < 92) return { kind: 'create', value: this.nextValue('c') };
    return { kind: 'delete' };
  }

  private async keyOp(key: string, dice: number): Promise<Outcome> {
    const op = this.chooseKeyOp(key, dice);
    const member = this.member();
    const invokeMs = performance.now();
    const exchange = await this.http.exchange(member.clientUrl, keyRequest(key, op), this.settings.requestTimeoutMs);
    const completeMs = performance.now();
    const outcome = keyOutcome(op, exchange);
    this.recorder.operations.push({
      id: this.recorder.nextId++,
      client: this.process,
      key,
      op,
      invokeMs,
      completeMs: outcome.type === 'unknown' ? Infinity : completeMs,
      outcome,
      member: memberName(this.members, exchange.url),
    });
    if (outcome.type === 'ok') this.seen.set(key, { value: outcome.value, modifiedIndex: outcome.modifiedIndex });
    if (outcome.type === 'unknown') this.crashes++;
    return outcome;
  }

  private async post(): Promise<QueueOperation['outcome']> {
    const value = this.nextValue('q');
    const invokeMs = performance.now();
    const exchange = await this.http.exchange(this.member().clientUrl, { method: 'POST', target: `/v2/keys${QUEUE_DIR}`, form: { value } }, this.settings.requestTimeoutMs);
    const completeMs = performance.now();
    const outcome = writeOutcome(exchange, (node) => ({ type: 'ok' as const, key: node.key, createdIndex: node.createdIndex }));
    this.recorder.queue.push({
      id: this.recorder.nextId++,
      client: this.process,
      value,
      invokeMs,
      completeMs: outcome.type === 'unknown' ? Infinity : completeMs,
      outcome,
    });
    if (outcome.type === 'unknown') this.crashes++;
    return outcome;
  }

  private async setTtlKey(): Promise<Outcome> {
    const key = `${KEY_DIR}/ttl/${this.recorder.nextTtlKey++}`;
    const value = this.nextValue('t');
    const ttlSeconds = TTL_MIN_S + this.prng.int(TTL_MAX_S - TTL_MIN_S + 1);
    const invokeMs = performance.now();
    this.recorder.lastTtlInvokeMs = invokeMs;
    const exchange = await this.http.exchange(
      this.member().clientUrl,
      { method: 'PUT', target: `/v2/keys${key}`, form: { value, ttl: String(ttlSeconds) } },
      this.settings.requestTimeoutMs,
    );
    const completeMs = performance.now();
    const outcome = writeOutcome(exchange, (node): Outcome => ({ type: 'ok', value: node.value, modifiedIndex: node.modifiedIndex }));
    this.recorder.ttl.push({
      id: this.recorder.nextId++,
      client: this.process,
      key,
      value,
      ttlSeconds,
      invokeMs,
      completeMs: outcome.type === 'unknown' ? Infinity : completeMs,
      outcome,
    });
    if (outcome.type === 'unknown') this.crashes++;
    return outcome;
  }
}

function keyRequest(key: string, op: KeyOp): V2Request {
  const target = `/v2/keys${key}`;
  switch (op.kind) {
    case 'read':
      return { method: 'GET', target: `${target}?quorum=true` };
    case 'put':
      return { method: 'PUT', target, form: { value: op.value } };
    case 'cas-value':
      return { method: 'PUT', target, form: { value: op.value, prevValue: op.prevValue } };
    case 'cas-index':
      return { method: 'PUT', target, form: { value: op.value, prevIndex: String(op.prevIndex) } };
    case 'create':
      return { method: 'PUT', target, form: { value: op.value, prevExist: 'false' } };
    case 'delete':
      return { method: 'DELETE', target };
  }
}

/** v2 errors that prove a write did not happen: not found, compare failed, already exists. */
const DEFINITE_ERRORS = new Set([100, 101, 105]);

/**
 * The outcome of a register op. A read has no effect, so any read that did not answer is a
 * `fail` (nothing to reconcile); for a write only proof of non-occurrence is a `fail`.
 */
export function keyOutcome(op: KeyOp, exchange: Exchange): Outcome {
  if (op.kind === 'read') return readOutcome(exchange);
  return writeOutcome(exchange, (node, action): Outcome =>
    action === 'delete' ? { type: 'ok', value: null, modifiedIndex: node.modifiedIndex } : { type: 'ok', value: node.value, modifiedIndex: node.modifiedIndex },
  );
}

function readOutcome(exchange: Exchange): Outcome {
  if (exchange.kind !== 'answer') return { type: 'fail', errorCode: 0, reason: exchange.reason };
  if (exchange.status === 200) {
    const node = readAction(exchange.json)?.node;
    if (node !== undefined) return { type: 'ok', value: node.value, modifiedIndex: node.modifiedIndex };
  }
  const error = readError(exchange.json);
  if (error?.errorCode === 100) return { type: 'ok', value: null, modifiedIndex: 0 };
  return { type: 'fail', errorCode: error?.errorCode ?? 0, reason: `read answered ${exchange.status}` };
}

type WriteOutcome<T> = T | { type: 'fail'; errorCode: number; reason?: string } | { type: 'unknown'; reason: string };

function writeOutcome<T>(exchange: Exchange, ok: (node: V2Node, action: string) => T): WriteOutcome<T> {
  if (exchange.kind === 'neverSent') return { type: 'fail', errorCode: 0, reason: exchange.reason };
  if (exchange.kind === 'indefinite') return { type: 'unknown', reason: exchange.reason };
  if (exchange.status >= 200 && exchange.status < 300) {
    const answer = readAction(exchange.json);
    if (answer !== null) return ok(answer.node, answer.action);
    return { type: 'unknown', reason: `unreadable ${exchange.status} body` };
  }
  const error = readError(exchange.json);
  if (error !== null && DEFINITE_ERRORS.has(error.errorCode)) return { type: 'fail', errorCode: error.errorCode };
  return { type: 'unknown', reason: `${exchange.status} error ${error?.errorCode ?? 'without a v2 body'}` };
}

function memberName(members: readonly WorkloadMember[], url: string): string {
  return members.find((m) => m.clientUrl === url)?.name ?? url;
}

// ---- the watchers ----------------------------------------------------------------------------

class Watcher {
  private waitIndex: number;
  private memberAt: number;
  private readonly entries: WatchEntry[] = [];
  private readonly progress = new Set<() => void>();

  constructor(
    private readonly id: number,
    private readonly startIndex: number,
    private readonly members: readonly WorkloadMember[],
    private readonly prng: SeededPrng,
    private readonly http: V2Client,
    private readonly timeoutMs: number,
  ) {
    this.waitIndex = startIndex;
    this.memberAt = id % members.length;
  }

  /** The next index this watcher will ask for: it has seen everything before it. */
  get nextIndex(): number {
    return this.waitIndex;
  }

  log(): WatcherLog {
    return { watcher: this.id, startIndex: this.startIndex, endIndex: this.waitIndex, entries: this.entries };
  }

  /** Resolves when nextIndex passes `index`, or after `ms`. */
  async passes(index: number, ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (this.waitIndex <= index && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.progress.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, deadline - performance.now()));
        this.progress.add(wake);
      });
    }
    return this.waitIndex > index;
  }

  async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      const member = this.members[this.memberAt];
      if (member === undefined) throw new Error('watcher: no member');
      const target = `/v2/keys${KEY_DIR}?wait=true&recursive=true&waitIndex=${this.waitIndex}`;
      const exchange = await this.http.exchange(member.clientUrl, { method: 'GET', target }, this.timeoutMs, stop);
      if (stop.aborted) return;
      const atMs = performance.now();
      if (!this.take(exchange, member.name, atMs)) {
        this.entries.push({ type: 'error', atMs, member: member.name, waitIndex: this.waitIndex, reason: exchangeReason(exchange) });
        this.memberAt = (this.memberAt + 1 + this.prng.int(Math.max(1, this.members.length - 1))) % this.members.length;
        await sleep(50);
      }
      for (const wake of [...this.progress]) wake();
    }
  }

  /** Records an event or a 401 and moves waitIndex on; false for anything else. */
  private take(exchange: Exchange, member: string, atMs: number): boolean {
    if (exchange.kind !== 'answer') return false;
    if (exchange.status === 200) {
      const event = readAction(exchange.json);
      if (event === null || event.node.modifiedIndex < this.waitIndex) return false;
      this.entries.push({
        type: 'event',
        atMs,
        member,
        action: event.action,
        key: event.node.key,
        value: event.node.value,
        modifiedIndex: event.node.modifiedIndex,
        createdIndex: event.node.createdIndex,
        prevValue: event.prevNode?.value ?? null,
      });
      this.waitIndex = event.node.modifiedIndex + 1;
      return true;
    }
    const error = readError(exchange.json);
    if (error?.errorCode !== 401) return false;
    // "the requested history has been cleared [oldest/asked]": resume at the oldest event kept.
    const oldest = /\[(\d+)\//.exec(error.cause)?.[1];
    const resumeIndex = oldest !== undefined ? Number(oldest) : error.index + 1;
    if (!(resumeIndex > this.waitIndex)) return false;
    this.entries.push({ type: 'cleared', atMs, member, waitIndex: this.waitIndex, resumeIndex });
    this.waitIndex = resumeIndex;
    return true;
  }
}

function exchangeReason(exchange: Exchange): string {
  if (exchange.kind !== 'answer') return exchange.reason;
  const error = readError(exchange.json);
  return error === null ? `answered ${exchange.status}` : `answered ${exchange.status} error ${error.errorCode} ${error.cause}`;
}

async function waitForWatchers(watchers: readonly Watcher[], index: number, budgetMs: number): Promise<void> {
  await Promise.all(watchers.map((w) => w.passes(index, budgetMs)));
}

// ---- the final phase -------------------------------------------------------------------------

/** The store index as some member reports it (X-Etcd-Index of a plain read of the root). */
async function currentIndex(http: V2Client, members: readonly WorkloadMember[], timeoutMs: number, budgetMs: number): Promise<number> {
  const deadline = performance.now() + budgetMs;
  for (let attempt = 0; performance.now() < deadline; attempt++) {
    const member = members[attempt % members.length];
    if (member === undefined) break;
    const exchange = await http.exchange(member.clientUrl, { method: 'GET', target: '/v2/keys/?quorum=true' }, timeoutMs);
    if (exchange.kind === 'answer' && exchange.status === 200 && exchange.etcdIndex >= 0) return exchange.etcdIndex;
    await sleep(100);
  }
  throw new Error(`workload: no member answered a quorum read within ${budgetMs} ms`);
}

/** Quorum-reads `key` until one read succeeds (each attempt recorded as client -1). */
async function finalRead(http: V2Client, recorder: Recorder, members: readonly WorkloadMember[], key: string, prng: SeededPrng, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + FINAL_READ_BUDGET_MS;
  while (performance.now() < deadline) {
    const member = members[prng.int(members.length)];
    if (member === undefined) return;
    const invokeMs = performance.now();
    const exchange = await http.exchange(member.clientUrl, keyRequest(key, { kind: 'read' }), timeoutMs);
    const outcome = readOutcome(exchange);
    recorder.operations.push({ id: recorder.nextId++, client: -1, key, op: { kind: 'read' }, invokeMs, completeMs: performance.now(), outcome, member: memberName(members, exchange.url) });
    if (outcome.type === 'ok') return;
    await sleep(200);
  }
}

async function readQueue(http: V2Client, members: readonly WorkloadMember[], timeoutMs: number): Promise<QueueListing> {
  const deadline = performance.now() + FINAL_READ_BUDGET_MS;
  for (let attempt = 0; performance.now() < deadline; attempt++) {
    const member = members[attempt % members.length];
    if (member === undefined) break;
    const exchange = await http.exchange(member.clientUrl, { method: 'GET', target: `/v2/keys${QUEUE_DIR}?recursive=true&sorted=true&quorum=true` }, timeoutMs);
    if (exchange.kind === 'answer' && exchange.status === 200) {
      const node = readAction(exchange.json)?.node;
      if (node !== undefined) return flatten(node);
    }
    if (exchange.kind === 'answer' && readError(exchange.json)?.errorCode === 100) return [];
    await sleep(200);
  }
  return null;
}

/** PUT /jepsen/done until one is acknowledged; its index bounds what the watchers must reach. */
async function writeMarker(http: V2Client, members: readonly WorkloadMember[], timeoutMs: number): Promise<number> {
  const deadline = performance.now() + FINAL_READ_BUDGET_MS;
  for (let attempt = 0; performance.now() < deadline; attempt++) {
    const member = members[attempt % members.length];
    if (member === undefined) break;
    const exchange = await http.exchange(member.clientUrl, { method: 'PUT', target: `/v2/keys${MARKER_KEY}`, form: { value: 'end' } }, timeoutMs);
    const node = exchange.kind === 'answer' ? readAction(exchange.json)?.node : undefined;
    if (node !== undefined) return node.modifiedIndex;
    await sleep(200);
  }
  return -1;
}

/**
 * A local (non-quorum) recursive read of /jepsen from every member at once, repeated until all
 * report the same X-Etcd-Index, at least `minIndex` (bounded): then they should hold equal data.
 */
async function dumpMembers(
  http: V2Client,
  members: readonly WorkloadMember[],
  minIndex: number,
  timeoutMs: number,
): Promise<{ dumps: MemberDump[]; converged: boolean; dumpedAtMs: number }> {
  const deadline = performance.now() + DUMP_BUDGET_MS;
  for (;;) {
    const dumpedAtMs = performance.now();
    const dumps = await Promise.all(members.map((m) => dumpMember(http, m, timeoutMs)));
    const indexes = new Set(dumps.map((d) => d.etcdIndex));
    const [only] = [...indexes];
    if (indexes.size === 1 && only !== undefined && only >= minIndex && dumps.every((d) => d.nodes !== null)) return { dumps, converged: true, dumpedAtMs };
    if (performance.now() >= deadline) return { dumps, converged: false, dumpedAtMs };
    await sleep(100);
  }
}

async function dumpMember(http: V2Client, member: WorkloadMember, timeoutMs: number): Promise<MemberDump> {
  const exchange = await http.exchange(member.clientUrl, { method: 'GET', target: `/v2/keys${KEY_DIR}?recursive=true&sorted=true` }, timeoutMs);
  if (exchange.kind !== 'answer') return { member: member.name, etcdIndex: -1, raftIndex: -1, nodes: null, error: exchange.reason };
  if (exchange.url !== member.clientUrl) return { member: member.name, etcdIndex: -1, raftIndex: -1, nodes: null, error: `redirected to ${exchange.url}` };
  const node = readAction(exchange.json)?.node;
  if (exchange.status !== 200 || node === undefined) {
    return { member: member.name, etcdIndex: exchange.etcdIndex, raftIndex: exchange.raftIndex, nodes: null, error: exchangeReason(exchange) };
  }
  return { member: member.name, etcdIndex: exchange.etcdIndex, raftIndex: exchange.raftIndex, nodes: flatten(node) };
}

/** Leaves of a node tree, in key order. */
function flatten(node: V2Node): DumpNode[] {
  const out: DumpNode[] = [];
  const visit = (n: V2Node): void => {
    if (n.dir) {
      n.nodes.forEach(visit);
      return;
    }
    const leaf: DumpNode = { key: n.key, value: n.value ?? '', createdIndex: n.createdIndex, modifiedIndex: n.modifiedIndex };
    out.push(n.expiration === null ? leaf : { ...leaf, expiration: n.expiration });
  };
  visit(node);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// ---- small helpers ---------------------------------------------------------------------------

function definedOnly(config: WorkloadConfig): Partial<Settings> {
  const out: Partial<Settings> = {};
  for (const name of Object.keys(DEFAULTS) as (keyof Settings)[]) {
    const value = config[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function sleepUntil(atMs: number): Promise<void> {
  const left = atMs - performance.now();
  if (left > 0) await sleep(left);
}

