/**
 * `member list|add|remove` and `cluster-health`, with etcdctl 3.4's output (these commands do
 * not exist in 0.4.5). They use the /v2/members API and each member's /health.
 */
import { MembersApiError, TransportError, type EtcdClient, type EtcdMember } from '../client/index.js';
import type { Command, CommandContext } from './context.js';
import { UsageError } from './flags.js';

function describeMember(member: EtcdMember, leaderId: string | undefined): string {
  if (member.name === '') return `${member.id}[unstarted]: peerURLs=${member.peerURLs.join(',')}`;
  return `${member.id}: name=${member.name} peerURLs=${member.peerURLs.join(',')} clientURLs=${member.clientURLs.join(',')} isLeader=${member.id === leaderId}`;
}

async function memberList(ctx: CommandContext): Promise<number> {
  const client = await ctx.client();
  const members = await client.members();
  const leader = await client.leader();
  ctx.output.out(members.map((m) => `${describeMember(m, leader?.id)}\n`).join(''));
  return 0;
}

async function memberAdd(ctx: CommandContext): Promise<number> {
  const [, name, peerUrl, ...extra] = ctx.args;
  if (name === undefined || peerUrl === undefined || extra.length > 0) throw new UsageError('Provide a name and a single member peerURL');
  const client = await ctx.client();
  const added = await client.addMember(peerUrl.split(','));
  const members = await client.members();
  const initialCluster = members.flatMap((m) => m.peerURLs.map((url) => `${m.id === added.id ? name : m.name}=${url}`));
  ctx.output.out(
    `Added member named ${name} with ID ${added.id} to cluster\n\n` +
      `ETCD_NAME="${name}"\nETCD_INITIAL_CLUSTER="${initialCluster.join(',')}"\nETCD_INITIAL_CLUSTER_STATE="existing"\n`,
  );
  return 0;
}

async function memberRemove(ctx: CommandContext): Promise<number> {
  const [, id, ...extra] = ctx.args;
  if (id === undefined || extra.length > 0) throw new UsageError('Provide a single member ID');
  const client = await ctx.client();
  try {
    await client.removeMember(id);
  } catch (err) {
    if (err instanceof MembersApiError && err.httpStatus === 404) {
      ctx.output.err(`Couldn't find a member in the cluster with an ID of ${id}.\n`);
      return 1;
    }
    throw err;
  }
  ctx.output.out(`Removed member ${id} from cluster\n`);
  return 0;
}

const member: Command = {
  name: 'member',
  usage: 'member list | member add <name> <peerURL> | member remove <memberID>',
  description: 'member add, remove and list subcommands',
  flags: [],
  async run(ctx) {
    switch (ctx.args[0]) {
      case 'list':
        return memberList(ctx);
      case 'add':
        return memberAdd(ctx);
      case 'remove':
        return memberRemove(ctx);
      default:
        throw new UsageError('member needs a subcommand: list, add or remove');
    }
  },
};

/** One line per member; true when the member answered healthy. */
async function checkMember(client: EtcdClient, m: EtcdMember, lines: string[]): Promise<boolean> {
  if (m.clientURLs.length === 0) {
    lines.push(`member ${m.id} is unreachable: no available published client urls`);
    return false;
  }
  for (const url of m.clientURLs) {
    try {
      const healthy = await client.healthy(url);
      lines.push(`member ${m.id} is ${healthy ? 'healthy' : 'unhealthy'}: got ${healthy ? 'healthy' : 'unhealthy'} result from ${url}`);
      return healthy;
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
    }
  }
  lines.push(`member ${m.id} is unreachable: [${m.clientURLs.join(' ')}] are all unreachable`);
  return false;
}

const clusterHealthExitUnhealthy = 5;
const healthRepeatMs = 10_000;

const clusterHealth: Command = {
  name: 'cluster-health',
  usage: 'cluster-health',
  description: 'check the health of the etcd cluster',
  flags: [{ names: ['forever', 'f'], kind: 'bool', usage: 'forever check the health every 10 second until CTRL+C' }],
  async run(ctx) {
    const client = await ctx.client();
    for (;;) {
      const members = await client.members();
      const lines: string[] = [];
      let healthyCount = 0;
      for (const m of members) if (await checkMember(client, m, lines)) healthyCount++;
      const verdict = healthyCount === members.length ? 'healthy' : healthyCount === 0 ? 'unavailable' : 'degraded';
      ctx.output.out(lines.map((l) => `${l}\n`).join('') + `cluster is ${verdict}\n`);
      if (!ctx.flags.bool('forever')) return verdict === 'healthy' ? 0 : clusterHealthExitUnhealthy;
      await new Promise((resolve) => setTimeout(resolve, healthRepeatMs));
    }
  },
};

export const clusterCommands: readonly Command[] = [member, clusterHealth];
