/**
 * A reference model for the WAL crash suite: the log after applying a sequence of saves, and a
 * checker that a recovered storage holds exactly the log of some prefix of the saves issued
 * (every acknowledged save included, the first unacknowledged one possibly cut inside its
 * entries) — never anything else.
 */
import type { Entry, HardState } from '../../src/raft/types.js';
import type { DiskStorage } from '../../src/storage/disk-storage.js';

export interface SaveOp {
  readonly hardState: HardState | undefined;
  readonly entries: readonly Entry[];
}

/** entry i (1-based) of a log is log[i - 1], rendered as "term:data". */
export type ModelLog = readonly string[];

export function render(entry: Entry): string {
  return `${entry.term}:${new TextDecoder().decode(entry.data)}`;
}

export function applyEntries(log: ModelLog, entries: readonly Entry[]): ModelLog {
  const first = entries[0];
  if (first === undefined) return log;
  if (first.index > log.length + 1) throw new Error(`model: gap at ${first.index} after ${log.length}`);
  return [...log.slice(0, first.index - 1), ...entries.map(render)];
}

export interface Recovered {
  readonly snapshotIndex: number;
  readonly lastIndex: number;
  /** Entries snapshotIndex+1 .. lastIndex, rendered. */
  readonly entries: readonly string[];
  readonly hardState: HardState;
}

export function recoveredOf(disk: DiskStorage): Recovered {
  const first = disk.firstIndex();
  const last = disk.lastIndex();
  const held = last >= first ? disk.entries(first, last + 1, Infinity) : [];
  const snapshotIndex = first - 1;
  return { snapshotIndex, lastIndex: last, entries: held.map(render), hardState: disk.initialState().hardState };
}

/** Candidate states: after saves[0..k) whole, plus a prefix of save k's entries (its hard state comes last, so not with a partial save). */
function* candidates(saves: readonly SaveOp[], acked: number): Generator<{ log: ModelLog; hardState: HardState | undefined; label: string }> {
  let log: ModelLog = [];
  let hardState: HardState | undefined;
  for (let k = 0; k <= saves.length; k++) {
    if (k >= acked) yield { log, hardState, label: `after ${k} saves` };
    const save = saves[k];
    if (save === undefined) break;
    if (k >= acked) {
      for (let j = 1; j <= save.entries.length; j++) {
        yield { log: applyEntries(log, save.entries.slice(0, j)), hardState, label: `after ${k} saves + ${j} entries of save ${k}` };
      }
    }
    log = applyEntries(log, save.entries);
    hardState = save.hardState ?? hardState;
  }
}

function sameHardState(a: HardState, b: HardState | undefined, snapshotIndex: number): boolean {
  const expected = b ?? { term: 0, vote: '', commit: 0 };
  return a.term === expected.term && a.vote === expected.vote && a.commit === Math.max(expected.commit, snapshotIndex);
}

/** Returns the label of the matching candidate, or throws with what was recovered. */
export function checkRecovered(recovered: Recovered, saves: readonly SaveOp[], acked: number): string {
  return matchRecovered(recovered, saves, acked).label;
}

/** The candidate state the recovered storage holds (its full model log), or throws. */
export function matchRecovered(
  recovered: Recovered,
  saves: readonly SaveOp[],
  acked: number,
): { label: string; log: ModelLog; hardState: HardState | undefined } {
  for (const candidate of candidates(saves, acked)) {
    if (candidate.log.length !== recovered.lastIndex) continue;
    if (!sameHardState(recovered.hardState, candidate.hardState, recovered.snapshotIndex)) continue;
    const tail = candidate.log.slice(recovered.snapshotIndex);
    if (tail.length === recovered.entries.length && tail.every((e, k) => e === recovered.entries[k])) return candidate;
  }
  throw new Error(
    `recovered state matches no prefix of the ${saves.length} saves (${acked} acknowledged): ` + JSON.stringify(recovered),
  );
}

function scriptEntry(index: number, term: number, data: string): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(data) };
}

function scriptHardState(term: number, commit: number): HardState {
  return { term, vote: 'n1', commit };
}

/** A script with appends, an overwrite by a new leader, a hard-state-only save and an empty entry. */
export function scriptedSaves(): SaveOp[] {
  const saves: SaveOp[] = [];
  let index = 0;
  const next = (term: number, count: number): Entry[] => {
    const out: Entry[] = [];
    for (let k = 0; k < count; k++) {
      index += 1;
      out.push(scriptEntry(index, term, `value-${index}-t${term}`));
    }
    return out;
  };
  saves.push({ hardState: scriptHardState(1, 0), entries: next(1, 3) });
  saves.push({ hardState: scriptHardState(1, 3), entries: next(1, 3) });
  saves.push({ hardState: scriptHardState(1, 6), entries: next(1, 4) });
  index = 8; // a new leader of term 2 overwrites 9 and 10
  saves.push({ hardState: scriptHardState(2, 8), entries: next(2, 2) });
  saves.push({ hardState: scriptHardState(2, 10), entries: [] });
  saves.push({ hardState: undefined, entries: [scriptEntry(11, 2, '')] });
  saves.push({ hardState: scriptHardState(2, 11), entries: next(2, 0).concat([scriptEntry(12, 2, 'x'.repeat(300))]) });
  index = 12;
  for (let k = 0; k < 6; k++) saves.push({ hardState: scriptHardState(2, index), entries: next(2, 2) });
  return saves;
}

