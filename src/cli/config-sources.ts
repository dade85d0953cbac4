/**
 * The three places settings come from — command-line flags (Go `flag` syntax), `ETCD_*`
 * environment variables and the TOML config file — each read into the same shape: a map
 * from canonical option name to a typed value plus where it came from (for messages).
 * Values are type-checked here (integers, booleans...); what they mean is checked in
 * config-resolve.ts, after the sources are merged.
 */
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from './config-types.js';
import { COMMAND_FLAGS, lookupFlag, OPTIONS, type OptionKind, type OptionSpec } from './config-options.js';

export type OptionValue = string | number | boolean | readonly string[];

export type Origin =
  | { readonly kind: 'flag'; readonly spelling: string }
  | { readonly kind: 'env'; readonly spelling: string }
  | { readonly kind: 'file'; readonly spelling: string; readonly path: string };

export interface GivenValue {
  readonly spec: OptionSpec;
  readonly value: OptionValue;
  /** The text as the user wrote it (for messages). */
  readonly raw: string;
  readonly origin: Origin;
}

/** One source's settings, keyed by canonical option name. */
export type SourceValues = Map<string, GivenValue>;

export function describeOrigin(origin: Origin): string {
  switch (origin.kind) {
    case 'flag':
      return `flag -${origin.spelling}`;
    case 'env':
      return origin.spelling;
    case 'file':
      return `key "${origin.spelling}" in ${origin.path}`;
  }
}

export function invalidValue(given: { readonly raw: string; readonly origin: Origin }, reason: string): ConfigError {
  return new ConfigError(`invalid value "${given.raw}" for ${describeOrigin(given.origin)}: ${reason}`);
}

const INTEGER = /^[+-]?[0-9]+$/;
const FLOAT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
/** Go's strconv.ParseBool, which the flag package uses for `-flag=value`. */
const GO_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Reads a flag or environment string as `kind`; booleans are handled by the callers. */
export function valueFromText(kind: Exclude<OptionKind, 'bool'>, raw: string, origin: Origin): OptionValue {
  switch (kind) {
    case 'string':
      return raw;
    case 'list':
      return splitList(raw);
    case 'int': {
      const value = Number(raw);
      if (!INTEGER.test(raw) || !Number.isSafeInteger(value)) throw invalidValue({ raw, origin }, 'not an integer');
      return value;
    }
    case 'float': {
      if (!FLOAT.test(raw)) throw invalidValue({ raw, origin }, 'not a number');
      return Number(raw);
    }
  }
}

// ---------------------------------------------------------------- command line

export interface ParsedArgs {
  readonly command: 'help' | 'version' | null;
  readonly configPath: string | null;
  /** --cloud-config and the addresses its `$private_ipv4`/`$public_ipv4` stand for. */
  readonly cloudConfigPath: string | null;
  readonly privateIpv4: string | null;
  readonly publicIpv4: string | null;
  readonly values: SourceValues;
  readonly warnings: readonly string[];
}

interface ArgCursor {
  readonly argv: readonly string[];
  index: number;
}

interface FlagToken {
  readonly name: string;
  readonly inlineValue: string | null;
}

/** Splits `-name`, `--name`, `-name=value`, `--name=value` the way Go's flag package does. */
function readFlagToken(arg: string): FlagToken {
  const dashes = arg.startsWith('--') ? 2 : 1;
  const body = arg.slice(dashes);
  if (body === '' || body.startsWith('-') || body.startsWith('=')) {
    throw new ConfigError(`bad flag syntax: ${arg}`);
  }
  const equals = body.indexOf('=');
  if (equals < 0) return { name: body, inlineValue: null };
  return { name: body.slice(0, equals), inlineValue: body.slice(equals + 1) };
}

function readBoolFlag(token: FlagToken): boolean {
  if (token.inlineValue === null) return true;
  if (GO_TRUE.has(token.inlineValue)) return true;
  if (GO_FALSE.has(token.inlineValue)) return false;
  throw new ConfigError(`invalid boolean value "${token.inlineValue}" for -${token.name}: use true or false`);
}

/** A non-boolean flag takes `=value` or the next argument, whatever it looks like (as Go). */
function readFlagText(token: FlagToken, cursor: ArgCursor): string {
  if (token.inlineValue !== null) return token.inlineValue;
  const next = cursor.argv[cursor.index];
  if (next === undefined) throw new ConfigError(`flag needs an argument: -${token.name}`);
  cursor.index++;
  return next;
}

function isCommandFlag(name: string, names: readonly string[]): boolean {
  return names.includes(name);
}

/** Positional arguments are never meaningful to etcd; 2.x rejects them with this message. */
function rejectPositional(arg: string): never {
  throw new ConfigError(`'${arg}' is not a valid flag`);
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const cursor: ArgCursor = { argv, index: 0 };
  const values: SourceValues = new Map();
  const warnings: string[] = [];
  let help = false;
  let version = false;
  let configPath: string | null = null;
  let cloudConfigPath: string | null = null;
  let privateIpv4: string | null = null;
  let publicIpv4: string | null = null;
  while (cursor.index < argv.length) {
    const arg = argv[cursor.index++] as string;
    if (arg === '--') {
      const rest = argv[cursor.index];
      if (rest !== undefined) rejectPositional(rest);
      break;
    }
    if (arg.length < 2 || !arg.startsWith('-')) rejectPositional(arg);
    const token = readFlagToken(arg);
    if (isCommandFlag(token.name, COMMAND_FLAGS.help)) help = readBoolFlag(token);
    else if (isCommandFlag(token.name, COMMAND_FLAGS.version)) version = readBoolFlag(token);
    else if (isCommandFlag(token.name, COMMAND_FLAGS.config)) configPath = readFlagText(token, cursor);
    else if (isCommandFlag(token.name, COMMAND_FLAGS.cloudConfig)) cloudConfigPath = readFlagText(token, cursor);
    else if (isCommandFlag(token.name, COMMAND_FLAGS.privateIpv4)) privateIpv4 = readFlagText(token, cursor);
    else if (isCommandFlag(token.name, COMMAND_FLAGS.publicIpv4)) publicIpv4 = readFlagText(token, cursor);
    else readSettingFlag(token, cursor, values, warnings);
  }
  const command = version ? 'version' : help ? 'help' : null;
  return { command, configPath, cloudConfigPath, privateIpv4, publicIpv4, values, warnings: dedupe(warnings) };
}

function readSettingFlag(token: FlagToken, cursor: ArgCursor, values: SourceValues, warnings: string[]): void {
  const found = lookupFlag(token.name);
  if (found === undefined) throw new ConfigError(`flag provided but not defined: -${token.name}`);
  const { spec, deprecatedAlias } = found;
  if (deprecatedAlias !== null) warnings.push(`[deprecated] use -${spec.name}, not -${deprecatedAlias}`);
  const origin: Origin = { kind: 'flag', spelling: token.name };
  if (spec.kind === 'bool') {
    const value = readBoolFlag(token);
    values.set(spec.name, { spec, value, raw: String(value), origin });
    return;
  }
  const raw = readFlagText(token, cursor);
  // A repeated flag: the last one wins, as with Go's flag package.
  values.set(spec.name, { spec, value: valueFromText(spec.kind, raw, origin), raw, origin });
}

function dedupe(items: readonly string[]): string[] {
  return [...new Set(items)];
}

// ---------------------------------------------------------------- environment

/** 0.4.6: any value except `0` / `false` turns a boolean on. */
function envBool(raw: string): boolean {
  return !(raw === '0' || raw.toLowerCase() === 'false');
}

export interface ParsedEnv {
  readonly values: SourceValues;
  readonly warnings: readonly string[];
}

const KNOWN_ENV = new Set(OPTIONS.flatMap((spec) => spec.env));

export function parseEnv(env: Readonly<Record<string, string | undefined>>): ParsedEnv {
  const values: SourceValues = new Map();
  for (const spec of OPTIONS) {
    const set = spec.env.filter((name) => (env[name] ?? '') !== '');
    const first = set[0];
    if (first === undefined) continue;
    const raw = env[first] as string;
    const other = set.find((name) => env[name] !== raw);
    if (other !== undefined) {
      throw new ConfigError(`Set only one of ${first} and ${other} (they are the same setting)`);
    }
    const origin: Origin = { kind: 'env', spelling: first };
    const value = spec.kind === 'bool' ? envBool(raw) : valueFromText(spec.kind, raw, origin);
    values.set(spec.name, { spec, value, raw, origin });
  }
  const warnings = Object.keys(env)
    .filter((name) => name.startsWith('ETCD_') && !KNOWN_ENV.has(name))
    .sort()
    .map((name) => `unrecognized environment variable ${name} ignored`);
  return { values, warnings };
}

// ---------------------------------------------------------------- config file

export interface ParsedFile {
  readonly values: SourceValues;
  readonly warnings: readonly string[];
}

type TomlTable = { readonly [key: string]: unknown };

function isTable(value: unknown): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function tomlRaw(value: unknown): string {
  return Array.isArray(value) || isTable(value) ? JSON.stringify(value) : String(value);
}

/** TOML values must have the type of the Go field they filled in 0.4.6 (a string is not a number). */
function valueFromToml(spec: OptionSpec, value: unknown, origin: Origin): OptionValue {
  const raw = tomlRaw(value);
  const wrong = (expected: string): ConfigError => invalidValue({ raw, origin }, `expected ${expected}`);
  switch (spec.kind) {
    case 'string':
      if (typeof value !== 'string') throw wrong('a string');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw wrong('true or false');
      return value;
    case 'int':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw wrong('an integer');
      return value;
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrong('a number');
      return value;
    case 'list':
      if (typeof value === 'string') return splitList(value);
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw wrong('an array of strings');
      return value.map((item: string) => item.trim()).filter((item) => item !== '');
  }
}

const TOML_SPECS = OPTIONS.filter((spec) => spec.toml !== null);

function tomlKeyOf(spec: OptionSpec): string {
  return (spec.toml ?? []).join('.');
}

function lookupToml(table: TomlTable, path: readonly string[]): unknown {
  let node: unknown = table;
  for (const key of path) {
    if (!isTable(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** Keys 0.4.6 did not know: it ignored them silently; we ignore them with a warning. */
function unknownTomlKeys(table: TomlTable): string[] {
  const known = new Set(TOML_SPECS.map(tomlKeyOf));
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(table)) {
    if ((key === 'peer' || key === 'cluster') && isTable(value)) {
      for (const inner of Object.keys(value)) if (!known.has(`${key}.${inner}`)) unknown.push(`${key}.${inner}`);
    } else if (!known.has(key)) {
      unknown.push(key);
    }
  }
  return unknown;
}

export function parseConfigFile(path: string, text: string): ParsedFile {
  let table: TomlTable;
  try {
    table = parseToml(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(`cannot parse config file ${path}: ${reason}`);
  }
  const values: SourceValues = new Map();
  for (const spec of TOML_SPECS) {
    const found = lookupToml(table, spec.toml ?? []);
    if (found === undefined) continue;
    const origin: Origin = { kind: 'file', spelling: tomlKeyOf(spec), path };
    values.set(spec.name, { spec, value: valueFromToml(spec, found, origin), raw: tomlRaw(found), origin });
  }
  const warnings = unknownTomlKeys(table).map((key) => `unknown key "${key}" in config file ${path} ignored`);
  return { values, warnings };
}

// ---------------------------------------------------------------- per-source checks

function describeGroupMember(given: GivenValue): string {
  return given.origin.kind === 'flag' ? `-${given.spec.name}` : given.origin.spelling;
}

function pluralOf(origin: Origin): string {
  switch (origin.kind) {
    case 'flag':
      return 'flags';
    case 'env':
      return 'environment variables';
    case 'file':
      return 'keys';
  }
}

/**
 * Two spellings of one setting (0.4.6 `-addr` and 2.x `--advertise-client-urls`) in the
 * same source are ambiguous: refuse, in etcd 2.x's words.
 */
export function rejectGroupConflicts(values: SourceValues): void {
  const byGroup = new Map<string, GivenValue>();
  for (const given of values.values()) {
    const group = given.spec.group;
    if (group === null) continue;
    const earlier = byGroup.get(group);
    if (earlier === undefined) {
      byGroup.set(group, given);
      continue;
    }
    const where = given.origin.kind === 'file' ? ` in ${given.origin.path}` : '';
    const [first, second] = [earlier, given].map(describeGroupMember);
    throw new ConfigError(`Set only one of ${pluralOf(given.origin)} ${first} and ${second}${where}`);
  }
}
