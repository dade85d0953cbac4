/**
 * The runner's bookkeeping that touches neither processes nor the network: command-line options,
 * the summary and its last line, and the files written under `jepsen-out/<seed>/`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyOperation, QueueOperation, RunRecord, TtlOperation, WatcherLog } from './history.js';

export type BreakMode = 'ack-before-commit' | 'local-quorum-read';
export const BREAK_MODES: readonly BreakMode[] = ['ack-before-commit', 'local-quorum-read'];

export interface JepsenOptions {
  /** Default: random (always printed first). */
  readonly seed?: number;
  readonly timeSec: number;
  readonly members: number;
  readonly clients?: number;
  /** Pause of each client between two ops (default 100 ms: ≈5,000 ops a minute on 2 cores). */
  readonly thinkMs?: number;
  /** Mean time between two faults' starts (default 5,000 ms). */
  readonly intervalMs?: number;
  /** Run a deliberately unsafe build (ETCD_TEST_BREAK). */
  readonly break?: BreakMode;
  /** false: no faults (a baseline). */
  readonly nemesis?: boolean;
  /** Fault kinds to draw from (the nemesis' names); default: all, or kill -9/kill-all for one member. */
  readonly faults?: readonly string[];
  /** Re-check a run written earlier to this directory instead of running one. */
  readonly checkDir?: string;
  /** Where the history and report go; null: write nothing. Default `jepsen-out/<seed>`. */
  readonly outDir?: string | null;
  readonly log?: (line: string) => void;
}

/** One check's verdict. `violations`/`lostWrites` count findings; `incomplete` = could not decide (timeout). */
export interface CheckVerdict {
  readonly name: string;
  readonly ok: boolean;
  readonly violations: number;
  readonly lostWrites: number;
  readonly incomplete: boolean;
  /** Human-readable findings (first few). */
  readonly details: readonly string[];
}

export interface Summary {
  readonly seed: number;
  readonly members: number;
  readonly ops: number;
  readonly faults: number;
  readonly violations: number;
  readonly lostWrites: number;
  readonly checks: readonly CheckVerdict[];
  /** Every check passed and decided: the run is clean. */
  readonly ok: boolean;
  readonly outDir: string | null;
  readonly lastLine: string;
}

export function lastLine(ops: number, faults: number, violations: number, lostWrites: number): string {
  return `jepsen: ${ops} ops, ${faults} faults, ${violations} violations, ${lostWrites} lost writes`;
}

export function summarize(seed: number, members: number, ops: number, faults: number, checks: readonly CheckVerdict[], outDir: string | null): Summary {
  const violations = checks.reduce((n, c) => n + c.violations, 0);
  const lostWrites = checks.reduce((n, c) => n + c.lostWrites, 0);
  return {
    seed,
    members,
    ops,
    faults,
    violations,
    lostWrites,
    checks,
    ok: checks.every((c) => c.ok && !c.incomplete) && violations === 0 && lostWrites === 0,
    outDir,
    lastLine: lastLine(ops, faults, violations, lostWrites),
  };
}

/** The client ops of a run: register ops (final reads included), in-order POSTs and TTL sets. */
export function opCount(record: RunRecord): number {
  return record.operations.length + record.queue.length + record.ttl.length;
}

/** history.jsonl (register ops, one per line), the rest of the record and the faults: written before the checks run. */
export function writeRecordFiles(outDir: string, record: RunRecord, faults: readonly unknown[]): void {
  mkdirSync(outDir, { recursive: true });
  const jsonl = (items: readonly unknown[]): string => items.map((item) => JSON.stringify(item, infinityAsString)).join('\n') + (items.length > 0 ? '\n' : '');
  writeFileSync(join(outDir, 'history.jsonl'), jsonl(record.operations));
  writeFileSync(join(outDir, 'queue.jsonl'), jsonl(record.queue));
  writeFileSync(join(outDir, 'ttl.jsonl'), jsonl(record.ttl));
  writeFileSync(join(outDir, 'watchers.json'), JSON.stringify(record.watchers, infinityAsString));
  writeFileSync(
    join(outDir, 'final.json'),
    JSON.stringify(
      {
        seed: record.seed,
        members: record.members,
        keys: record.keys,
        queueListing: record.queueListing,
        dumps: record.dumps,
        dumpsConverged: record.dumpsConverged,
        endIndex: record.endIndex,
        dumpedAtMs: record.dumpedAtMs,
      },
      null,
      1,
    ),
  );
  writeFileSync(join(outDir, 'faults.json'), JSON.stringify(faults, infinityAsString, 1));
}

/** The verdicts: summary.json and report.txt. */
export function writeSummaryFiles(outDir: string, summary: Summary, reportText: string): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'summary.json'), JSON.stringify(summary, null, 1));
  writeFileSync(join(outDir, 'report.txt'), reportText);
}

/** Reads back what writeRecordFiles wrote (`npm run jepsen -- --check DIR` re-checks a run). */
export function readRecordFiles(dir: string): { record: RunRecord; faults: unknown[] } {
  const jsonl = <T>(name: string): T[] =>
    readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line, infinityFromString) as T);
  const final = JSON.parse(readFileSync(join(dir, 'final.json'), 'utf8')) as Pick<
    RunRecord,
    'seed' | 'members' | 'keys' | 'queueListing' | 'dumps' | 'dumpsConverged' | 'endIndex' | 'dumpedAtMs'
  >;
  const record: RunRecord = {
    ...final,
    operations: jsonl<KeyOperation>('history.jsonl'),
    queue: jsonl<QueueOperation>('queue.jsonl'),
    ttl: jsonl<TtlOperation>('ttl.jsonl'),
    watchers: JSON.parse(readFileSync(join(dir, 'watchers.json'), 'utf8'), infinityFromString) as WatcherLog[],
  };
  const faults = JSON.parse(readFileSync(join(dir, 'faults.json'), 'utf8'), infinityFromString) as unknown[];
  return { record, faults };
}

function infinityFromString(_key: string, value: unknown): unknown {
  return value === 'Infinity' ? Infinity : value;
}

/** JSON has no Infinity (an unknown op's completion): written as the string "Infinity". */
function infinityAsString(_key: string, value: unknown): unknown {
  return value === Infinity ? 'Infinity' : value;
}

export function reportText(summary: Summary, faultLines: readonly string[]): string {
  const lines = [
    `seed ${summary.seed}, ${summary.members} members`,
    summary.lastLine,
    '',
    'checks:',
    ...summary.checks.flatMap((c) => [
      `  ${c.ok && !c.incomplete ? 'PASS' : c.incomplete ? 'INCOMPLETE' : 'FAIL'} ${c.name}${c.violations > 0 ? ` (${c.violations} violations)` : ''}${c.lostWrites > 0 ? ` (${c.lostWrites} lost writes)` : ''}`,
      ...c.details.map((d) => `      ${d}`),
    ]),
    '',
    'faults:',
    ...faultLines.map((f) => `  ${f}`),
  ];
  return lines.join('\n') + '\n';
}

// ---- command line ----------------------------------------------------------------------------

export const USAGE =
  'usage: npm run jepsen -- [--seed N] [--time SECONDS] [--members N] [--clients N] [--think MS] [--interval MS] [--break ack-before-commit|local-quorum-read] [--no-nemesis] [--out DIR] | --check DIR';

/** Parses the runner's flags; throws with a message naming the bad flag. */
export function parseArgs(argv: readonly string[]): JepsenOptions {
  let seed: number | undefined;
  let timeSec = 60;
  let members = 3;
  let clients: number | undefined;
  let thinkMs: number | undefined;
  let intervalMs: number | undefined;
  let breakMode: BreakMode | undefined;
  let nemesis = true;
  let outDir: string | undefined;
  let checkDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const integer = (min: number): number => {
      const text = value();
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < min) throw new Error(`${flag}: expected an integer ≥ ${min}, got ${text}`);
      return n;
    };
    switch (flag) {
      case '--seed':
        seed = integer(0);
        break;
      case '--time':
        timeSec = integer(1);
        break;
      case '--members':
        members = integer(1);
        break;
      case '--clients':
        clients = integer(1);
        break;
      case '--think':
        thinkMs = integer(0);
        break;
      case '--interval':
        intervalMs = integer(100);
        break;
      case '--break': {
        const mode = value();
        const known = BREAK_MODES.find((m) => m === mode);
        if (known === undefined) throw new Error(`--break: expected ${BREAK_MODES.join(' or ')}, got ${mode}`);
        breakMode = known;
        break;
      }
      case '--no-nemesis':
        nemesis = false;
        break;
      case '--out':
        outDir = value();
        break;
      case '--check':
        checkDir = value();
        break;
      default:
        throw new Error(`unknown flag ${flag}`);
    }
  }
  return {
    timeSec,
    members,
    nemesis,
    ...(seed !== undefined ? { seed } : {}),
    ...(clients !== undefined ? { clients } : {}),
    ...(thinkMs !== undefined ? { thinkMs } : {}),
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(breakMode !== undefined ? { break: breakMode } : {}),
    ...(outDir !== undefined ? { outDir } : {}),
    ...(checkDir !== undefined ? { checkDir } : {}),
  };
}
