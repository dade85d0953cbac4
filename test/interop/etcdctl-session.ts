/**
 * A realistic etcdctl 3.4 (ETCDCTL_API=2) session, with the exact output etcd 3.4 itself gives.
 * Indexes are relative to the session's first write (`base`), so the same table checks our
 * member (first user key at index 3, as in the tutorial) and a real etcd 3.4 (whose own
 * bookkeeping takes other indexes) alike. TTLs and expiration times are left out of the exact
 * outputs (they tick); the TTL steps are checked separately.
 */
import { etcdctl, type ClientRun } from './clients.js';

export interface SessionStep {
  readonly args: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
  /** Sent on stdin (etcdctl reads a missing value from there). */
  readonly input?: string;
}

/** In-order keys are the creating write's index, zero-padded to 20 digits. */
export function inOrderName(index: number): string {
  return String(index).padStart(20, '0');
}

function ok(args: readonly string[], stdout: string): SessionStep {
  return { args, stdout, stderr: '', code: 0 };
}

function etcdError(args: readonly string[], code: number, message: string, cause: string, index: number): SessionStep {
  return { args, stdout: '', stderr: `Error:  ${code}: ${message} (${cause}) [${index}]\n`, code: 4 };
}

/** Writes: base set, base+1 mk, base+2 mkdir, base+3 update, base+4 updatedir, base+5 CAS, ... */
export function etcdctlSession(base: number): SessionStep[] {
  const q1 = inOrderName(base + 7);
  const q2 = inOrderName(base + 8);
  return [
    ok(['set', '/message', 'Hello'], 'Hello\n'),
    ok(['get', '/message'], 'Hello\n'),
    etcdError(['mk', '/message', 'again'], 105, 'Key already exists', '/message', base),
    ok(['mk', '/example/key', 'first'], 'first\n'),
    ok(['mkdir', '/dir'], ''),
    etcdError(['mkdir', '/dir'], 105, 'Key already exists', '/dir', base + 2),
    ok(['update', '/message', 'Hi'], 'Hi\n'),
    etcdError(['update', '/nothere', 'x'], 100, 'Key not found', '/nothere', base + 3),
    ok(['updatedir', '--ttl', '100', '/dir'], ''),
    ok(['set', '--swap-with-value', 'Hi', '/message', 'Bye'], 'Bye\n'),
    etcdError(['set', '--swap-with-value', 'Hi', '/message', 'Again'], 101, 'Compare failed', '[Hi != Bye]', base + 5),
    ok(['set', '--ttl', '100', '/ttlkey', 'v'], 'v\n'),
    ok(['mk', '--in-order', '/queue', 'job1'], 'job1\n'),
    ok(['mk', '--in-order', '/queue', 'job2'], 'job2\n'),
    ok(['ls', '--sort', '/'], '/dir\n/example\n/message\n/queue\n/ttlkey\n'),
    ok(['ls', '-r', '--sort', '-p', '/'], `/dir/\n/example/\n/example/key\n/message\n/queue/\n/queue/${q1}\n/queue/${q2}\n/ttlkey\n`),
    ok(['ls', '--sort', '/queue'], `/queue/${q1}\n/queue/${q2}\n`),
    ok(['-o', 'extended', 'get', '/message'], `Key: /message\nCreated-Index: ${base}\nModified-Index: ${base + 5}\nTTL: 0\nIndex: ${base + 8}\n\nBye\n`),
    ok(['-o', 'json', 'get', '/example/key'], `{"action":"get","node":{"key":"/example/key","value":"first","nodes":null,"createdIndex":${base + 1},"modifiedIndex":${base + 1}},"prevNode":null}\n`),
    ok(['-o', 'json', 'set', '/example/key', 'second'], `{"action":"set","node":{"key":"/example/key","value":"second","nodes":null,"createdIndex":${base + 9},"modifiedIndex":${base + 9}},"prevNode":{"key":"/example/key","value":"first","nodes":null,"createdIndex":${base + 1},"modifiedIndex":${base + 1}}}\n`),
    { args: ['get', '/dir'], stdout: '', stderr: '/dir: is a directory\n', code: 1 },
    ok(['rm', '/message'], 'PrevNode.Value: Bye\n'),
    etcdError(['rm', '/dir'], 102, 'Not a file', '/dir', base + 10),
    etcdError(['rmdir', '/example'], 108, 'Directory not empty', '/example', base + 10),
    ok(['rm', '--recursive', '/example'], ''),
    ok(['rmdir', '/dir'], ''),
    etcdError(['rm', '--with-value', 'wrong', '/ttlkey'], 101, 'Compare failed', '[wrong != v]', base + 12),
    ok(['rm', '--with-value', 'v', '/ttlkey'], '\n'),
    etcdError(['get', '/message'], 100, 'Key not found', '/message', base + 13),
    etcdError(['rm', '/message'], 100, 'Key not found', '/message', base + 13),
    ...edgeSteps(base + 14),
  ];
}

const ODD_VALUE = 'a&b<c>"d" \u00fc';

/** Less common flags and errors; writes from e on. */
function edgeSteps(e: number): SessionStep[] {
  return [
    ok(['set', '/edge/a', '1'], '1\n'),
    etcdError(['set', '--swap-with-index', '999', '/edge/a', '2'], 101, 'Compare failed', `[999 != ${e}]`, e),
    ok(['set', '--swap-with-index', String(e), '/edge/a', '2'], '2\n'),
    etcdError(['ls', '/nothere'], 100, 'Key not found', '/nothere', e + 1),
    etcdError(['rm', '-r', '/'], 107, 'Root is read only', '/', e + 1),
    etcdError(['setdir', '/edge'], 102, 'Not a file', '/edge', e + 1),
    etcdError(['mk', '/edge/a/b', 'x'], 104, 'Not a directory', '/edge/a', e + 1),
    // updatedir on a file succeeds and blanks its value (etcd 3.4).
    ok(['updatedir', '/edge/a'], ''),
    ok(['get', '--quorum', '/edge/a'], '\n'),
    ok(['set', '/edge/odd', ODD_VALUE], `${ODD_VALUE}\n`),
    ok(['-o', 'json', 'get', '/edge/odd'], `{"action":"get","node":{"key":"/edge/odd","value":"a\\u0026b\\u003cc\\u003e\\"d\\" \u00fc","nodes":null,"createdIndex":${e + 3},"modifiedIndex":${e + 3}},"prevNode":null}\n`),
    { ...ok(['set', '/edge/stdin'], 'from stdin\n'), input: 'from stdin' },
    ok(['-o', 'extended', 'rm', '/edge/odd'], `Key: /edge/odd\nCreated-Index: ${e + 3}\nModified-Index: ${e + 5}\nPrevNode.Value: ${ODD_VALUE}\nTTL: 0\nIndex: ${e + 5}\n`),
    ok(['-o', 'extended', 'update', '/edge/stdin', 'v2'], `Key: /edge/stdin\nCreated-Index: ${e + 4}\nModified-Index: ${e + 6}\nPrevNode.Value: from stdin\nTTL: 0\nIndex: ${e + 6}\n\nv2\n`),
    ok(['-o', 'json', 'mkdir', '/edge/dir'], `{"action":"create","node":{"key":"/edge/dir","dir":true,"value":"","nodes":null,"createdIndex":${e + 7},"modifiedIndex":${e + 7}},"prevNode":null}\n`),
    ok(['rm', '--dir', '/edge/dir'], ''),
  ];
}

const SEMAPHORE = '{"semaphore":1,"max":1,"holders":null}';
const SEMAPHORE_KEY = '/coreos.com/updateengine/rebootlock/semaphore';

/**
 * The tutorial's etcdctl commands in its order (flags where it puts them, after the key too), on
 * a key space seeded with its update-engine semaphore and a hidden fleet key. Writes: b seed,
 * b+1 hidden seed, then b+2 on as the tutorial goes.
 */
export function tutorialSession(b: number): SessionStep[] {
  return [
    ok(['set', SEMAPHORE_KEY, SEMAPHORE], `${SEMAPHORE}\n`),
    ok(['set', '/_coreos.com/fleet/job/web.service', 'unit'], 'unit\n'),
    ok(['ls', '/'], '/coreos.com\n'),
    { args: ['get', '/coreos.com'], stdout: '', stderr: '/coreos.com: is a directory\n', code: 1 },
    ok(['ls', '/', '--recursive'], `/coreos.com\n/coreos.com/updateengine\n/coreos.com/updateengine/rebootlock\n${SEMAPHORE_KEY}\n`),
    ok(['get', SEMAPHORE_KEY], `${SEMAPHORE}\n`),
    ok(['-o', 'extended', 'get', SEMAPHORE_KEY], `Key: ${SEMAPHORE_KEY}\nCreated-Index: ${b}\nModified-Index: ${b}\nTTL: 0\nIndex: ${b + 1}\n\n${SEMAPHORE}\n`),
    ok(['mkdir', '/example'], ''),
    ok(['mk', '/example/key', 'data'], 'data\n'),
    ok(['get', '/example/key'], 'data\n'),
    ok(['update', '/example/key', 'turtles'], 'turtles\n'),
    ok(['mkdir', '/here/you/go', '--ttl', '120'], ''),
    ok(['updatedir', '/here/you/go', '--ttl', '500'], ''),
    ok(['set', '/example/key', 'new'], 'new\n'),
    ok(['set', '/a/b/c', 'here'], 'here\n'),
    ok(['setdir', '/x/y/z'], ''),
    // The tutorial's note: setdir on an existing directory fails.
    etcdError(['setdir', '/x/y/z'], 102, 'Not a file', '/x/y/z', b + 9),
    ok(['rm', '/a/b/c'], 'PrevNode.Value: here\n'),
    ok(['rm', '/a', '--recursive'], ''),
    ok(['rmdir', '/x/y/z'], ''),
    ok(['ls', '--recursive', '/_coreos.com'], '/_coreos.com/fleet\n/_coreos.com/fleet/job\n/_coreos.com/fleet/job/web.service\n'),
    ok(['ls', '--sort', '/'], '/coreos.com\n/example\n/here\n/x\n'),
  ];
}

export interface StepResult {
  readonly args: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

/** Runs the steps one after another (each is one etcdctl process) and records what each printed. */
export async function runSession(clientUrl: string, steps: readonly SessionStep[]): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const step of steps) {
    const run: ClientRun = await etcdctl(clientUrl, step.args, step.input === undefined ? {} : { input: step.input });
    results.push({ args: step.args, stdout: run.stdout, stderr: run.stderr, code: run.code });
  }
  return results;
}
