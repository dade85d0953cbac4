/** Deterministic one-line renderings of raft values for golden test output. */
import type { Entry, Message, Ready } from '../../src/raft/types.js';
import { decodeConfChange } from '../../src/raft/confchange.js';

export function describeData(data: Uint8Array): string {
  return JSON.stringify(new TextDecoder().decode(data));
}

export function describeEntry(e: Entry): string {
  if (e.type === 'confChange') {
    const cc = decodeConfChange(e.data);
    return `${e.term}/${e.index} ConfChange ${cc.type} ${cc.nodeId}`;
  }
  return `${e.term}/${e.index} ${describeData(e.data)}`;
}

export function describeEntries(entries: readonly Entry[]): string {
  return `[${entries.map(describeEntry).join(', ')}]`;
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  const ctx = m.context.byteLength > 0 ? ` ctx=${describeData(m.context)}` : '';
  switch (m.type) {
    case 'MsgApp':
      return `${head} log=${m.logTerm}/${m.index} commit=${m.commit} entries=${describeEntries(m.entries)}`;
    case 'MsgAppResp':
      return m.reject ? `${head} index=${m.index} rejected hint=${m.logTerm}/${m.rejectHint}` : `${head} index=${m.index}`;
    case 'MsgVote':
    case 'MsgPreVote':
      return `${head} log=${m.logTerm}/${m.index}${ctx}`;
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      return m.reject ? `${head} rejected` : head;
    case 'MsgHeartbeat':
      return `${head} commit=${m.commit}${ctx}`;
    case 'MsgSnap': {
      const meta = m.snapshot?.metadata;
      return `${head} snapshot=${meta?.term ?? 0}/${meta?.index ?? 0} voters=(${meta?.confState.voters.join(',') ?? ''})`;
    }
    case 'MsgProp':
      return `${head} entries=${describeEntries(m.entries)}`;
    case 'MsgReadIndexResp':
      return `${head} index=${m.index}${ctx}`;
    default:
      return `${head}${ctx}`;
  }
}

export function describeReady(rd: Ready): string[] {
  const lines: string[] = [];
  if (rd.softState) lines.push(`lead=${rd.softState.lead || '-'} state=${rd.softState.raftState}`);
  if (rd.hardState) lines.push(`hardState term=${rd.hardState.term} vote=${rd.hardState.vote || '-'} commit=${rd.hardState.commit}`);
  if (rd.entries.length > 0) lines.push(`entries: ${describeEntries(rd.entries)}`);
  if (rd.snapshot) lines.push(`snapshot: ${rd.snapshot.metadata.term}/${rd.snapshot.metadata.index} voters=(${rd.snapshot.metadata.confState.voters.join(',')})`);
  if (rd.committedEntries.length > 0) lines.push(`committed: ${describeEntries(rd.committedEntries)}`);
  for (const rs of rd.readStates) lines.push(`readState index=${rs.index} ctx=${describeData(rs.requestCtx)}`);
  for (const m of rd.messages) lines.push(`send ${describeMessage(m)}`);
  return lines;
}
