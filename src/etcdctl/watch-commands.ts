/**
 * watch and exec-watch. A watch resumes from the index after the last event it saw, so events
 * are neither lost nor repeated across reconnects and failovers; exec-watch runs its command
 * once per event, one after the other, with ETCD_WATCH_* describing the event.
 */
import { spawn } from 'node:child_process';
import type { EtcdResponse } from '../client/index.js';
import { keyArg, type Command, type CommandContext } from './context.js';
import { UsageError } from './flags.js';
import { printUnlessDir } from './format.js';

/** `--after-index N` watches from N+1 (0 = from now). */
function waitIndexOption(ctx: CommandContext): { waitIndex?: number } {
  const after = ctx.flags.int('after-index');
  return after !== 0 ? { waitIndex: after + 1 } : {};
}

/** Thrown by a `watch --forever` that lost the cluster: 0.4.5 exits 255 then. */
export class WatchLostError extends Error {
  override name = 'WatchLostError';
  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

const watch: Command = {
  name: 'watch',
  usage: 'watch <key>',
  description: 'watch a key for changes',
  flags: [
    { names: ['forever', 'f'], kind: 'bool', usage: 'forever watch a key until CTRL+C' },
    { names: ['after-index'], kind: 'int', usage: 'watch after the given index' },
    { names: ['recursive', 'r'], kind: 'bool', usage: 'returns all values for key and child keys' },
  ],
  async run(ctx) {
    const key = keyArg(ctx);
    const client = await ctx.client();
    const options = { recursive: ctx.flags.bool('recursive'), ...waitIndexOption(ctx) };
    if (!ctx.flags.bool('forever')) {
      printUnlessDir(await client.watch(key, options), ctx.format, ctx.output);
      return 0;
    }
    try {
      for await (const event of client.watchStream(key, options)) printUnlessDir(event, ctx.format, ctx.output);
    } catch (err) {
      throw new WatchLostError(err);
    }
    return 0;
  },
};

function runSequentially(command: readonly string[], event: EtcdResponse): Promise<void> {
  const [file, ...args] = command;
  return new Promise((resolve) => {
    const child = spawn(file ?? '', args, {
      stdio: 'inherit',
      env: {
        ...process.env,
        ETCD_WATCH_ACTION: event.action,
        ETCD_WATCH_MODIFIED_INDEX: String(event.node.modifiedIndex),
        ETCD_WATCH_KEY: event.node.key,
        ETCD_WATCH_VALUE: event.node.value ?? '',
      },
    });
    child.once('error', (err) => {
      process.stderr.write(`${err.message}\n`);
      resolve();
    });
    child.once('exit', () => resolve());
  });
}

/** `<key> -- <cmd...>` (any flag position), or without `--`: `<key> <cmd...>`. */
function keyAndCommand(ctx: CommandContext): { key: string; command: readonly string[] } {
  const dashed = ctx.afterDashDash;
  const key = ctx.args[0];
  const command = dashed !== undefined ? [...ctx.args.slice(1), ...dashed] : ctx.args.slice(1);
  if (key === undefined || command.length === 0) throw new UsageError('Key and command to exec required');
  return { key, command };
}

const execWatch: Command = {
  name: 'exec-watch',
  usage: 'exec-watch <key> -- <command> [args...]',
  description: 'watch a key for changes and exec an executable',
  flags: [
    { names: ['after-index'], kind: 'int', usage: 'watch after the given index' },
    { names: ['recursive', 'r'], kind: 'bool', usage: 'watch all values for key and child keys' },
  ],
  async run(ctx) {
    const { key, command } = keyAndCommand(ctx);
    const client = await ctx.client();
    const options = { recursive: ctx.flags.bool('recursive'), ...waitIndexOption(ctx) };
    try {
      for await (const event of client.watchStream(key, options)) await runSequentially(command, event);
    } catch (err) {
      throw new WatchLostError(err);
    }
    return 0;
  },
};

export const watchCommands: readonly Command[] = [watch, execWatch];
