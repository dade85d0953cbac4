/**
 * etcdctl entry point (bin/etcdctl): global options, command dispatch, and the mapping from
 * failures to etcdctl 0.4.5's messages and exit codes (spec §15.5):
 *   0 success · 1 bad arguments, `get` on a dir · 2 initial cluster sync failed ·
 *   4 an etcd error or no reachable peer · 5 cluster-health unhealthy · 255 `watch --forever` lost.
 * Nothing escapes as a stack trace.
 */
import { readFileSync } from 'node:fs';
import {
  ClientTimeoutError,
  ClusterUnreachableError,
  EtcdApiError,
  EtcdClient,
  MembersApiError,
  SyncError,
  UnexpectedResponseError,
  WriteOutcomeUnknownError,
  type ClientOptions,
  type TlsOptions,
} from '../client/index.js';
import { clusterCommands } from './cluster-commands.js';
import type { Command, CommandContext } from './context.js';
import { Flags, parseDurationMs, parseFlags, UsageError, type FlagSpec } from './flags.js';
import type { Output } from './format.js';
import { keyCommands } from './key-commands.js';
import { WatchLostError, watchCommands } from './watch-commands.js';

export const etcdctlVersion = '0.4.5';
const defaultPeer = '127.0.0.1:4001';

export const exitCodes = { success: 0, badArgs: 1, syncFailed: 2, etcdError: 4, watchLost: 255 } as const;

const globalFlags: readonly FlagSpec[] = [
  { names: ['debug'], kind: 'bool', usage: 'output cURL commands which can be used to reproduce the request' },
  { names: ['no-sync'], kind: 'bool', usage: "don't synchronize cluster information before sending request" },
  { names: ['output', 'o'], kind: 'string', usage: 'output response in the given format (`simple`, `extended` or `json`)' },
  { names: ['peers', 'C'], kind: 'list', usage: 'a comma-delimited list of machine addresses in the cluster (default: "127.0.0.1:4001"; env ETCDCTL_PEERS)' },
  { names: ['endpoints'], kind: 'list', usage: 'a comma-delimited list of machine addresses (3.4 spelling; env ETCDCTL_ENDPOINTS)' },
  { names: ['endpoint'], kind: 'list', usage: 'deprecated 3.4 spelling of --endpoints (env ETCDCTL_ENDPOINT)' },
  { names: ['cert-file'], kind: 'string', usage: 'identify HTTPS client using this SSL certificate file' },
  { names: ['key-file'], kind: 'string', usage: 'identify HTTPS client using this SSL key file' },
  { names: ['ca-file'], kind: 'string', usage: 'verify certificates of HTTPS-enabled servers using this CA bundle' },
  { names: ['timeout'], kind: 'string', usage: 'connection timeout per request (default 10s)' },
  { names: ['total-timeout'], kind: 'string', usage: 'timeout for the command execution, except watch (default 30s)' },
  { names: ['version', 'v'], kind: 'bool', usage: 'print the version' },
  { names: ['help', 'h'], kind: 'bool', usage: 'show help' },
];

const commands: readonly Command[] = [...keyCommands, ...watchCommands, ...clusterCommands];

function flagLine(spec: FlagSpec): string {
  const names = spec.names.map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ');
  const arg = spec.kind === 'bool' ? '' : spec.kind === 'int' ? ' <n>' : ' <value>';
  return `   ${(names + arg).padEnd(28)}${spec.usage}`;
}

export function mainHelp(): string {
  const commandLines = commands.map((c) => `   ${c.name.padEnd(16)}${c.description}`);
  return [
    'NAME:',
    '   etcdctl - A simple command line client for etcd.',
    '',
    'USAGE:',
    '   etcdctl [global options] command [command options] [arguments...]',
    '',
    'VERSION:',
    `   ${etcdctlVersion}`,
    '',
    'COMMANDS:',
    ...commandLines,
    `   ${'help, h'.padEnd(16)}Shows a list of commands or help for one command`,
    '',
    'GLOBAL OPTIONS:',
    ...globalFlags.map(flagLine),
    '',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const lines = ['NAME:', `   ${command.name} - ${command.description}`, '', 'USAGE:', `   etcdctl ${command.usage}`, ''];
  if (command.flags.length > 0) lines.push('OPTIONS:', ...command.flags.map(flagLine), '');
  return lines.join('\n');
}

function findCommand(name: string): Command | undefined {
  return commands.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}

/** Endpoint precedence of 3.4, which contains 0.4.5's: --endpoints > ETCDCTL_ENDPOINTS > --endpoint > ETCDCTL_ENDPOINT > --peers/-C > ETCDCTL_PEERS. */
export function chooseEndpoints(flags: Flags, env: NodeJS.ProcessEnv): string[] {
  const fromEnv = (name: string): string[] => (env[name] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const candidates = [flags.list('endpoints'), fromEnv('ETCDCTL_ENDPOINTS'), flags.list('endpoint'), fromEnv('ETCDCTL_ENDPOINT'), flags.list('peers'), fromEnv('ETCDCTL_PEERS')];
  return candidates.find((list) => list.length > 0) ?? [defaultPeer];
}

function readTls(flags: Flags, env: NodeJS.ProcessEnv): TlsOptions | undefined {
  const pick = (flag: string, envName: string): string => flags.string(flag, env[envName] ?? '');
  const [certFile, keyFile, caFile] = [pick('cert-file', 'ETCDCTL_CERT_FILE'), pick('key-file', 'ETCDCTL_KEY_FILE'), pick('ca-file', 'ETCDCTL_CA_FILE')];
  if (certFile === '' && keyFile === '' && caFile === '') return undefined;
  return {
    ...(certFile !== '' ? { cert: readFileSync(certFile) } : {}),
    ...(keyFile !== '' ? { key: readFileSync(keyFile) } : {}),
    ...(caFile !== '' ? { ca: readFileSync(caFile) } : {}),
  };
}

async function connect(flags: Flags, env: NodeJS.ProcessEnv, output: Output): Promise<EtcdClient> {
  const debug = flags.bool('debug');
  const tls = readTls(flags, env);
  const options: ClientOptions = {
    endpoints: chooseEndpoints(flags, env),
    ...(flags.has('timeout') ? { requestTimeoutMs: parseDurationMs(flags.string('timeout'), 'timeout') } : {}),
    ...(flags.has('total-timeout') ? { totalTimeoutMs: parseDurationMs(flags.string('total-timeout'), 'total-timeout') } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(debug ? { onRequest: (t) => output.err(`Curl-Example: curl -X ${t.method} ${t.url}${t.body !== '' ? ` -d ${t.body}` : ''}\n`) } : {}),
  };
  const client = new EtcdClient(options);
  if (!flags.bool('no-sync')) await client.sync();
  if (debug) output.err(`Cluster-Peers: ${client.endpoints().join(' ')}\n`);
  return client;
}

function readAllStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.once('error', reject);
  });
}

/** Failure → message on stderr and exit code (never a stack trace). */
export function reportFailure(err: unknown, output: Output): number {
  if (err instanceof WatchLostError) {
    reportFailure(err.reason, output);
    return exitCodes.watchLost;
  }
  if (err instanceof UsageError) return fail(output, err.message, exitCodes.badArgs);
  if (err instanceof SyncError) return fail(output, err.message, exitCodes.syncFailed);
  if (err instanceof EtcdApiError || err instanceof ClusterUnreachableError) return fail(output, err.describe(), exitCodes.etcdError);
  if (err instanceof ClientTimeoutError || err instanceof UnexpectedResponseError || err instanceof WriteOutcomeUnknownError) return fail(output, err.message, exitCodes.etcdError);
  if (err instanceof MembersApiError) return fail(output, err.message, exitCodes.badArgs);
  return fail(output, err instanceof Error ? err.message : String(err), exitCodes.badArgs);
}

function fail(output: Output, message: string, code: number): number {
  output.err(`Error:  ${message}\n`);
  return code;
}

/** Runs etcdctl with `argv` (without node and script); resolves with the exit code. */
export async function runEtcdctl(argv: readonly string[], env: NodeJS.ProcessEnv, output: Output): Promise<number> {
  try {
    const global = parseFlags(argv, globalFlags, true);
    const globals = new Flags(global.values);
    if (globals.bool('version')) {
      output.out(`etcdctl version ${etcdctlVersion}\n`);
      return 0;
    }
    const [name, ...rest] = global.rest;
    if (name === undefined || globals.bool('help') || name === 'help' || name === 'h') return showHelp(name === 'help' || name === 'h' ? rest[0] : undefined, output);
    const command = findCommand(name);
    if (command === undefined) throw new UsageError(`unknown command "${name}" (see etcdctl --help)`);
    const parsed = parseFlags(rest, [...command.flags, ...globalFlags], false);
    if (parsed.values.get('help') === true) return showHelp(command.name, output);
    const flags = new Flags(new Map([...global.values, ...parsed.values]));
    if (command.name === 'watch' || command.name === 'exec-watch') process.on('SIGINT', () => process.exit(0));
    let client: EtcdClient | undefined;
    const ctx: CommandContext = {
      args: parsed.positionals,
      afterDashDash: parsed.afterDashDash,
      flags,
      format: flags.string('output', 'simple'),
      output,
      readStdin: readAllStdin,
      client: async () => (client ??= await connect(flags, env, output)),
    };
    return await command.run(ctx);
  } catch (err) {
    return reportFailure(err, output);
  }
}

function showHelp(commandName: string | undefined, output: Output): number {
  const command = commandName === undefined ? undefined : findCommand(commandName);
  output.out(command === undefined ? mainHelp() : commandHelp(command));
  return 0;
}

const isEntryPoint = process.argv[1] !== undefined && /(^|\/)(etcdctl|etcdctl\/main\.(js|ts))$/.test(process.argv[1]);
if (isEntryPoint) {
  const output: Output = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };
  const code = await runEtcdctl(process.argv.slice(2), process.env, output);
  process.exit(code);
}
