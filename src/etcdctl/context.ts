/**
 * What a command gets to work with: its arguments and flags, the output streams, stdin, and a
 * lazily created client (synced with the cluster unless --no-sync).
 */
import type { EtcdClient } from '../client/index.js';
import { Flags, UsageError, type FlagSpec } from './flags.js';
import type { Output } from './format.js';

export interface CommandContext {
  readonly args: readonly string[];
  /** Arguments after `--` (exec-watch's command line), undefined without `--`. */
  readonly afterDashDash: readonly string[] | undefined;
  readonly flags: Flags;
  readonly format: string;
  readonly output: Output;
  readStdin(): Promise<string>;
  client(): Promise<EtcdClient>;
}

export interface Command {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly usage: string;
  readonly description: string;
  readonly flags: readonly FlagSpec[];
  /** Resolves with the exit code. Errors thrown are reported by main (see exit codes there). */
  run(ctx: CommandContext): Promise<number>;
}

export const ttlFlag: FlagSpec = { names: ['ttl'], kind: 'int', usage: 'key time-to-live in seconds' };

/** The key argument, or a usage error ("Key required", exit 1). */
export function keyArg(ctx: CommandContext): string {
  const key = ctx.args[0];
  if (key === undefined) throw new UsageError('Key required');
  return key;
}

/** The value argument, else stdin (empty stdin is "Value required"). */
export async function valueArg(ctx: CommandContext, position: number): Promise<string> {
  const value = ctx.args[position];
  if (value !== undefined) return value;
  const text = await ctx.readStdin();
  if (text === '') throw new UsageError('Value required');
  return text;
}

/** `--ttl N`: 0 (the default) means no TTL is sent. */
export function ttlOption(ctx: CommandContext): { ttl?: number } {
  const ttl = ctx.flags.int('ttl');
  return ttl !== 0 ? { ttl } : {};
}
