/**
 * Watchers see every change, once, in index order. A recursive watcher on the prefix resumes at
 * its last event's index + 1 after any error, so its events have strictly increasing
 * modifiedIndexes, and over [startIndex, endIndex) it must have seen every acknowledged write
 * under the prefix, except inside a range the server reported as cleared (401: the event history
 * no longer reaches back to waitIndex; the watcher jumped to resumeIndex).
 *
 * Events at indexes no acknowledged write took are allowed (unknown writes that happened, TTL
 * expiries, the run's marker) but every watcher must agree on them, and an event at an
 * acknowledged write's index must name that write's key and value.
 */
import type { WatchEntry } from '../history.js';
import { capped } from './indexes.js';
import { report, type CheckReport, type Finding, type IndexedWrite, type WatchLog } from './types.js';

type WatchEvent = Extract<WatchEntry, { type: 'event' }>;

export function watchersComplete(watchers: readonly WatchLog[], writes: readonly IndexedWrite[], prefix = '/jepsen/'): CheckReport {
  const byIndex = new Map<number, IndexedWrite>();
  for (const w of writes) if (w.key.startsWith(prefix)) byIndex.set(w.index, w);
  const firstSeen = new Map<number, { readonly watcher: number; readonly event: WatchEvent }>();
  const findings: Finding[] = [];
  let checked = 0;
  for (const log of watchers) {
    const { seen, gaps, problems } = replay(log);
    findings.push(...problems);
    for (const event of seen.values()) {
      checked++;
      findings.push(...eventAgrees(log.watcher, event, byIndex.get(event.modifiedIndex), firstSeen));
    }
    findings.push(...missedWrites(log, byIndex, seen, gaps));
  }
  return report(checked, capped(findings));
}

interface Replay {
  readonly seen: Map<number, WatchEvent>;
  /** Half-open [from, to) ranges a 401 allowed to be skipped. */
  readonly gaps: readonly (readonly [number, number])[];
  readonly problems: readonly Finding[];
}

/** Walks one watcher's entries in arrival order, tracking the index it waits for. */
function replay(log: WatchLog): Replay {
  const seen = new Map<number, WatchEvent>();
  const gaps: [number, number][] = [];
  const problems: Finding[] = [];
  let waitIndex = log.startIndex;
  for (const entry of log.entries) {
    if (entry.type === 'cleared') {
      gaps.push([entry.waitIndex, entry.resumeIndex]);
      waitIndex = Math.max(waitIndex, entry.resumeIndex);
    } else if (entry.type === 'event') {
      if (entry.modifiedIndex < waitIndex) {
        problems.push({ message: `watcher ${log.watcher}: event ${describeEvent(entry)} from ${entry.member} arrived while waiting for index ${waitIndex} (out of order or repeated)` });
        continue;
      }
      seen.set(entry.modifiedIndex, entry);
      waitIndex = entry.modifiedIndex + 1;
    }
  }
  return { seen, gaps, problems };
}

function eventAgrees(
  watcher: number,
  event: WatchEvent,
  write: IndexedWrite | undefined,
  firstSeen: Map<number, { readonly watcher: number; readonly event: WatchEvent }>,
): Finding[] {
  const findings: Finding[] = [];
  if (write !== undefined && (write.key !== event.key || write.value !== event.value)) {
    findings.push({ message: `watcher ${watcher}: event ${describeEvent(event)} but index ${write.index} is ${write.label} writing ${JSON.stringify(write.value)} to ${write.key}` });
  }
  const other = firstSeen.get(event.modifiedIndex);
  if (other === undefined) firstSeen.set(event.modifiedIndex, { watcher, event });
  else if (other.event.key !== event.key || other.event.action !== event.action || other.event.value !== event.value) {
    findings.push({ message: `watchers disagree at index ${event.modifiedIndex}: watcher ${other.watcher} saw ${describeEvent(other.event)}, watcher ${watcher} saw ${describeEvent(event)}` });
  }
  return findings;
}

function missedWrites(log: WatchLog, byIndex: ReadonlyMap<number, IndexedWrite>, seen: ReadonlyMap<number, WatchEvent>, gaps: readonly (readonly [number, number])[]): Finding[] {
  const findings: Finding[] = [];
  for (const [index, write] of [...byIndex].sort(([a], [b]) => a - b)) {
    if (index < log.startIndex || index >= log.endIndex || seen.has(index)) continue;
    if (gaps.some(([from, to]) => index >= from && index < to)) continue;
    findings.push({ message: `watcher ${log.watcher} (covering [${log.startIndex}, ${log.endIndex})) missed ${write.label} at index ${index}` });
  }
  return findings;
}

function describeEvent(e: WatchEvent): string {
  return `${e.action} ${e.key}${e.value === null ? '' : ` = ${JSON.stringify(e.value)}`} @${e.modifiedIndex}`;
}
