/**
 * Command-line parsing the way etcdctl users type it: global options before the command,
 * command options before or after the positional arguments, `-flag` and `--flag` alike,
 * `--flag=value` or `--flag value`, repeatable list flags, and `--` ending option parsing
 * (everything after it is positional: exec-watch's command, or a value that starts with `-`).
 */

export type FlagKind = 'bool' | 'string' | 'int' | 'list';

export interface FlagSpec {
  /** Long name first, then aliases (`['recursive', 'r']`). */
  readonly names: readonly string[];
  readonly kind: FlagKind;
  readonly usage: string;
}

export type FlagValue = boolean | string | number | string[];

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedFlags {
  readonly values: Map<string, FlagValue>;
  readonly positionals: string[];
  /** Arguments after `--`, or undefined when there was no `--`. */
  readonly afterDashDash: string[] | undefined;
}

function findSpec(specs: readonly FlagSpec[], name: string): FlagSpec | undefined {
  return specs.find((spec) => spec.names.includes(name));
}

function parseBool(text: string, flag: string): boolean {
  if (/^(1|t|true)$/i.test(text)) return true;
  if (/^(0|f|false)$/i.test(text)) return false;
  throw new UsageError(`invalid boolean value "${text}" for flag -${flag}`);
}

function parseInt10(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`invalid value "${text}" for flag -${flag}: parse error`);
  return Number(text);
}

/** Splits `--name=value` / `-name` into the bare name and the inline value. */
function splitFlag(token: string): { name: string; inline: string | undefined } {
  const body = token.replace(/^--?/, '');
  const eq = body.indexOf('=');
  return eq < 0 ? { name: body, inline: undefined } : { name: body.slice(0, eq), inline: body.slice(eq + 1) };
}

export function isFlagToken(token: string): boolean {
  return token.length > 1 && token.startsWith('-') && token !== '--';
}

/**
 * Parses `args` against `specs`. With `stopAtPositional`, parsing ends at the first positional
 * argument (global options end where the command name starts).
 */
export function parseFlags(args: readonly string[], specs: readonly FlagSpec[], stopAtPositional: boolean): ParsedFlags & { rest: string[] } {
  const values = new Map<string, FlagValue>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const token = args[i] ?? '';
    if (token === '--') {
      return { values, positionals, afterDashDash: args.slice(i + 1), rest: [] };
    }
    if (!isFlagToken(token)) {
      if (stopAtPositional) return { values, positionals, afterDashDash: undefined, rest: args.slice(i) };
      positionals.push(token);
      continue;
    }
    const { name, inline } = splitFlag(token);
    const spec = findSpec(specs, name);
    if (spec === undefined) throw new UsageError(`flag provided but not defined: -${name}`);
    const key = spec.names[0] ?? name;
    if (spec.kind === 'bool') {
      values.set(key, inline === undefined ? true : parseBool(inline, name));
      continue;
    }
    let text = inline;
    if (text === undefined) {
      i++;
      text = args[i];
      if (text === undefined) throw new UsageError(`flag needs an argument: -${name}`);
    }
    setValue(values, key, spec.kind, text, name);
  }
  return { values, positionals, afterDashDash: undefined, rest: [] };
}

function setValue(values: Map<string, FlagValue>, key: string, kind: FlagKind, text: string, name: string): void {
  switch (kind) {
    case 'string':
      values.set(key, text);
      return;
    case 'int':
      values.set(key, parseInt10(text, name));
      return;
    case 'list': {
      const previous = values.get(key);
      const list = Array.isArray(previous) ? previous : [];
      list.push(...text.split(',').map((s) => s.trim()).filter((s) => s !== ''));
      values.set(key, list);
      return;
    }
    case 'bool':
      values.set(key, parseBool(text, name));
      return;
  }
}

/** Typed reads of parsed flags. */
export class Flags {
  constructor(private readonly values: ReadonlyMap<string, FlagValue>) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  bool(name: string): boolean {
    return this.values.get(name) === true;
  }

  string(name: string, fallback = ''): string {
    const value = this.values.get(name);
    return typeof value === 'string' ? value : fallback;
  }

  int(name: string, fallback = 0): number {
    const value = this.values.get(name);
    return typeof value === 'number' ? value : fallback;
  }

  list(name: string): string[] {
    const value = this.values.get(name);
    return Array.isArray(value) ? value : [];
  }
}

/**
 * A Go duration (`2s`, `500ms`, `1m30s`) or a bare number of seconds, in milliseconds.
 */
export function parseDurationMs(text: string, flag: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match !== null; match = part.exec(text)) {
    total += Number(match[1]) * (unitMs[match[2] ?? ''] ?? 0);
    consumed = part.lastIndex;
  }
  if (consumed !== text.length || text === '' || total <= 0) throw new UsageError(`invalid value "${text}" for flag -${flag}: invalid duration`);
  return total;
}
