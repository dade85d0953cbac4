/**
 * The safety checkers. They see every node's observable behaviour (hard states, persisted
 * entries, commits, applies, sent messages) and keep global records across the whole run,
 * including across crashes. A broken property throws SimViolation naming the property.
 */
import type { Entry, HardState, Message, NodeId } from '../../src/raft/types.js';
import { entryKey } from './app.js';
import type { DiskImage } from './disk.js';

export type CheckName =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'monotonic-term'
  | 'monotonic-commit'
  | 'one-vote-per-term'
  | 'durability'
  | 'read-index'
  | 'commit-rule'
  | 'liveness'
  | 'core-assertion'
  | 'sim-assertion';

export class SimViolation extends Error {
  override name = 'SimViolation';
  constructor(
    readonly check: CheckName,
    detail: string,
  ) {
    super(`${check}: ${detail}`);
  }
}

function fail(check: CheckName, detail: string): never {
  throw new SimViolation(check, detail);
}

/** A node's log as the checkers read it. */
export interface LogView {
  /** Term of the entry at index, or undefined when not held (compacted or beyond the end). */
  termAt(index: number): number | undefined;
  entryAt(index: number): Entry | undefined;
  lastIndex(): number;
  /** Highest index folded into the snapshot: entries at or below it are only in the state machine. */
  snapshotIndex(): number;
}

interface CommittedRecord {
  readonly term: number;
  readonly key: string;
  /** An upper bound of the term in which the entry was committed (min over observers' terms). */
  committedInTerm: number;
}

interface NodeMarks {
  maxTerm: number;
  maxCommit: number;
  maxSyncedTerm: number;
  maxSyncedCommit: number;
}

export class SafetyChecker {
  private leaderOfTerm = new Map<number, NodeId>();
  /** Log matching by induction: each (index, term) names one payload and one predecessor term. */
  private entryIdentity = new Map<string, { key: string; prevTerm: number }>();
  private committed = new Map<number, CommittedRecord>();
  private newlyCommitted: number[] = [];
  private appliedKey = new Map<number, string>();
  private digestAt = new Map<number, number>();
  private votesGranted = new Map<string, NodeId>();
  private marks = new Map<NodeId, NodeMarks>();
  maxCommitObserved = 0;
  checksRun = 0;

  constructor(
    private readonly checkDurability: boolean,
    private readonly checkCommitRule: boolean,
  ) {}

  /**
   * The commit rule (Raft §5.4.2): a leader advances its commit index by counting replicas only
   * onto an entry of its own term; older entries commit only indirectly, beneath such an entry.
   */
  onLeaderCommit(id: NodeId, term: number, commit: number, log: LogView): void {
    this.checksRun++;
    if (!this.checkCommitRule) return;
    const committedTerm = log.termAt(commit);
    if (committedTerm !== term) {
      fail('commit-rule', `leader ${id} of term ${term} advanced its commit to index ${commit}, an entry of term ${committedTerm ?? '(unknown)'}`);
    }
  }

  private marksOf(id: NodeId): NodeMarks {
    let m = this.marks.get(id);
    if (m === undefined) {
      m = { maxTerm: 0, maxCommit: 0, maxSyncedTerm: 0, maxSyncedCommit: 0 };
      this.marks.set(id, m);
    }
    return m;
  }

  /** A hard state the core handed out during one incarnation: term and commit never go back. */
  onHardState(id: NodeId, previous: HardState, next: HardState): void {
    this.checksRun++;
    if (next.term < previous.term) fail('monotonic-term', `node ${id} term went from ${previous.term} to ${next.term}`);
    if (next.commit < previous.commit) fail('monotonic-commit', `node ${id} commit went from ${previous.commit} to ${next.commit}`);
    if (next.term === previous.term && previous.vote !== '' && next.vote !== previous.vote) {
      fail('one-vote-per-term', `node ${id} changed its vote in term ${next.term} from ${previous.vote} to ${next.vote || '(none)'}`);
    }
    const m = this.marksOf(id);
    m.maxTerm = Math.max(m.maxTerm, next.term);
    m.maxCommit = Math.max(m.maxCommit, next.commit);
  }

  /** After an fsync and after a restart: the durable term and commit never go back, across crashes too. */
  onDurableState(id: NodeId, durable: HardState, when: string): void {
    this.checksRun++;
    const m = this.marksOf(id);
    if (durable.term < m.maxSyncedTerm) fail('monotonic-term', `node ${id} durable term ${durable.term} < ${m.maxSyncedTerm} once fsynced (${when})`);
    if (durable.commit < m.maxSyncedCommit) {
      fail('monotonic-commit', `node ${id} durable commit ${durable.commit} < ${m.maxSyncedCommit} once fsynced (${when})`);
    }
    m.maxSyncedTerm = durable.term;
    m.maxSyncedCommit = durable.commit;
  }

  /** At most one leader per term (Raft §5.2, Election Safety). */
  onLeader(id: NodeId, term: number): void {
    this.checksRun++;
    const existing = this.leaderOfTerm.get(term);
    if (existing !== undefined && existing !== id) fail('election-safety', `nodes ${existing} and ${id} both led term ${term}`);
    this.leaderOfTerm.set(term, id);
  }

  /** Entries just persisted by a node, checked for Log Matching (Raft §5.3) by induction. */
  onPersistedEntries(id: NodeId, entries: readonly Entry[], log: LogView): void {
    for (const e of entries) {
      this.checksRun++;
      const prevTerm = e.index === 1 ? 0 : log.termAt(e.index - 1);
      if (prevTerm === undefined) continue; // predecessor compacted: the snapshot check covers it
      const slot = `${e.index}/${e.term}`;
      const identity = { key: entryKey(e), prevTerm };
      const known = this.entryIdentity.get(slot);
      if (known === undefined) {
        this.entryIdentity.set(slot, identity);
      } else if (known.key !== identity.key || known.prevTerm !== identity.prevTerm) {
        fail('log-matching', `node ${id} holds index ${e.index} term ${e.term} as ${identity.key}/prev ${identity.prevTerm}; ` +
          `another log has ${known.key}/prev ${known.prevTerm}`);
      }
    }
  }

  /** A node's commit advanced: record what it committed; a committed entry never changes. */
  onCommitAdvance(id: NodeId, fromCommit: number, toCommit: number, nodeTerm: number, log: LogView): void {
    this.maxCommitObserved = Math.max(this.maxCommitObserved, toCommit);
    for (let i = fromCommit + 1; i <= toCommit; i++) {
      this.checksRun++;
      const e = log.entryAt(i);
      if (e === undefined) continue; // arrived inside a snapshot
      const known = this.committed.get(i);
      if (known === undefined) {
        this.committed.set(i, { term: e.term, key: entryKey(e), committedInTerm: nodeTerm });
        this.newlyCommitted.push(i);
        continue;
      }
      if (known.term !== e.term || known.key !== entryKey(e)) {
        fail('leader-completeness', `node ${id} committed index ${i} as term ${e.term} ${entryKey(e)}, ` +
          `but term ${known.term} ${known.key} was committed there before`);
      }
      if (nodeTerm < known.committedInTerm) {
        known.committedInTerm = nodeTerm;
        this.newlyCommitted.push(i);
      }
    }
  }

  /**
   * Leader Completeness (Raft §5.4): a leader of term T holds every entry committed in a term
   * before T. `full` checks the whole committed record (on taking office), else only what was
   * committed since the last step.
   */
  checkLeaderLog(id: NodeId, term: number, log: LogView, full: boolean): void {
    const indexes = full ? this.committed.keys() : this.newlyCommitted.values();
    for (const i of indexes) {
      this.checksRun++;
      const record = this.committed.get(i);
      if (record === undefined || record.committedInTerm >= term || i <= log.snapshotIndex()) continue;
      const held = log.entryAt(i);
      if (held === undefined || held.term !== record.term || entryKey(held) !== record.key) {
        fail('leader-completeness', `leader ${id} of term ${term} lacks index ${i} (term ${record.term}) ` +
          `committed in term ${record.committedInTerm}; it holds ${held === undefined ? 'nothing' : `term ${held.term}`}`);
      }
    }
  }

  endStep(): void {
    this.newlyCommitted = [];
  }

  /** State Machine Safety (Raft §5.4.3): every node applies the same entry at each index. */
  onApply(id: NodeId, entry: Entry, digestAfter: number): void {
    this.checksRun++;
    const key = `${entry.term}/${entryKey(entry)}`;
    const known = this.appliedKey.get(entry.index);
    if (known === undefined) this.appliedKey.set(entry.index, key);
    else if (known !== key) fail('state-machine-safety', `node ${id} applied ${key} at index ${entry.index}, another node applied ${known}`);
    this.checkDigest(id, entry.index, digestAfter);
  }

  /** A snapshot installed into a state machine must equal what the others applied up to there. */
  onRestore(id: NodeId, index: number, digest: number): void {
    this.checksRun++;
    this.checkDigest(id, index, digest);
  }

  private checkDigest(id: NodeId, index: number, digest: number): void {
    const known = this.digestAt.get(index);
    if (known === undefined) this.digestAt.set(index, digest);
    else if (known !== digest) fail('state-machine-safety', `node ${id} state at index ${index} has digest ${digest}, others ${known}`);
  }

  /**
   * A message leaves a node: it must promise nothing that is not fsynced (a granted vote, a term,
   * an acknowledged append), and no node grants two votes in one term.
   */
  onSend(m: Message, durable: DiskImage, log: LogView): void {
    this.checksRun++;
    if (m.type === 'MsgVoteResp' && !m.reject) this.recordVote(m);
    if (!this.checkDurability) return;
    const hs = durable.hardState;
    if (m.type !== 'MsgPreVote' && m.type !== 'MsgPreVoteResp' && m.term > hs.term) {
      fail('durability', `node ${m.from} sent ${m.type} at term ${m.term} with only term ${hs.term} fsynced`);
    }
    if ((m.type === 'MsgVoteResp' && !m.reject) || m.type === 'MsgVote') {
      const votedFor = m.type === 'MsgVote' ? m.from : m.to;
      if (hs.term !== m.term || hs.vote !== votedFor) {
        fail('durability', `node ${m.from} sent ${m.type} for ${votedFor} in term ${m.term}, fsynced state is term ${hs.term} vote '${hs.vote}'`);
      }
    }
    if (m.type === 'MsgAppResp' && !m.reject) this.checkAckDurable(m, durable, log);
  }

  private checkAckDurable(m: Message, durable: DiskImage, log: LogView): void {
    if (m.index <= durable.snapshot.metadata.index) return;
    const durableTerm = durable.termAt(m.index);
    const liveTerm = log.termAt(m.index);
    if (durableTerm === undefined || durableTerm !== liveTerm) {
      fail('durability', `node ${m.from} acknowledged index ${m.index} (term ${liveTerm}) but its fsynced log ` +
        `${durableTerm === undefined ? `ends at ${durable.lastIndex()}` : `has term ${durableTerm} there`}`);
    }
  }

  private recordVote(m: Message): void {
    const slot = `${m.from}/${m.term}`;
    const earlier = this.votesGranted.get(slot);
    if (earlier !== undefined && earlier !== m.to) fail('one-vote-per-term', `node ${m.from} granted votes to ${earlier} and ${m.to} in term ${m.term}`);
    this.votesGranted.set(slot, m.to);
  }

  /** A ReadIndex answer must cover every write committed before the read was asked. */
  onReadState(id: NodeId, ctx: string, readIndex: number, commitWhenAsked: number): void {
    this.checksRun++;
    if (readIndex < commitWhenAsked) {
      fail('read-index', `node ${id} got read index ${readIndex} for read ${ctx}, asked when index ${commitWhenAsked} was already committed`);
    }
  }

  /** How many terms had a leader. */
  leaderTermCount(): number {
    return this.leaderOfTerm.size;
  }

  committedCount(): number {
    return this.committed.size;
  }
}
