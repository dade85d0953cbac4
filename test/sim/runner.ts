/**
 * Running many seeds, the regression list, and the planted-bug hunt. Shared by the CLI and the
 * CI test so both run exactly the same thing for the same seed.
 */
import { readFileSync } from 'node:fs';
import { defaultSimConfig, isPlantedBug, type PlantedBug, type SimConfig } from './config.js';
import { runSimulation, type SimResult, type SimStats } from './sim.js';

export type RunOptions = Partial<Omit<SimConfig, 'seed' | 'members'>> & { readonly members?: number };

/** Without an explicit --members, the seed decides the cluster size, so `--seed N` alone replays it. */
export function membersForSeed(seed: number): number {
  return seed % 2 === 0 ? 3 : 5;
}

export function configForSeed(seed: number, options: RunOptions): SimConfig {
  return defaultSimConfig(seed, { ...options, members: options.members ?? membersForSeed(seed) });
}

/** The exact command that replays a run. */
export function replayCommand(config: SimConfig): string {
  const defaults = defaultSimConfig(config.seed);
  const parts = [`npm run sim -- --seed ${config.seed}`];
  if (config.members !== membersForSeed(config.seed)) parts.push(`--members ${config.members}`);
  if (config.steps !== defaults.steps) parts.push(`--steps ${config.steps}`);
  if (config.bug !== undefined) parts.push(`--bug ${config.bug}`);
  if (config.faultIntensity !== undefined) parts.push(`--fault-intensity ${config.faultIntensity}`);
  if (!config.checkDurability) parts.push('--no-durability-check');
  if (!config.checkCommitRule) parts.push('--no-commit-rule-check');
  return parts.join(' ');
}

export function describeFailure(result: SimResult, config: SimConfig): string {
  const f = result.failure;
  if (f === undefined) return `seed ${result.seed} ok`;
  const firstLine = f.message.split('\n')[0] ?? '';
  return `FAIL seed ${result.seed} (members ${result.members}) at step ${f.step}, tick ${f.tick}: ${firstLine}\n  replay: ${replayCommand(config)}`;
}

export interface BatchSummary {
  readonly seeds: number;
  /** Every counter summed over the batch (what the runs actually exercised). */
  readonly totals: SimStats;
  readonly failures: readonly { readonly config: SimConfig; readonly result: SimResult }[];
  readonly elapsedMs: number;
}

/** Runs seeds base, base+1, ... base+count-1; `onFailure` sees each failure as it happens. */
export function runSeeds(
  baseSeed: number,
  count: number,
  options: RunOptions,
  onFailure: (config: SimConfig, result: SimResult) => void = () => {},
  onProgress: (done: number, failures: number, elapsedMs: number) => void = () => {},
): BatchSummary {
  const started = performance.now();
  const failures: { config: SimConfig; result: SimResult }[] = [];
  let totals: SimStats | undefined;
  for (let i = 0; i < count; i++) {
    const config = configForSeed(baseSeed + i, options);
    const result = runSimulation(config);
    totals = addStats(totals, result.stats);
    if (!result.ok) {
      failures.push({ config, result });
      onFailure(config, result);
    }
    if ((i + 1) % 1000 === 0) onProgress(i + 1, failures.length, performance.now() - started);
  }
  return { seeds: count, totals: totals ?? zeroStats(), failures, elapsedMs: performance.now() - started };
}

function zeroStats(): SimStats {
  return {
    steps: 0, ticks: 0, livenessTicks: 0, proposals: 0, committed: 0, leadersElected: 0, crashes: 0, restarts: 0, pauses: 0,
    partitions: 0, snapshots: 0, confChanges: 0, readsAnswered: 0, messagesSent: 0, messagesDropped: 0, messagesDuplicated: 0,
    tornWrites: 0, lostWrites: 0, checks: 0,
  };
}

function addStats(sum: SimStats | undefined, add: SimStats): SimStats {
  const out = sum ?? zeroStats();
  for (const key of Object.keys(out) as (keyof SimStats)[]) out[key] += add[key];
  return out;
}

/** Runs seeds from `baseSeed` until the planted bug is caught; returns the catching run, if any. */
export function huntBug(bug: PlantedBug, baseSeed: number, maxSeeds: number, options: RunOptions = {}): { seedsTried: number; caught?: SimResult } {
  for (let i = 0; i < maxSeeds; i++) {
    const result = runSimulation(configForSeed(baseSeed + i, { ...options, bug }));
    if (!result.ok) return { seedsTried: i + 1, caught: result };
  }
  return { seedsTried: maxSeeds };
}

export interface Regression {
  readonly config: SimConfig;
  readonly comment: string;
  readonly line: number;
}

/**
 * The regression list: one run per line, `seed=N [members=3|5] [steps=N] [bug=name]  # why`.
 * Blank lines and lines starting with '#' are ignored.
 */
export function parseRegressions(text: string): Regression[] {
  const out: Regression[] = [];
  text.split('\n').forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const body = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    const comment = hash === -1 ? '' : raw.slice(hash + 1).trim();
    if (body === '') return;
    const fields = new Map<string, string>();
    for (const token of body.split(/\s+/)) {
      const [key, value] = token.split('=');
      if (key === undefined || value === undefined || value === '') throw new Error(`regressions line ${i + 1}: expected key=value, got '${token}'`);
      fields.set(key, value);
    }
    out.push({ config: regressionConfig(fields, i + 1), comment, line: i + 1 });
  });
  return out;
}

function regressionConfig(fields: Map<string, string>, line: number): SimConfig {
  const number = (key: string): number | undefined => {
    const v = fields.get(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`regressions line ${line}: ${key} must be a non-negative integer, got '${v}'`);
    return n;
  };
  for (const key of fields.keys()) {
    if (!['seed', 'members', 'steps', 'bug'].includes(key)) throw new Error(`regressions line ${line}: unknown field '${key}'`);
  }
  const seed = number('seed');
  if (seed === undefined) throw new Error(`regressions line ${line}: seed= is required`);
  const bug = fields.get('bug');
  if (bug !== undefined && !isPlantedBug(bug)) throw new Error(`regressions line ${line}: unknown bug '${bug}'`);
  const steps = number('steps');
  const members = number('members');
  return configForSeed(seed, {
    ...(members !== undefined ? { members } : {}),
    ...(steps !== undefined ? { steps } : {}),
    ...(bug !== undefined ? { bug } : {}),
  });
}

export function loadRegressions(path: string): Regression[] {
  return parseRegressions(readFileSync(path, 'utf8'));
}
