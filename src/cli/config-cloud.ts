/**
 * `etcd --cloud-config FILE`: the CoreOS `#cloud-config` file the tutorial hands its machines.
 * The keys under `coreos.etcd` are etcd's flags without the leading dash (`-peer-addr=h:p`
 * becomes `peer-addr: h:p`); CoreOS turned them into the ETCD_* variables of a systemd drop-in,
 * and here they become one more config source, below the environment and the flags.
 * `$private_ipv4` and `$public_ipv4` are the machine's addresses, which CoreOS filled in from
 * the cloud's metadata: here they come from `--private-ipv4`/`--public-ipv4` or
 * COREOS_PRIVATE_IPV4/COREOS_PUBLIC_IPV4.
 */
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-types.js';
import { OPTIONS, type OptionSpec } from './config-options.js';
import { invalidValue, splitList, valueFromText, type Origin, type ParsedFile, type OptionValue, type SourceValues } from './config-sources.js';

export const CLOUD_CONFIG_HEADER = '#cloud-config';

/** The machine's addresses; null = not given (a file that uses it is refused). */
export interface CloudAddresses {
  readonly privateIpv4: string | null;
  readonly publicIpv4: string | null;
}

/** Flag over environment, as for every other setting. */
export function cloudAddressesFrom(
  flags: { readonly privateIpv4: string | null; readonly publicIpv4: string | null },
  env: Readonly<Record<string, string | undefined>>,
): CloudAddresses {
  const fromEnv = (name: string): string | null => {
    const value = env[name];
    return value === undefined || value === '' ? null : value;
  };
  return {
    privateIpv4: flags.privateIpv4 ?? fromEnv('COREOS_PRIVATE_IPV4'),
    publicIpv4: flags.publicIpv4 ?? fromEnv('COREOS_PUBLIC_IPV4'),
  };
}

const VARIABLES = [
  { name: 'private_ipv4', flag: '--private-ipv4', env: 'COREOS_PRIVATE_IPV4', pick: (a: CloudAddresses) => a.privateIpv4 },
  { name: 'public_ipv4', flag: '--public-ipv4', env: 'COREOS_PUBLIC_IPV4', pick: (a: CloudAddresses) => a.publicIpv4 },
] as const;

/** Etcd's options by the names a cloud-config may use: the flag name (`peer-addr`) or with `_`. */
const BY_KEY: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.flatMap((spec) => [[spec.name, spec] as const, [spec.name.replaceAll('-', '_'), spec] as const]));

type YamlMap = { readonly [key: string]: unknown };

function isMap(value: unknown): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseCloudConfig(path: string, text: string, addresses: CloudAddresses): ParsedFile {
  const firstLine = text.split('\n', 1)[0]?.trim() ?? '';
  if (firstLine !== CLOUD_CONFIG_HEADER) {
    throw new ConfigError(`${path} is not a cloud-config file: its first line must be "${CLOUD_CONFIG_HEADER}"`);
  }
  const etcd = etcdSection(path, text);
  const values: SourceValues = new Map();
  for (const [key, raw] of Object.entries(etcd)) {
    const spec = BY_KEY.get(key);
    if (spec === undefined) throw new ConfigError(`unknown key "${key}" under coreos.etcd in ${path}: not an etcd flag (use the flag's name without the dash, e.g. peer-addr)`);
    const origin: Origin = { kind: 'file', spelling: `coreos.etcd.${key}`, path };
    const substituted = substitute(path, key, raw, addresses);
    values.set(spec.name, { spec, value: cloudValue(spec, substituted, origin), raw: rawText(substituted), origin });
  }
  return { values, warnings: [] };
}

/** `coreos.etcd` as a map of strings or lists of strings (the failsafe schema: nothing is guessed into a number). */
function etcdSection(path: string, text: string): YamlMap {
  let document: unknown;
  try {
    document = parseYaml(text, { schema: 'failsafe', uniqueKeys: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(`cannot parse cloud-config file ${path}: ${reason}`);
  }
  const coreos = isMap(document) ? document['coreos'] : undefined;
  const etcd = isMap(coreos) ? coreos['etcd'] : undefined;
  if (!isMap(etcd)) throw new ConfigError(`cloud-config file ${path} has no coreos.etcd section (a map of etcd flags)`);
  return etcd;
}

/** A scalar (string) or a list of scalars; the `$private_ipv4`-style variables filled in. */
function substitute(path: string, key: string, value: unknown, addresses: CloudAddresses): string | string[] {
  if (Array.isArray(value)) return value.map((item) => substitute(path, key, item, addresses) as string);
  if (typeof value !== 'string') {
    throw new ConfigError(`key "coreos.etcd.${key}" in ${path} must be a value or a list of values, not ${JSON.stringify(value)}`);
  }
  let text = value;
  for (const variable of VARIABLES) {
    if (!text.includes(`$${variable.name}`)) continue;
    const address = variable.pick(addresses);
    if (address === null) {
      throw new ConfigError(`key "coreos.etcd.${key}" in ${path} uses $${variable.name}, but neither ${variable.flag} nor ${variable.env} is set`);
    }
    text = text.replaceAll(`$${variable.name}`, address);
  }
  return text;
}

function rawText(value: string | string[]): string {
  return Array.isArray(value) ? value.join(',') : value;
}

const TRUE_TEXT = new Set(['true', 't', '1']);
const FALSE_TEXT = new Set(['false', 'f', '0']);

function cloudValue(spec: OptionSpec, value: string | string[], origin: Origin): OptionValue {
  const raw = rawText(value);
  if (spec.kind === 'list') return Array.isArray(value) ? value.map((item) => item.trim()).filter((item) => item !== '') : splitList(value);
  if (Array.isArray(value)) throw invalidValue({ raw, origin }, 'expected one value, not a list');
  if (spec.kind !== 'bool') return valueFromText(spec.kind, value, origin);
  const lower = value.trim().toLowerCase();
  if (TRUE_TEXT.has(lower)) return true;
  if (FALSE_TEXT.has(lower)) return false;
  throw invalidValue({ raw, origin }, 'expected true or false');
}
