import { EtcdError, ErrorCode } from '../common/errors.js';
import type { WriteCommand } from '../store/types.js';
import type { FormParams } from './form.js';
import { isMemberOwnedKey } from './key-path.js';

/**
 * Turns a `/v2/keys` request into what the member must do, validating parameters in etcd 3.4's
 * order (spec §17.1): prevIndex, waitIndex, recursive, sorted, wait, dir, quorum, stream, wait on a
 * non-GET, empty prevValue, noValueOnSuccess, ttl, prevExist, refresh. The first failure wins.
 * Pure: the caller passes the clock reading, so `ttl` becomes an absolute expiry here (DESIGN §3).
 */

export type KeysMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export interface ReadRequest {
  readonly kind: 'read';
  readonly key: string;
  readonly recursive: boolean;
  readonly sorted: boolean;
  /** ReadIndex barrier before the local read. */
  readonly quorum: boolean;
  /** 0.4 `consistent=true`: must be served by the leader (a follower redirects). */
  readonly consistent: boolean;
}

export interface WatchRequest {
  readonly kind: 'watch';
  readonly key: string;
  readonly recursive: boolean;
  readonly stream: boolean;
  /** waitIndex; 0 = only future events. */
  readonly sinceIndex: number;
}

export interface WriteRequest {
  readonly kind: 'write';
  readonly command: WriteCommand;
  /** 3.4 `noValueOnSuccess=true`: the success body is only `{"action":...}`. */
  readonly noValueOnSuccess: boolean;
}

export type KeysRequest = ReadRequest | WatchRequest | WriteRequest;

/** Go ParseUint(s, 10, 64) limit. */
const maxUint64 = 18446744073709551615n;
/** Seconds beyond which Go's time.Duration (int64 ns) overflows; etcd 3.4 ends up with a
 *  pre-2000 expiry for such TTLs, which the store treats as permanent. */
const maxGoDurationSeconds = 9_223_372_036;

/** Strict unsigned decimal like Go's strconv.ParseUint(s, 10, 64): digits only, no sign, no spaces. */
export function parseUint64(text: string): bigint | null {
  if (!/^[0-9]+$/.test(text)) return null;
  const value = BigInt(text);
  return value > maxUint64 ? null : value;
}

/** Booleans per spec §17: true/false in any case, 1/0, t/f (either case); else null. */
export function parseBool(text: string): boolean | null {
  switch (text.toLowerCase()) {
    case 'true':
    case '1':
    case 't':
      return true;
    case 'false':
    case '0':
    case 'f':
      return false;
    default:
      return null;
  }
}

function invalidValue(code: typeof ErrorCode.IndexNaN | typeof ErrorCode.InvalidField | typeof ErrorCode.TTLNaN, name: string): EtcdError {
  return new EtcdError(code, `invalid value for ${JSON.stringify(name)}`);
}

/** An index parameter (prevIndex, waitIndex): absent → 0; present must be a uint64. */
function indexParam(params: FormParams, name: string): number {
  const text = params.get(name);
  if (text === undefined) return 0;
  const value = parseUint64(text);
  if (value === null) throw invalidValue(ErrorCode.IndexNaN, name);
  // No etcd index reaches 2^53; a larger one can only fail to match, so saturating keeps that.
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** A boolean parameter: absent → false; present (even empty) must parse. */
function boolParam(params: FormParams, name: string): boolean {
  const text = params.get(name);
  if (text === undefined) return false;
  const value = parseBool(text);
  if (value === null) throw invalidValue(ErrorCode.InvalidField, name);
  return value;
}

interface CommonParams {
  readonly prevIndex: number;
  readonly waitIndex: number;
  readonly recursive: boolean;
  readonly sorted: boolean;
  readonly wait: boolean;
  readonly dir: boolean;
  readonly quorum: boolean;
  readonly stream: boolean;
  readonly prevValue: string | null;
  readonly noValueOnSuccess: boolean;
  /** Absolute expiry or null (permanent); undefined when no ttl was given. */
  readonly ttlSeconds: bigint | null;
  readonly prevExist: boolean | null;
  readonly refresh: boolean;
}

function parseCommon(method: KeysMethod, params: FormParams): CommonParams {
  const prevIndex = indexParam(params, 'prevIndex');
  const waitIndex = indexParam(params, 'waitIndex');
  const recursive = boolParam(params, 'recursive');
  const sorted = boolParam(params, 'sorted');
  const wait = boolParam(params, 'wait');
  const dir = boolParam(params, 'dir');
  const quorum = boolParam(params, 'quorum');
  const stream = boolParam(params, 'stream');
  // HEAD too: etcd 3.4 answers `HEAD ?wait=true` with this 209 (observed; spec §17.1 says otherwise).
  if (wait && method !== 'GET') {
    throw new EtcdError(ErrorCode.InvalidField, '"wait" can only be used with GET requests');
  }
  const prevValue = params.get('prevValue') ?? null;
  if (prevValue === '') throw new EtcdError(ErrorCode.PrevValueRequired, '"prevValue" cannot be empty');
  const noValueOnSuccess = boolParam(params, 'noValueOnSuccess');
  const ttlText = params.get('ttl') ?? '';
  const ttlSeconds = ttlText === '' ? null : parseUint64(ttlText);
  if (ttlText !== '' && ttlSeconds === null) throw invalidValue(ErrorCode.TTLNaN, 'ttl');
  const prevExist = unquotedBool(params, 'prevExist');
  const refresh = unquotedBool(params, 'refresh') ?? false;
  if (refresh) {
    if ((params.get('value') ?? '') !== '') throw new EtcdError(ErrorCode.RefreshValue, 'A value was provided on a refresh');
    if (ttlSeconds === null) throw new EtcdError(ErrorCode.RefreshTTLRequired, 'No TTL value set');
  }
  return { prevIndex, waitIndex, recursive, sorted, wait, dir, quorum, stream, prevValue, noValueOnSuccess, ttlSeconds, prevExist, refresh };
}

/** prevExist and refresh: 3.4 words their error without quotes (`invalid value for prevExist`). */
function unquotedBool(params: FormParams, name: string): boolean | null {
  const text = params.get(name);
  if (text === undefined) return null;
  const value = parseBool(text);
  if (value === null) throw new EtcdError(ErrorCode.InvalidField, `invalid value for ${name}`);
  return value;
}

/** ttl seconds → absolute expiry in ms (null = permanent). ttl=0 expires at the next sweep. */
export function expireAtMsFor(ttlSeconds: bigint | null, nowMs: number): number | null {
  if (ttlSeconds === null || ttlSeconds > BigInt(maxGoDurationSeconds)) return null;
  return nowMs + Number(ttlSeconds) * 1000;
}

export function parseKeysRequest(method: KeysMethod, key: string, params: FormParams, nowMs: number): KeysRequest {
  const common = parseCommon(method, params);
  if (method === 'GET' || method === 'HEAD') return readOrWatch(method, key, params, common);
  if (isMemberOwnedKey(key)) throw new EtcdError(ErrorCode.KeyIsPreserved, key);
  const command = writeCommand(method, key, params, common, nowMs);
  return { kind: 'write', command, noValueOnSuccess: common.noValueOnSuccess };
}

function readOrWatch(method: KeysMethod, key: string, params: FormParams, common: CommonParams): KeysRequest {
  // quorum reads ignore `wait` (spec §17.1); HEAD never gets here with wait=true.
  if (common.wait && !common.quorum && method === 'GET') {
    return { kind: 'watch', key, recursive: common.recursive, stream: common.stream, sinceIndex: common.waitIndex };
  }
  // 3.4 ignores `consistent`, so a malformed value is simply not "true".
  const consistent = parseBool(params.get('consistent') ?? '') === true;
  return { kind: 'read', key, recursive: common.recursive, sorted: common.sorted, quorum: common.quorum, consistent };
}

function writeCommand(method: 'PUT' | 'POST' | 'DELETE', key: string, params: FormParams, common: CommonParams, nowMs: number): WriteCommand {
  const value = params.get('value') ?? '';
  const expireAtMs = expireAtMsFor(common.ttlSeconds, nowMs);
  const hasCompare = common.prevIndex > 0 || common.prevValue !== null;
  if (method === 'POST') {
    return { op: 'create', key, nowMs, value, dir: common.dir, expireAtMs, inOrder: true };
  }
  if (method === 'DELETE') {
    if (hasCompare) return { op: 'compareAndDelete', key, nowMs, prevValue: common.prevValue, prevIndex: common.prevIndex };
    return { op: 'delete', key, nowMs, dir: common.dir, recursive: common.recursive };
  }
  const refresh = common.refresh;
  const newValue = refresh ? null : value;
  if (common.prevExist === false) {
    return { op: 'create', key, nowMs, value, dir: common.dir, expireAtMs, inOrder: false };
  }
  if (common.prevExist === true && !hasCompare) {
    return { op: 'update', key, nowMs, value: newValue, expireAtMs, refresh };
  }
  if (hasCompare) {
    return { op: 'compareAndSwap', key, nowMs, value: newValue, prevValue: common.prevValue, prevIndex: common.prevIndex, expireAtMs, refresh };
  }
  return { op: 'set', key, nowMs, value, dir: common.dir, expireAtMs, refresh };
}
