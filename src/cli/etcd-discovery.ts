/**
 * `bin/etcd-discovery`: the discovery service (src/discovery/service.ts) as a process.
 *
 *   etcd-discovery -addr HOST:PORT -data-dir DIR [-base-url URL] [-etcd URL,...]
 *
 * Flags are Go style like etcd's (`-x v`, `-x=v`, `--x`); `ETCD_DISCOVERY_<FLAG>` variables
 * (e.g. ETCD_DISCOVERY_BASE_URL) give values the flags override. Without `-etcd` the registry
 * lives in an embedded single member on the data dir; with it, in that existing cluster.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataDirLockedError } from '../server/data-dir-lock.js';
import { startEmbeddedRegistry, type EmbeddedRegistry } from '../discovery/service-backing.js';
import { createDiscoveryHandler, defaultDiscoveryServiceConfig, httpUrlProblem, validateDiscoveryServiceConfig } from '../discovery/service.js';
import { joinHostPort, parseHostPort, parseServiceUrl, type Fail, type HostPort } from './config-addr.js';

interface DiscoveryCliConfig {
  readonly addr: HostPort;
  readonly dataDir: string;
  /** null: `http://<addr>`. */
  readonly baseUrl: string | null;
  /** Empty: the embedded registry. */
  readonly etcdUrls: readonly string[];
}

const FLAGS = ['addr', 'data-dir', 'base-url', 'etcd'] as const;
type FlagName = (typeof FLAGS)[number];

const DEFAULTS: Readonly<Record<FlagName, string>> = {
  addr: '127.0.0.1:8087',
  'data-dir': 'etcd-discovery.data',
  'base-url': '',
  etcd: '',
};

const USAGE = `usage: etcd-discovery [flags]

A discovery service for etcd clusters (what discovery.etcd.io is): GET /new hands out a token
URL; members started with -discovery <that URL> register there and find each other.

  -addr=${DEFAULTS.addr}        host:port to listen on
  -data-dir=${DEFAULTS['data-dir']}   data dir of the embedded registry (when no -etcd is given)
  -base-url=http://<addr>      public URL the tokens are handed out under
  -etcd=<url>[,<url>...]       keep the registry in this existing etcd cluster instead
  -h, -help                    print this text

Each flag can also be set by the environment: ETCD_DISCOVERY_ADDR, ETCD_DISCOVERY_DATA_DIR,
ETCD_DISCOVERY_BASE_URL, ETCD_DISCOVERY_ETCD (the flags win).
`;

/** A command line the service cannot run with: the problem, then the usage, exit 2 (Go's flag). */
class DiscoveryUsageError extends Error {
  override name = 'DiscoveryUsageError';
}

type DiscoveryCommand = { readonly kind: 'help' } | { readonly kind: 'run'; readonly config: DiscoveryCliConfig };

function parseDiscoveryCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): DiscoveryCommand {
  const values = { ...DEFAULTS };
  for (const name of FLAGS) {
    const fromEnv = env[`ETCD_DISCOVERY_${name.toUpperCase().replaceAll('-', '_')}`];
    if (fromEnv !== undefined && fromEnv !== '') values[name] = fromEnv;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-') || arg === '-' || arg === '--') throw new DiscoveryUsageError(`unexpected argument "${arg}"`);
    const spelled = arg.replace(/^--?/, '');
    const equals = spelled.indexOf('=');
    const name = equals === -1 ? spelled : spelled.slice(0, equals);
    if (name === 'h' || name === 'help') return { kind: 'help' };
    if (!isFlag(name)) throw new DiscoveryUsageError(`flag provided but not defined: -${name}`);
    if (equals !== -1) {
      values[name] = spelled.slice(equals + 1);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined) throw new DiscoveryUsageError(`flag needs an argument: -${name}`);
    values[name] = next;
    i++;
  }
  return { kind: 'run', config: configOf(values) };
}

function isFlag(name: string): name is FlagName {
  return (FLAGS as readonly string[]).includes(name);
}

function configOf(values: Readonly<Record<FlagName, string>>): DiscoveryCliConfig {
  const failFor = (flag: FlagName): Fail => (reason) => {
    throw new DiscoveryUsageError(`invalid value "${values[flag]}" for flag -${flag}: ${reason}`);
  };
  const addr = parseHostPort(values.addr, failFor('addr'));
  if (values['data-dir'] === '') failFor('data-dir')('must not be empty');
  const etcdUrls = values.etcd === '' ? [] : values.etcd.split(',').map((url) => parseServiceUrl(url.trim(), failFor('etcd')).href);
  const baseUrl = values['base-url'] === '' ? null : values['base-url'].replace(/\/+$/, '');
  const baseUrlProblem = baseUrl === null ? null : httpUrlProblem(baseUrl);
  if (baseUrlProblem !== null) failFor('base-url')(baseUrlProblem);
  return { addr, dataDir: values['data-dir'], baseUrl, etcdUrls };
}

// ---- running ------------------------------------------------------------------------------------

function logLine(text: string): void {
  process.stderr.write(`etcd-discovery: ${text}\n`);
}

function refuse(message: string, code: number): never {
  process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
  process.exit(code);
}

function parseOrExit(): DiscoveryCliConfig {
  try {
    const command = parseDiscoveryCommand(process.argv.slice(2), process.env);
    if (command.kind === 'help') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    return command.config;
  } catch (error) {
    if (error instanceof DiscoveryUsageError) refuse(`etcd-discovery: ${error.message}\n${USAGE}`, 2);
    throw error;
  }
}

async function openEmbeddedOrExit(dataDir: string): Promise<EmbeddedRegistry> {
  try {
    return await startEmbeddedRegistry({
      dataDir,
      name: 'etcd-discovery',
      onNotice: (line) => logLine(`registry: ${line}`),
      onFatal: (error) => {
        logLine(`fatal: registry: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        process.exit(2);
      },
    });
  } catch (error) {
    if (error instanceof DataDirLockedError) refuse(`etcd-discovery: ${error.message}`, 1);
    const errno = error as NodeJS.ErrnoException;
    refuse(`etcd-discovery: cannot open the registry in ${dataDir}: ${errno.code ?? errno.message}`, 1);
  }
}

function listen(server: http.Server, addr: HostPort): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: addr.host, port: addr.port }, () => resolve((server.address() as AddressInfo).port));
  });
}

async function main(): Promise<void> {
  const cli = parseOrExit();
  const embedded = cli.etcdUrls.length === 0 ? await openEmbeddedOrExit(cli.dataDir) : null;
  const backingUrls = embedded === null ? cli.etcdUrls : [embedded.clientUrl];
  const baseUrl = cli.baseUrl ?? `http://${joinHostPort(cli.addr)}`;
  const config = defaultDiscoveryServiceConfig(baseUrl, backingUrls);
  const problems = validateDiscoveryServiceConfig(config);
  if (problems.length > 0) {
    await embedded?.stop();
    refuse(`etcd-discovery: ${problems.join('; ')}\n${USAGE}`, 2);
  }
  const server = http.createServer(createDiscoveryHandler(config));
  // Proxied long-polls (wait=true) may stay idle for minutes.
  server.requestTimeout = 0;
  try {
    await listen(server, cli.addr);
  } catch (error) {
    await embedded?.stop();
    refuse(`etcd-discovery: cannot listen on ${joinHostPort(cli.addr)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 1);
  }
  installShutdown(server, embedded);
  const registry = embedded === null ? cli.etcdUrls.join(',') : `embedded member, data dir ${cli.dataDir}`;
  logLine(`serving ${config.baseUrl} (registry in ${registry})`);
}

function installShutdown(server: http.Server, embedded: EmbeddedRegistry | null): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logLine(`${signal}: shutting down`);
    void (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await embedded?.stop();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  logLine(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(2);
});
