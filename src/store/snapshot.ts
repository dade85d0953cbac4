/**
 * Snapshot encoding of the store (spec §16): every node with its indexes and absolute expiry, the
 * current index, the counters and the event history. JSON, with the tree flattened parent-first
 * so that neither encoding nor decoding recurses (a tree can be as deep as a key is long).
 */
import { assert } from '../common/assert.js';
import type { HistoryEntry } from './history.js';
import { TreeNode } from './node.js';
import { parentKey } from './path.js';
import { zeroCounters, type CounterName, type WriteCounters } from './stats.js';
import type { EventJson } from './types.js';

const formatVersion = 1;

/** [key, value (null for a directory), createdIndex, modifiedIndex, expireAtMs] */
type NodeRecord = [string, string | null, number, number, number | null];
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
  const pending: TreeNode[] = [state.root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node !== state.root) {
      nodes.push([node.key, node.isDir ? null : node.value, node.createdIndex, node.modifiedIndex, node.expireAtMs]);
    }
    if (node.children !== null) {
      // Reverse so that popping restores insertion order: listings stay in the same order after recovery.
      const children = Array.from(node.children.values());
      for (let i = children.length - 1; i >= 0; i--) pending.push(children[i] as TreeNode);
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
  const dirs = new Map<string, TreeNode>([['/', root]]);
  for (const [key, value, createdIndex, modifiedIndex, expireAtMs] of parsed.nodes) {
    const parent = dirs.get(parentKey(key));
    assert(parent !== undefined && parent.children !== null, () => `store snapshot: ${key} has no parent directory`);
    const name = key.slice(key.lastIndexOf('/') + 1);
    const node =
      value === null
        ? new TreeNode(key, name, parent, '', new Map(), createdIndex, modifiedIndex, expireAtMs)
        : new TreeNode(key, name, parent, value, null, createdIndex, modifiedIndex, expireAtMs);
    parent.children.set(name, node);
    if (value === null) dirs.set(key, node);
  }
  const history: HistoryEntry[] = parsed.history.map(([json, index, created, refresh]) => ({ event: { json, index, created }, refresh }));
  return { index: parsed.index, counters, root, history };
}
