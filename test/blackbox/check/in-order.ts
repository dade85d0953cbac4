/**
 * In-order keys (POST to a directory, spec §4.5): each gets the name of the index its create
 * took, 20 digits zero-padded (§17), so the sorted listing is creation order. The final sorted
 * listing must have names and createdIndexes strictly increasing together, each name equal to its
 * createdIndex, every acknowledged POST present (lostAppends), each value POSTed by someone and
 * only once, and a POST that completed before another was invoked listed before it.
 */
import type { QueueListing, QueueOperation } from '../history.js';
import { capped, realTimeInversions, type Timed } from './indexes.js';
import { lostAppends } from './lost-writes.js';
import { report, type CheckReport, type Finding } from './types.js';

export function inOrderKeys(queue: readonly QueueOperation[], listing: QueueListing): CheckReport {
  if (listing === null) return report(0, [{ message: 'the in-order listing could not be read' }]);
  const findings: Finding[] = [...listingOrder(listing), ...lostAppends(queue, listing, 'the in-order listing').findings];
  const posts = new Map(queue.map((q) => [q.value, q]));
  const listed = new Set<string>();
  const timed: Timed[] = [];
  for (const node of listing) {
    const post = posts.get(node.value);
    if (post === undefined) findings.push({ message: `${node.key} holds ${JSON.stringify(node.value)}, which no POST sent` });
    else if (post.outcome.type === 'fail') findings.push({ message: `${node.key} holds ${JSON.stringify(node.value)} from queue #${post.id}, which failed with ${post.outcome.errorCode}` });
    if (listed.has(node.value)) findings.push({ message: `${JSON.stringify(node.value)} is listed twice (again as ${node.key})` });
    listed.add(node.value);
    if (post !== undefined) {
      const completeMs = post.outcome.type === 'ok' ? post.completeMs : Infinity;
      timed.push({ label: `queue #${post.id} (${node.key})`, index: node.createdIndex, invokeMs: post.invokeMs, completeMs });
    }
  }
  findings.push(...realTimeInversions(timed));
  return report(listing.length, capped(findings));
}

function listingOrder(listing: NonNullable<QueueListing>): Finding[] {
  const findings: Finding[] = [];
  listing.forEach((node, i) => {
    const name = node.key.slice(node.key.lastIndexOf('/') + 1);
    if (!/^\d{20}$/.test(name) || Number(name) !== node.createdIndex) {
      findings.push({ message: `${node.key} is not named after its createdIndex ${node.createdIndex} (20 digits)` });
    }
    const prev = listing[i - 1];
    if (prev !== undefined && !(prev.key < node.key && prev.createdIndex < node.createdIndex)) {
      findings.push({ message: `${prev.key}@${prev.createdIndex} is listed before ${node.key}@${node.createdIndex}: not in creation order` });
    }
  });
  return findings;
}
