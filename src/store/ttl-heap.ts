/**
 * Min-heap of the nodes that have an expiry, ordered by (expireAtMs, key). The key breaks ties so
 * that every replica — including one rebuilt from a snapshot, whose heap was filled in a different
 * order — expires simultaneous nodes in the same order and so gives them the same indexes.
 */
import { assert } from '../common/assert.js';
import type { TreeNode } from './node.js';
import { compareKeysBytewise } from './path.js';

export class TtlHeap {
  private readonly nodes: TreeNode[] = [];

  get size(): number {
    return this.nodes.length;
  }

  top(): TreeNode | null {
    return this.nodes[0] ?? null;
  }

  push(node: TreeNode): void {
    assert(node.expireAtMs !== null, () => `ttl heap: ${node.key} is permanent`);
    assert(node.heapPosition === -1, () => `ttl heap: ${node.key} already queued`);
    node.heapPosition = this.nodes.length;
    this.nodes.push(node);
    this.siftUp(node.heapPosition);
  }

  remove(node: TreeNode): void {
    const position = node.heapPosition;
    assert(position >= 0 && this.nodes[position] === node, () => `ttl heap: ${node.key} not queued`);
    const last = this.nodes.pop();
    assert(last !== undefined, 'heap not empty');
    node.heapPosition = -1;
    if (last === node) return;
    this.nodes[position] = last;
    last.heapPosition = position;
    this.siftUp(position);
    this.siftDown(last.heapPosition);
  }

  /** Re-position a queued node after its expireAtMs changed. */
  update(node: TreeNode): void {
    assert(node.heapPosition >= 0, () => `ttl heap: ${node.key} not queued`);
    this.siftUp(node.heapPosition);
    this.siftDown(node.heapPosition);
  }

  private before(a: TreeNode, b: TreeNode): boolean {
    const aMs = a.expireAtMs ?? 0;
    const bMs = b.expireAtMs ?? 0;
    if (aMs !== bMs) return aMs < bMs;
    return compareKeysBytewise(a.key, b.key) < 0;
  }

  private siftUp(start: number): void {
    let position = start;
    const node = this.at(position);
    while (position > 0) {
      const parentPosition = (position - 1) >> 1;
      const parent = this.at(parentPosition);
      if (!this.before(node, parent)) break;
      this.place(parent, position);
      position = parentPosition;
    }
    this.place(node, position);
  }

  private siftDown(start: number): void {
    let position = start;
    const node = this.at(position);
    const count = this.nodes.length;
    for (;;) {
      const left = 2 * position + 1;
      if (left >= count) break;
      const right = left + 1;
      let smallest = left;
      if (right < count && this.before(this.at(right), this.at(left))) smallest = right;
      const child = this.at(smallest);
      if (!this.before(child, node)) break;
      this.place(child, position);
      position = smallest;
    }
    this.place(node, position);
  }

  private at(position: number): TreeNode {
    const node = this.nodes[position];
    assert(node !== undefined, () => `ttl heap: no node at ${position}`);
    return node;
  }

  private place(node: TreeNode, position: number): void {
    this.nodes[position] = node;
    node.heapPosition = position;
  }
}
