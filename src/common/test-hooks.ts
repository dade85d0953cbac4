/**
 * Test-only switches, read from the environment once at startup and off unless a test sets them
 * (the black-box fault harness, test/blackbox/). Kept in one module so the product code carries a
 * single call at each point they touch; raft/ and store/ never import this.
 *
 * - ETCD_TEST_PEER_DIAL_MAP="<peerURL>=<dialURL>,...": a member dialing the peer at <peerURL>
 *   connects to <dialURL> instead (a TCP proxy per directed link); everything the handshake says
 *   stays the real URLs, so the cluster cannot tell a proxy is in between.
 * - ETCD_TEST_BREAK=ack-before-commit|local-quorum-read: a deliberately unsafe member, so the
 *   black-box checker can prove it catches lost writes and stale quorum reads.
 */
import type { StoreEvent, WriteCommand } from '../store/types.js';

export type TestBreak = 'ack-before-commit' | 'local-quorum-read';

const BREAKS: readonly TestBreak[] = ['ack-before-commit', 'local-quorum-read'];

export interface TestHooks {
  /** Real peer origin → the origin to connect to instead. */
  readonly peerDialMap: ReadonlyMap<string, string>;
  readonly testBreak: TestBreak | null;
}

/** A malformed switch is a broken test setup: fail loudly at startup rather than run unsafely half-configured. */
export function parseTestHooks(env: Readonly<Record<string, string | undefined>>): TestHooks {
  const peerDialMap = new Map<string, string>();
  for (const pair of (env['ETCD_TEST_PEER_DIAL_MAP'] ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`ETCD_TEST_PEER_DIAL_MAP: "${pair}" is not <peerURL>=<dialURL>`);
    peerDialMap.set(originOf(pair.slice(0, at)), originOf(pair.slice(at + 1)));
  }
  const raw = env['ETCD_TEST_BREAK'] ?? '';
  const testBreak = BREAKS.find((b) => b === raw) ?? null;
  if (raw !== '' && testBreak === null) throw new Error(`ETCD_TEST_BREAK: unknown mode "${raw}" (${BREAKS.join('|')})`);
  return { peerDialMap, testBreak };
}

function originOf(url: string): string {
  const parsed = new URL(url.trim());
  return parsed.origin;
}

const hooks: TestHooks = parseTestHooks(process.env);

/** Where to connect to reach the peer at `peerUrl` (the URL itself unless the map redirects it). */
export function peerDialUrl(peerUrl: string, from: TestHooks = hooks): string {
  if (from.peerDialMap.size === 0) return peerUrl;
  let parsed: URL;
  try {
    parsed = new URL(peerUrl);
  } catch {
    return peerUrl;
  }
  const dial = from.peerDialMap.get(parsed.origin);
  return dial === undefined ? peerUrl : `${dial}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

export function testBreak(): TestBreak | null {
  return hooks.testBreak;
}

let announced = false;

/** One loud line per process, so nobody mistakes a broken build's run for a real one. */
export function announceTestBreak(write: (line: string) => void = (line) => process.stderr.write(line)): void {
  if (hooks.testBreak === null || announced) return;
  announced = true;
  write(`etcd: TEST BREAK ${hooks.testBreak} is ON — this member is unsafe\n`);
}

/**
 * The answer an ack-before-commit member gives at proposal time: what the write would say had it
 * succeeded at `index`, with no look at the store (no prevNode, no compare). Wrong on purpose.
 */
export function earlyAckEvent(cmd: WriteCommand, index: number): StoreEvent {
  const value = 'value' in cmd ? cmd.value : null;
  const key = cmd.op === 'create' && cmd.inOrder ? `${cmd.key}/${String(index).padStart(20, '0')}` : cmd.key;
  return {
    json: {
      action: cmd.op,
      node: {
        key,
        ...(value === null ? {} : { value }),
        modifiedIndex: index,
        createdIndex: index,
      },
    },
    index,
    created: cmd.op === 'create' || cmd.op === 'set',
  };
}
