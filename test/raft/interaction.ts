/**
 * Interpreter of the scripted interaction format (test/raft/testdata/*.txt).
 *
 *   # comment lines (kept in place)
 *   > command arg key=value ...
 *     golden output, indented two spaces
 *
 * Commands:
 *   add-nodes N [voters=1,2,3] [learners=] [pre-vote=true] [check-quorum=true] [election=10]
 *             [heartbeat=1] [read-only=safe|leaseBased] [inflight=256] [max-msg-bytes=N] [seed=N]
 *             [bug=commit-old-term|second-vote]
 *   campaign ID | propose ID TEXT | propose-conf-change ID add|remove|add-learner NODE
 *   read-index ID CTX | transfer-leadership FROM TO | report-unreachable ID PEER
 *   process-ready [IDS] | deliver-msgs [to=IDS] [drop=IDS|all] | stabilize [IDS]
 *   tick-election IDS | tick-heartbeat IDS | tick IDS n=N
 *   raft-log ID | raft-state | status ID | applied ID | read-states ID
 *   partition 1,2|3,4,5 | isolate ID | cut FROM TO | heal | compact ID INDEX | restart ID
 *
 * Sent messages queue up until delivered; a message crossing a cut link is dropped when it is
 * delivered (and shown as `dropped:`). `stabilize IDS` lets only IDS handle readies and receive
 * messages; messages to other nodes stay queued. `tick-election` ticks a follower exactly to its
 * randomised timeout and a leader through one election timeout (one check-quorum round).
 */
import { MemoryStorage } from '../../src/raft/memory-storage.js';
import { ProposalDroppedError } from '../../src/raft/raft.js';
import type { ConfChangeType, Entry, NodeId } from '../../src/raft/types.js';
import { describeEntry, describeMessage, describeReady, describeData } from './describe.js';
import { Network, TestNode, type NodeOptions } from './network.js';

export interface Command {
  readonly name: string;
  readonly args: readonly string[];
  readonly kv: ReadonlyMap<string, string>;
}

export function parseCommand(line: string): Command {
  const words = line.trim().split(/\s+/);
  const [name = '', ...rest] = words;
  const args: string[] = [];
  const kv = new Map<string, string>();
  for (const w of rest) {
    const eq = w.indexOf('=');
    if (eq > 0) kv.set(w.slice(0, eq), w.slice(eq + 1));
    else args.push(w);
  }
  return { name, args, kv };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const list = (s: string | undefined): NodeId[] => (s === undefined || s === '' ? [] : s.split(','));

type Runner = (cmd: Command) => string[];

export class InteractionEnv {
  readonly net = new Network();
  private readonly commands: Record<string, Runner> = {
    'add-nodes': (c) => this.addNodes(c),
    campaign: (c) => this.each(c.args, (id) => this.net.raw(id).campaign()),
    propose: (c) => this.propose(c),
    'propose-conf-change': (c) => this.proposeConfChange(c),
    'read-index': (c) => this.dropping(() => this.net.raw(this.arg(c, 0)).readIndex(enc(this.arg(c, 1)))),
    'transfer-leadership': (c) => this.each([this.arg(c, 0)], (id) => this.net.raw(id).transferLeader(this.arg(c, 1))),
    'report-unreachable': (c) => this.each([this.arg(c, 0)], (id) => this.net.raw(id).reportUnreachable(this.arg(c, 1))),
    'process-ready': (c) => this.processReady(c),
    'deliver-msgs': (c) => this.deliver(c),
    stabilize: (c) => this.stabilize(c),
    'tick-election': (c) => this.each(this.ids(c), (id) => this.tickElection(id)),
    'tick-heartbeat': (c) => this.each(this.ids(c), (id) => this.net.tick(id, this.heartbeatTicks(id))),
    tick: (c) => this.each(this.ids(c), (id) => this.net.tick(id, Number(c.kv.get('n') ?? '1'))),
    'raft-log': (c) => this.raftLog(this.arg(c, 0)),
    'raft-state': () => this.net.ids().map((id) => this.stateLine(id)),
    status: (c) => this.status(this.arg(c, 0)),
    applied: (c) => [`${this.arg(c, 0)}: ${JSON.stringify(this.net.get(this.arg(c, 0)).state())}`],
    'read-states': (c) => this.net.get(this.arg(c, 0)).readStates.splice(0).map((s) => `index=${s.index} ctx=${describeData(s.requestCtx)}`),
    partition: (c) => this.silently(() => this.net.partition(this.arg(c, 0).split('|').map((g) => list(g)))),
    isolate: (c) => this.silently(() => this.net.isolate(this.arg(c, 0))),
    cut: (c) => this.silently(() => this.net.cut(this.arg(c, 0), this.arg(c, 1))),
    heal: () => this.silently(() => this.net.heal()),
    compact: (c) => this.compact(c),
    restart: (c) => this.restart(this.arg(c, 0)),
  };

  run(line: string): string[] {
    const cmd = parseCommand(line);
    const runner = this.commands[cmd.name];
    if (runner === undefined) throw new Error(`unknown command '${cmd.name}'`);
    return runner(cmd);
  }

  private arg(c: Command, i: number): string {
    const v = c.args[i];
    if (v === undefined) throw new Error(`${c.name}: missing argument ${i + 1}`);
    return v;
  }

  private ids(c: Command): NodeId[] {
    return c.args.length > 0 ? c.args.flatMap((a) => list(a)) : this.net.ids();
  }

  private each(ids: readonly NodeId[], act: (id: NodeId) => void): string[] {
    for (const id of ids) act(id);
    return [];
  }

  private silently(act: () => void): string[] {
    act();
    return [];
  }

  private dropping(act: () => void): string[] {
    try {
      act();
      return [];
    } catch (err) {
      if (err instanceof ProposalDroppedError) return ['dropped'];
      throw err;
    }
  }

  private addNodes(c: Command): string[] {
    const count = Number(this.arg(c, 0));
    const existing = this.net.ids().map(Number);
    const start = existing.length === 0 ? 1 : Math.max(...existing) + 1;
    const ids = Array.from({ length: count }, (_, i) => String(start + i));
    const voters = c.kv.has('voters') ? list(c.kv.get('voters')) : existing.length === 0 ? ids : [];
    const learners = list(c.kv.get('learners'));
    const bug = c.kv.get('bug');
    const options: NodeOptions = {
      seed: Number(c.kv.get('seed') ?? '1'),
      preVote: (c.kv.get('pre-vote') ?? 'true') === 'true',
      checkQuorum: (c.kv.get('check-quorum') ?? 'true') === 'true',
      electionTicks: Number(c.kv.get('election') ?? '10'),
      heartbeatTicks: Number(c.kv.get('heartbeat') ?? '1'),
      readOnlyOption: c.kv.get('read-only') === 'leaseBased' ? 'leaseBased' : 'safe',
      maxInflightMsgs: Number(c.kv.get('inflight') ?? '256'),
      maxSizePerMsgBytes: Number(c.kv.get('max-msg-bytes') ?? String(1024 * 1024)),
      testingBugs: { commitOldTermByCounting: bug === 'commit-old-term', grantSecondVoteInTerm: bug === 'second-vote' },
    };
    for (const id of ids) this.net.nodes.set(id, new TestNode(id, new MemoryStorage({ voters, learners }), options));
    return ids.map((id) => `${id}: voters=(${voters.join(',')}) learners=(${learners.join(',')})`);
  }

  private propose(c: Command): string[] {
    return this.dropping(() => this.net.propose(this.arg(c, 0), this.arg(c, 1)));
  }

  private proposeConfChange(c: Command): string[] {
    const types: Record<string, ConfChangeType> = { add: 'addNode', remove: 'removeNode', 'add-learner': 'addLearner' };
    const type = types[this.arg(c, 1)];
    if (type === undefined) throw new Error(`propose-conf-change: unknown type ${this.arg(c, 1)}`);
    return this.dropping(() => this.net.raw(this.arg(c, 0)).proposeConfChange({ type, nodeId: this.arg(c, 2), context: new Uint8Array() }));
  }

  private processReady(c: Command): string[] {
    const out: string[] = [];
    this.net.processReady(this.ids(c), (id, rd) => out.push(`${id} ready:`, ...describeReady(rd).map((l) => `  ${l}`)));
    return out;
  }

  private deliver(c: Command): string[] {
    const to = c.kv.has('to') ? list(c.kv.get('to')) : undefined;
    const dropSpec = c.kv.get('drop');
    const dropTo = dropSpec === 'all' ? undefined : list(dropSpec);
    const drop = dropSpec === undefined ? undefined : (m: { to: NodeId }) => dropTo === undefined || dropTo.includes(m.to);
    return this.net.deliver(to, drop).map(([m, ok]) => `${ok ? '' : 'dropped: '}${describeMessage(m)}`);
  }

  private stabilize(c: Command): string[] {
    const out: string[] = [];
    const ids = this.ids(c);
    for (let round = 0; round < 1000; round++) {
      const readied = this.net.processReady(ids, (id, rd) => out.push(`${id} ready:`, ...describeReady(rd).map((l) => `  ${l}`)));
      const pending = this.net.inflight.some((m) => ids.includes(m.to));
      if (!readied && !pending) return out;
      for (const [m, ok] of this.net.deliver(ids)) if (!ok) out.push(`dropped: ${describeMessage(m)}`);
    }
    throw new Error('stabilize: no quiescence after 1000 rounds');
  }

  private tickElection(id: NodeId): void {
    const r = this.net.raw(id).raft;
    const timeout = r.state === 'leader' ? this.electionTicks(id) : r.randomizedElectionTicks;
    this.net.tick(id, Math.max(1, timeout - r.electionElapsed));
  }

  private electionTicks(id: NodeId): number {
    return this.net.get(id).options.electionTicks ?? 10;
  }

  private heartbeatTicks(id: NodeId): number {
    return this.net.get(id).options.heartbeatTicks ?? 1;
  }

  private stateLine(id: NodeId): string {
    const st = this.net.raw(id).status();
    const hs = st.hardState;
    return `${id}: ${st.softState.raftState} term=${hs.term} vote=${hs.vote || '-'} lead=${st.softState.lead || '-'} commit=${hs.commit} applied=${st.applied} last=${st.lastIndex} voters=(${st.confState.voters.join(',')})${st.confState.learners.length > 0 ? ` learners=(${st.confState.learners.join(',')})` : ''}`;
  }

  private raftLog(id: NodeId): string[] {
    const r = this.net.raw(id).raft;
    const log = r.raftLog;
    const entries: Entry[] = log.lastIndex() >= log.firstIndex() ? log.slice(log.firstIndex(), log.lastIndex() + 1, Infinity) : [];
    const header = `${id}: first=${log.firstIndex()} last=${log.lastIndex()} committed=${log.committed} applied=${log.applied}`;
    return [header, ...entries.map((e) => `  ${describeEntry(e)}`)];
  }

  private status(id: NodeId): string[] {
    const st = this.net.raw(id).status();
    if (st.progress.size === 0) return [`${id}: not leader (${st.softState.raftState})`];
    return [...st.progress].map(([pid, p]) =>
      `${pid}: match=${p.match} next=${p.next} ${p.state}${p.isLearner ? ' learner' : ''}${p.inflight > 0 ? ` inflight=${p.inflight}` : ''}${p.recentActive ? ' active' : ''}`,
    );
  }

  private compact(c: Command): string[] {
    const node = this.net.get(this.arg(c, 0));
    node.compact(Number(this.arg(c, 1)));
    return this.raftLog(node.id).slice(0, 1);
  }

  private restart(id: NodeId): string[] {
    this.net.inflight = this.net.inflight.filter((m) => m.to !== id);
    this.net.get(id).restart();
    return [this.stateLine(id)];
  }
}

export interface ScriptBlock {
  readonly comments: readonly string[];
  readonly command: string;
  readonly expected: readonly string[];
}

/** Splits a script into blocks; output lines are stored without their two-space indent. */
export function parseScript(text: string): ScriptBlock[] {
  const blocks: { comments: string[]; command: string; expected: string[] }[] = [];
  let comments: string[] = [];
  for (const raw of text.split('\n')) {
    if (raw.startsWith('> ')) {
      blocks.push({ comments, command: raw.slice(2), expected: [] });
      comments = [];
    } else if (raw.startsWith('#')) {
      comments.push(raw);
    } else if (raw.startsWith('  ')) {
      const last = blocks[blocks.length - 1];
      if (last === undefined) throw new Error(`output line before any command: ${raw}`);
      last.expected.push(raw.slice(2));
    } else if (raw.trim() !== '') {
      throw new Error(`unrecognised line: ${raw}`);
    }
  }
  return blocks;
}

export function renderScript(blocks: readonly ScriptBlock[]): string {
  const parts = blocks.map((b) => [...b.comments, `> ${b.command}`, ...b.expected.map((l) => `  ${l}`)].join('\n'));
  return `${parts.join('\n\n')}\n`;
}
