/**
 * The key commands: ls, get, set, mk, mkdir, setdir, update, updatedir, rm, rmdir.
 * Requests and printing follow etcdctl 0.4.5 (spec §15.2–§15.3); 3.4 spellings are accepted.
 */
import type { EtcdResponse } from '../client/index.js';
import { keyArg, ttlFlag, ttlOption, valueArg, type Command, type CommandContext } from './context.js';
import { printKey, printLs, printUnlessDir } from './format.js';

const ls: Command = {
  name: 'ls',
  usage: 'ls [key]',
  description: 'retrieve a directory',
  flags: [
    { names: ['recursive', 'r'], kind: 'bool', usage: 'returns all values for key and child keys' },
    { names: ['p'], kind: 'bool', usage: 'append slash (/) to directories' },
    { names: ['sort'], kind: 'bool', usage: 'returns result in sorted order' },
    { names: ['quorum', 'q'], kind: 'bool', usage: 'require quorum for get request' },
  ],
  async run(ctx) {
    const key = ctx.args[0] ?? '/';
    const client = await ctx.client();
    const res = await client.get(key, { recursive: ctx.flags.bool('recursive'), sorted: ctx.flags.bool('sort'), quorum: ctx.flags.bool('quorum') });
    printLs(res, ctx.flags.bool('p'), ctx.output);
    return 0;
  },
};

const get: Command = {
  name: 'get',
  usage: 'get <key>',
  description: 'retrieve the value of a key',
  flags: [
    { names: ['sort'], kind: 'bool', usage: 'returns result in sorted order' },
    { names: ['consistent'], kind: 'bool', usage: 'send request to the leader, thereby guranteeing that any earlier writes will be seen by the read' },
    { names: ['quorum', 'q'], kind: 'bool', usage: 'require quorum for get request' },
  ],
  async run(ctx) {
    const key = keyArg(ctx);
    const client = await ctx.client();
    const res = await client.get(key, { sorted: ctx.flags.bool('sort'), consistent: ctx.flags.bool('consistent'), quorum: ctx.flags.bool('quorum') });
    if (res.node.dir === true) {
      ctx.output.err(`${res.node.key}: is a directory\n`);
      return 1;
    }
    printKey(res, ctx.format, ctx.output);
    return 0;
  },
};

const set: Command = {
  name: 'set',
  usage: 'set <key> <value>',
  description: 'set the value of a key',
  flags: [
    ttlFlag,
    { names: ['swap-with-value'], kind: 'string', usage: 'previous value' },
    { names: ['swap-with-index'], kind: 'int', usage: 'previous index' },
  ],
  async run(ctx) {
    const key = keyArg(ctx);
    const value = await valueArg(ctx, 1);
    const prevValue = ctx.flags.string('swap-with-value');
    const prevIndex = ctx.flags.int('swap-with-index');
    const client = await ctx.client();
    const conditions = { ...(prevValue !== '' ? { prevValue } : {}), ...(prevIndex !== 0 ? { prevIndex } : {}) };
    const res = await client.set(key, value, { ...ttlOption(ctx), ...conditions });
    return printValue(ctx, res);
  },
};

/** printKey of 0.4.5: a directory here is unexpected and reported (exit 1). */
function printValue(ctx: CommandContext, res: EtcdResponse): number {
  if (res.node.dir === true) {
    ctx.output.err(`Cannot print key [${res.node.key}]: Is a directory\n`);
    return 1;
  }
  printKey(res, ctx.format, ctx.output);
  return 0;
}

const mk: Command = {
  name: 'mk',
  usage: 'mk <key> <value>',
  description: 'make a new key with a given value',
  flags: [ttlFlag, { names: ['in-order'], kind: 'bool', usage: 'create in-order key under directory <key>' }],
  async run(ctx) {
    const key = keyArg(ctx);
    const value = await valueArg(ctx, 1);
    const client = await ctx.client();
    const res = ctx.flags.bool('in-order') ? await client.createInOrder(key, value, ttlOption(ctx)) : await client.create(key, value, ttlOption(ctx));
    return printValue(ctx, res);
  },
};

const update: Command = {
  name: 'update',
  usage: 'update <key> <value>',
  description: 'update an existing key with a given value',
  flags: [ttlFlag],
  async run(ctx) {
    const key = keyArg(ctx);
    const value = await valueArg(ctx, 1);
    const client = await ctx.client();
    return printValue(ctx, await client.update(key, value, ttlOption(ctx)));
  },
};

/** mkdir/setdir/updatedir/rmdir print nothing on success (0.4.5 handleDir). */
function dirCommand(name: string, usage: string, description: string, op: (ctx: CommandContext, key: string) => Promise<unknown>, withTtl = true): Command {
  return {
    name,
    usage,
    description,
    flags: withTtl ? [ttlFlag] : [],
    async run(ctx) {
      await op(ctx, keyArg(ctx));
      return 0;
    },
  };
}

const mkdir = dirCommand('mkdir', 'mkdir <key>', 'make a new directory', async (ctx, key) => (await ctx.client()).mkdir(key, ttlOption(ctx)));
const setdir = dirCommand('setdir', 'setdir <key>', 'create a new or existing directory', async (ctx, key) => (await ctx.client()).setDir(key, ttlOption(ctx)));
const updatedir = dirCommand('updatedir', 'updatedir <key>', 'update an existing directory', async (ctx, key) => (await ctx.client()).updateDir(key, ttlOption(ctx)));
const rmdir = dirCommand('rmdir', 'rmdir <key>', 'removes the key if it is an empty directory or a key-value pair', async (ctx, key) => (await ctx.client()).rmdir(key), false);

const rm: Command = {
  name: 'rm',
  usage: 'rm <key>',
  description: 'remove a key',
  flags: [
    { names: ['dir'], kind: 'bool', usage: 'removes the key if it is an empty directory or a key-value pair' },
    { names: ['recursive', 'r'], kind: 'bool', usage: 'removes the key and all child keys(if it is a directory)' },
    { names: ['with-value'], kind: 'string', usage: 'previous value' },
    { names: ['with-index'], kind: 'int', usage: 'previous index' },
  ],
  async run(ctx) {
    const key = keyArg(ctx);
    const prevValue = ctx.flags.string('with-value');
    const prevIndex = ctx.flags.int('with-index');
    const client = await ctx.client();
    const recursive = ctx.flags.bool('recursive');
    const dir = ctx.flags.bool('dir');
    const res =
      prevValue !== '' || prevIndex !== 0
        ? await client.compareAndDelete(key, { ...(prevValue !== '' ? { prevValue } : {}), ...(prevIndex !== 0 ? { prevIndex } : {}) })
        : await client.delete(key, recursive || !dir ? { recursive } : { dir: true });
    printUnlessDir(res, ctx.format, ctx.output);
    return 0;
  },
};

export const keyCommands: readonly Command[] = [mk, mkdir, rm, rmdir, get, ls, set, setdir, update, updatedir];
