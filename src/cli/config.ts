/**
 * `etcd`'s command line: flags, ETCD_* environment, a CoreOS cloud-config and TOML config files,
 * merged with precedence flags > env > --cloud-config > -config file > /etc/etcd/etcd.conf >
 * defaults (spec §12, §17).
 * src/cli/etcd.ts calls parseEtcdCommand once at start and prints ConfigError messages.
 */
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { ConfigError, type EtcdCommand } from './config-types.js';
import { parseArgs, parseConfigFile, parseEnv, rejectGroupConflicts, type ParsedArgs, type SourceValues } from './config-sources.js';
import { cloudAddressesFrom, parseCloudConfig } from './config-cloud.js';
import { mergeLayers, resolveConfig } from './config-resolve.js';
import { etcdUsage, VERSION_TEXT } from './config-usage.js';

export { etcdUsage, VERSION_TEXT } from './config-usage.js';

/** Read when it exists, before any -config file (0.4.6's system config). */
export const SYSTEM_CONFIG_PATH = '/etc/etcd/etcd.conf';

export interface ParseOptions {
  /** Default name when neither -name nor ETCD_NAME is given; os.hostname() if absent. */
  readonly hostname?: string;
  /** Returns a file's text, or null when it does not exist. */
  readonly readFile?: (path: string) => string | null;
}

function readFileOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new ConfigError(`cannot read ${path}: ${code ?? String(error)}`);
  }
}

interface Layer {
  readonly values: SourceValues;
  readonly warnings: readonly string[];
}

/** --cloud-config: a CoreOS `#cloud-config` file, above the TOML files and below env and flags. */
function cloudConfigLayer(args: ParsedArgs, env: Readonly<Record<string, string | undefined>>, readFile: (path: string) => string | null): Layer[] {
  const path = args.cloudConfigPath;
  if (path === null) return [];
  if (path === '') throw new ConfigError('flag --cloud-config needs a file path');
  const text = readFile(path);
  if (text === null) throw new ConfigError(`cloud-config file ${path} does not exist`);
  return [parseCloudConfig(path, text, cloudAddressesFrom(args, env))];
}

function fileLayers(configPath: string | null, readFile: (path: string) => string | null): Layer[] {
  const layers: Layer[] = [];
  const systemText = readFile(SYSTEM_CONFIG_PATH);
  if (systemText !== null) layers.push(parseConfigFile(SYSTEM_CONFIG_PATH, systemText));
  if (configPath !== null) {
    if (configPath === '') throw new ConfigError('flag -config needs a file path');
    const text = readFile(configPath);
    if (text === null) throw new ConfigError(`config file ${configPath} does not exist`);
    layers.push(parseConfigFile(configPath, text));
  }
  return layers;
}

export function parseEtcdCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  options: ParseOptions = {},
): EtcdCommand {
  const args = parseArgs(argv);
  // As 0.4.6: -version wins over -h, and neither reads files or the environment.
  if (args.command === 'version') return { kind: 'version', text: VERSION_TEXT };
  if (args.command === 'help') return { kind: 'help', text: etcdUsage() };
  const readFile = options.readFile ?? readFileOrNull;
  const layers = [...fileLayers(args.configPath, readFile), ...cloudConfigLayer(args, env, readFile), parseEnv(env), args];
  for (const layer of layers) rejectGroupConflicts(layer.values);
  const merged = mergeLayers(layers.map((layer) => layer.values));
  const config = resolveConfig(merged, {
    hostname: options.hostname ?? osHostname(),
    readFile,
    warnings: layers.flatMap((layer) => layer.warnings),
  });
  return { kind: 'run', config };
}
