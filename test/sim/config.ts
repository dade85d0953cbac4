/**
 * Configuration of one simulation run. Every field except `seed` has a default; the seed alone
 * decides everything else that happens in the run (schedule, faults, workload, each node's prng).
 */

/**
 * Bugs the simulator can plant to prove its checkers catch them. The first two are switches in
 * the core (RaftConfig.testingBugs); the last two are in the simulator's driver: sending a
 * Ready's messages before persisting it, and writing the hard state (with its new commit index)
 * before the entries it covers, so a torn write can keep a commit over entries that were lost.
 */
export const PLANTED_BUGS = ['commit-old-term-by-counting', 'grant-second-vote-in-term', 'send-before-persist', 'commit-before-entries'] as const;
export type PlantedBug = (typeof PLANTED_BUGS)[number];

export function isPlantedBug(name: string): name is PlantedBug {
  return (PLANTED_BUGS as readonly string[]).includes(name);
}

export interface SimConfig {
  readonly seed: number;
  /** Initial voters: 3 or 5. */
  readonly members: number;
  /** Scheduler steps in the faulty phase (each step is one tick, one delivery, or one action). */
  readonly steps: number;
  /** Virtual ticks the liveness phase may take before it counts as a failure. */
  readonly livenessBoundTicks: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Upper bound of a message's network delay, in ticks (random in [0, maxDelayTicks]). */
  readonly maxDelayTicks: number;
  /** Probabilities per message while faults are on. */
  readonly dropProbability: number;
  readonly duplicateProbability: number;
  /** Whether to run membership changes in the workload. */
  readonly membershipChanges: boolean;
  readonly bug?: PlantedBug;
  /** Scale of the fault rates; when absent the seed picks one of FAULT_INTENSITIES. */
  readonly faultIntensity?: number;
  /** Keep a trace of the run to print when it fails (costs time; on for --seed replays). */
  readonly trace: boolean;
  /** How many trace lines a failing (or --verbose) replay prints. */
  readonly traceLines: number;
  /** Check the durability promise of every sent message (off only to show the semantic checkers alone). */
  readonly checkDurability: boolean;
  /** Check the leader's commit rule directly (off only to show the semantic checkers alone). */
  readonly checkCommitRule: boolean;
}

export function defaultSimConfig(seed: number, overrides: Partial<Omit<SimConfig, 'seed'>> = {}): SimConfig {
  return {
    seed,
    members: 3,
    steps: 1500,
    livenessBoundTicks: 600,
    electionTicks: 10,
    heartbeatTicks: 1,
    maxDelayTicks: 3,
    dropProbability: 0.05,
    duplicateProbability: 0.03,
    membershipChanges: true,
    trace: false,
    traceLines: 60,
    checkDurability: true,
    checkCommitRule: true,
    ...overrides,
  };
}

/** Returns a list of precise complaints; empty means valid. */
export function validateSimConfig(config: SimConfig): string[] {
  const problems: string[] = [];
  if (!Number.isSafeInteger(config.seed) || config.seed < 0) problems.push(`seed must be a non-negative safe integer, got ${config.seed}`);
  if (config.members !== 3 && config.members !== 5) problems.push(`members must be 3 or 5, got ${config.members}`);
  if (!Number.isSafeInteger(config.steps) || config.steps < 1) problems.push(`steps must be a positive integer, got ${config.steps}`);
  if (!Number.isSafeInteger(config.livenessBoundTicks) || config.livenessBoundTicks < 10 * config.electionTicks) {
    problems.push(`livenessBoundTicks must be at least 10 election timeouts (${10 * config.electionTicks}), got ${config.livenessBoundTicks}`);
  }
  if (config.heartbeatTicks < 1 || config.heartbeatTicks >= config.electionTicks) {
    problems.push(`heartbeatTicks must be in [1, electionTicks), got ${config.heartbeatTicks} with electionTicks ${config.electionTicks}`);
  }
  if (config.faultIntensity !== undefined && !(config.faultIntensity >= 0 && config.faultIntensity <= 100)) {
    problems.push(`faultIntensity must be in [0, 100], got ${config.faultIntensity}`);
  }
  if (!Number.isSafeInteger(config.maxDelayTicks) || config.maxDelayTicks < 0) problems.push(`maxDelayTicks must be a non-negative integer, got ${config.maxDelayTicks}`);
  for (const [name, p] of [['dropProbability', config.dropProbability], ['duplicateProbability', config.duplicateProbability]] as const) {
    if (!(p >= 0 && p < 1)) problems.push(`${name} must be in [0, 1), got ${p}`);
  }
  return problems;
}
