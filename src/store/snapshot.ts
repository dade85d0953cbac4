/**
 * Snapshot encoding of the store (spec §16): every node with its indexes and absolute expiry, the
 * current index, the counters and the event history. JSON, with the tree flattened parent-first
 * so that neither encoding nor decoding recurses (a tree can be as deep as a key is long).
 */
import { assert } from '../common/assert.js';
import type { HistoryEntry } from './history.js';
import { TreeNode } from './node.js';
import { childKey } from './path.js';
import { zeroCounters, type CounterName, type WriteCounters } from './stats.js';
import type { EventJson } from './types.js';

const formatVersion = 2;

/**
 * [parent's position in the list (0 = root, records count from 1), name, value (null for a
 * directory), createdIndex, modifiedIndex, expireAtMs]. Names rather than full keys keep a deep
 * tree's snapshot linear in its size.
 */
type NodeRecord = [number, string, string | null, number, number, number | null];
/** [event json, index, created, refresh] */
type EventRecord = [EventJson, number, boolean, boolean];

interface SnapshotJson {
  version: number;
  index: number;
  counters: WriteCounters;
  nodes: NodeRecord[];
  history: EventRecord[];
}

export interface StoreState {
  readonly index: number;
  readonly counters: WriteCounters;
  readonly root: TreeNode;
  readonly history: readonly HistoryEntry[];
}

export function encodeSnapshot(state: StoreState): Uint8Array {
  const nodes: NodeRecord[] = [];
  const pending: { node: TreeNode; parentOrdinal: number }[] = [{ node: state.root, parentOrdinal: -1 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { node, parentOrdinal } = item;
    if (node !== state.root) {
      nodes.push([parentOrdinal, node.name, node.isDir ? null : node.value, node.createdIndex, node.modifiedIndex, node.expireAtMs]);
    }
    const ordinal = nodes.length; // the root is 0, the n-th record is n
    if (node.children !== null) {
      // Reverse so that popping restores insertion order: listings stay in the same order after recovery.
      const children = Array.from(node.children.values());
      for (let i = children.length - 1; i >= 0; i--) pending.push({ node: children[i] as TreeNode, parentOrdinal: ordinal });
    }
  }
  const history: EventRecord[] = state.history.map((entry) => [entry.event.json, entry.event.index, entry.event.created, entry.refresh]);
  const json: SnapshotJson = { version: formatVersion, index: state.index, counters: state.counters, nodes, history };
  return new TextEncoder().encode(JSON.stringify(json));
}

export function decodeSnapshot(data: Uint8Array): StoreState {
  const parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data)) as SnapshotJson;
  assert(parsed.version === formatVersion, () => `store snapshot: unknown format version ${String(parsed.version)}`);
  assert(Number.isSafeInteger(parsed.index) && parsed.index >= 0, 'store snapshot: bad index');
  const counters = zeroCounters();
  for (const name of Object.keys(counters) as CounterName[]) {
    const value = parsed.counters[name];
    assert(Number.isSafeInteger(value), () => `store snapshot: bad counter ${name}`);
    counters[name] = value;
  }
  const root = TreeNode.dir(null, '', 0, null);
  const byOrdinal: TreeNode[] = [root];
  for (const [parentOrdinal, name, value, createdIndex, modifiedIndex, expireAtMs] of parsed.nodes) {
    const parent = byOrdinal[parentOrdinal];
    assert(parent !== undefined && parent.children !== null && !parent.children.has(name), () => `store snapshot: bad parent for ${name}`);
    const key = childKey(parent.key, name);
    const node =
      value === null
        ? new TreeNode(key, name, parent, '', new Map(), createdIndex, modifiedIndex, expireAtMs)
        : new TreeNode(key, name, parent, value, null, createdIndex, modifiedIndex, expireAtMs);
    parent.children.set(name, node);
    byOrdinal.push(node);
  }
  const history: HistoryEntry[] = parsed.history.map(([json, index, created, refresh]) => ({ event: { json, index, created }, refresh }));
  return { index: parsed.index, counters, root, history };
}
