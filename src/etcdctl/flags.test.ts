import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Flags, parseDurationMs, parseFlags, UsageError, type FlagSpec } from './flags.js';
import { chooseEndpoints, runEtcdctl } from './main.js';

const specs: FlagSpec[] = [
  { names: ['recursive', 'r'], kind: 'bool', usage: '' },
  { names: ['ttl'], kind: 'int', usage: '' },
  { names: ['output', 'o'], kind: 'string', usage: '' },
  { names: ['peers', 'C'], kind: 'list', usage: '' },
];

test('flags before and after positionals, single or double dash, =value or separate value', () => {
  const parsed = parseFlags(['/k', '-ttl=5', '--recursive', 'v', '-o', 'json', '--peers', 'a,b', '-C', 'c'], specs, false);
  assert.deepEqual(parsed.positionals, ['/k', 'v']);
  const flags = new Flags(parsed.values);
  assert.deepEqual([flags.int('ttl'), flags.bool('recursive'), flags.string('output'), flags.list('peers')], [5, true, 'json', ['a', 'b', 'c']]);
  assert.equal(parsed.afterDashDash, undefined);
});

test('-- ends flag parsing: the rest is exec-watch command line (or values starting with -)', () => {
  const parsed = parseFlags(['--recursive', '/example', '--', 'sh', '-c', 'echo -n'], specs, false);
  assert.deepEqual(parsed.positionals, ['/example']);
  assert.deepEqual(parsed.afterDashDash, ['sh', '-c', 'echo -n']);
});

test('global parsing stops at the command name', () => {
  const parsed = parseFlags(['-o', 'extended', 'get', '--sort', '/k'], specs, true);
  assert.deepEqual(parsed.rest, ['get', '--sort', '/k']);
  assert.equal(new Flags(parsed.values).string('output'), 'extended');
});

test('bad flags are usage errors with Go flag wording', () => {
  assert.throws(() => parseFlags(['--nope'], specs, false), new UsageError('flag provided but not defined: -nope'));
  assert.throws(() => parseFlags(['--ttl'], specs, false), new UsageError('flag needs an argument: -ttl'));
  assert.throws(() => parseFlags(['--ttl', 'ten'], specs, false), new UsageError('invalid value "ten" for flag -ttl: parse error'));
  assert.throws(() => parseFlags(['--recursive=maybe'], specs, false), new UsageError('invalid boolean value "maybe" for flag -recursive'));
});

test('durations: Go syntax or bare seconds', () => {
  assert.equal(parseDurationMs('2s', 'timeout'), 2000);
  assert.equal(parseDurationMs('1m30s', 'timeout'), 90_000);
  assert.equal(parseDurationMs('250ms', 'timeout'), 250);
  assert.equal(parseDurationMs('3', 'timeout'), 3000);
  assert.throws(() => parseDurationMs('2 s', 'timeout'), UsageError);
  assert.throws(() => parseDurationMs('0s', 'timeout'), UsageError);
});

test('endpoint precedence: --endpoints > ETCDCTL_ENDPOINTS > --endpoint > ETCDCTL_ENDPOINT > --peers > ETCDCTL_PEERS > default', () => {
  const flags = (values: [string, string[]][]): Flags => new Flags(new Map(values));
  const env = { ETCDCTL_ENDPOINTS: 'e1', ETCDCTL_ENDPOINT: 'e2', ETCDCTL_PEERS: 'p1,p2' };
  assert.deepEqual(chooseEndpoints(flags([['endpoints', ['f1']], ['peers', ['f2']]]), env), ['f1']);
  assert.deepEqual(chooseEndpoints(flags([['peers', ['f2']]]), env), ['e1']);
  assert.deepEqual(chooseEndpoints(flags([['peers', ['f2']]]), { ETCDCTL_PEERS: 'p1' }), ['f2']);
  assert.deepEqual(chooseEndpoints(flags([]), { ETCDCTL_PEERS: 'p1, p2' }), ['p1', 'p2']);
  assert.deepEqual(chooseEndpoints(flags([]), {}), ['127.0.0.1:4001']);
});

test('runEtcdctl: version, usage errors and exit codes without a server', async () => {
  const run = async (argv: string[]): Promise<[number, string, string]> => {
    let out = '';
    let err = '';
    const code = await runEtcdctl(argv, {}, { out: (t) => (out += t), err: (t) => (err += t) });
    return [code, out, err];
  };
  assert.deepEqual(await run(['-v']), [0, 'etcdctl version 0.4.5\n', '']);
  assert.deepEqual(await run(['rm']), [1, '', 'Error:  Key required\n']);
  assert.deepEqual(await run(['exec-watch', '/k']), [1, '', 'Error:  Key and command to exec required\n']);
  assert.deepEqual(await run(['member']), [1, '', 'Error:  member needs a subcommand: list, add or remove\n']);
  assert.deepEqual(await run(['--timeout', 'soon', 'ls']), [1, '', 'Error:  invalid value "soon" for flag -timeout: invalid duration\n']);
  const [code, help] = await run(['help', 'set']);
  assert.equal(code, 0);
  assert.match(help, /^ {3}--swap-with-value <value> +previous value$/m);
});
