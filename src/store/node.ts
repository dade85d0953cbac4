/**
 * The tree of the v2 key space. A node is a file (value) or a directory (children); both carry
 * their indexes and an optional absolute expiry. Children keep insertion order, which makes
 * unsorted listings deterministic across replicas (etcd's are random; clients must not care).
 */
import { assert } from '../common/assert.js';
import type { NodeJson } from './types.js';
import { addExpiry } from './render.js';
import { childKey, compareKeysBytewise, isHiddenName } from './path.js';

export class TreeNode {
  /** Position in the TTL heap, -1 when the node is permanent (maintained by TtlHeap only). */
  heapPosition = -1;

  constructor(
    /** Full clean key ("/a/b"); "/" for the root. */
    readonly key: string,
    /** Last path segment ("" for the root). */
    readonly name: string,
    public parent: TreeNode | null,
    /** Value of a file; unused ("") for a directory. */
    public value: string,
    /** Children of a directory by name; null for a file. */
    readonly children: Map<string, TreeNode> | null,
    readonly createdIndex: number,
    public modifiedIndex: number,
    /** Absolute expiry (ms since epoch) or null when permanent. */
    public expireAtMs: number | null,
  ) {
    assert(createdIndex <= modifiedIndex, () => `node ${key}: createdIndex ${createdIndex} > modifiedIndex ${modifiedIndex}`);
  }

  static file(parent: TreeNode, name: string, value: string, index: number, expireAtMs: number | null): TreeNode {
    return new TreeNode(childKey(parent.key, name), name, parent, value, null, index, index, expireAtMs);
  }

  static dir(parent: TreeNode | null, name: string, index: number, expireAtMs: number | null): TreeNode {
    const key = parent === null ? '/' : childKey(parent.key, name);
    return new TreeNode(key, name, parent, '', new Map(), index, index, expireAtMs);
  }

  get isDir(): boolean {
    return this.children !== null;
  }

  get isHidden(): boolean {
    return isHiddenName(this.name);
  }

  /** The node alone (a listed child, a prevNode): directories without their children. */
  renderShallow(nowMs: number): NodeJson {
    return this.render(false, false, nowMs, false);
  }

  /**
   * Render for a GET or a listing. `listChildren` is true for the node a GET names (one level of
   * children even without `recursive`); `recursive` lists the whole subtree. Hidden children are
   * never listed.
   */
  render(listChildren: boolean, recursive: boolean, nowMs: number, sorted: boolean): NodeJson {
    const json: NodeJson = { key: this.key };
    if (this.children === null) {
      json.value = this.value;
    } else {
      json.dir = true;
    }
    addExpiry(json, this.expireAtMs, nowMs);
    if (this.children !== null && (listChildren || recursive)) {
      const nodes = this.renderChildren(recursive, nowMs, sorted);
      if (nodes.length > 0) json.nodes = nodes;
    }
    if (this.modifiedIndex !== 0) json.modifiedIndex = this.modifiedIndex;
    if (this.createdIndex !== 0) json.createdIndex = this.createdIndex;
    return json;
  }

  private renderChildren(recursive: boolean, nowMs: number, sorted: boolean): NodeJson[] {
    assert(this.children !== null, 'renderChildren on a file');
    const nodes: NodeJson[] = [];
    for (const child of this.children.values()) {
      if (child.isHidden) continue;
      nodes.push(child.render(false, recursive, nowMs, sorted));
    }
    if (sorted) nodes.sort((a, b) => compareKeysBytewise(a.key ?? '', b.key ?? ''));
    return nodes;
  }

  /**
   * Visit this node's subtree, children before their directory (the order etcd removes them in).
   * Iterative: a hostile client can make the tree as deep as a key is long.
   */
  visitPostOrder(visit: (node: TreeNode) => void): void {
    const stack: { node: TreeNode; pending: Iterator<TreeNode> | null }[] = [
      { node: this, pending: this.children === null ? null : this.children.values() },
    ];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      assert(top !== undefined, 'stack is not empty');
      const next = top.pending === null ? undefined : top.pending.next();
      if (next === undefined || next.done === true) {
        stack.pop();
        visit(top.node);
        continue;
      }
      const child = next.value;
      stack.push({ node: child, pending: child.children === null ? null : child.children.values() });
    }
  }
}
