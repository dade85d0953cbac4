/**
 * The simulator in CI: a fixed base seed (printed) so the run is reproducible, at least 300
 * random seeds over 3- and 5-member clusters, every line of the regression list, and proof that
 * each planted bug is caught within a bounded number of seeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLANTED_BUGS } from './config.js';
import { regressionsPath } from './paths.js';
import { configForSeed, describeFailure, huntBug, loadRegressions, runSeeds } from './runner.js';
import { runSimulation } from './sim.js';

const CI_BASE_SEED = 20_261_124;
const CI_SEED_COUNT = 400;
const BUG_SEED_BOUND = 200;

test(`sim: ${CI_SEED_COUNT} random seeds from base seed ${CI_BASE_SEED} (3 and 5 members) keep every invariant and settle`, () => {
  console.log(`sim: base seed ${CI_BASE_SEED}, seeds ${CI_BASE_SEED}..${CI_BASE_SEED + CI_SEED_COUNT - 1}`);
  const batch = runSeeds(CI_BASE_SEED, CI_SEED_COUNT, {});
  const seconds = batch.elapsedMs / 1000;
  console.log(`sim: ${CI_SEED_COUNT} seeds in ${seconds.toFixed(1)} s (${(CI_SEED_COUNT / seconds).toFixed(1)} seeds/s)`);
  const report = batch.failures.map(({ config, result }) => describeFailure(result, config));
  assert.deepEqual(report, [], `failing seeds:\n${report.join('\n')}`);
  const members = new Set(Array.from({ length: CI_SEED_COUNT }, (_, i) => configForSeed(CI_BASE_SEED + i, {}).members));
  assert.deepEqual([...members].sort(), [3, 5]);
});

test('sim: every run in regressions.txt passes', () => {
  const regressions = loadRegressions(regressionsPath());
  const failures: string[] = [];
  for (const r of regressions) {
    const result = runSimulation(r.config);
    if (!result.ok) failures.push(`line ${r.line} (${r.comment}): ${describeFailure(result, r.config)}`);
  }
  console.log(`sim: ${regressions.length} regression runs, ${failures.length} failures`);
  assert.deepEqual(failures, []);
});

test('sim: one seed replays exactly (same stats, same trace)', () => {
  const config = configForSeed(CI_BASE_SEED + 7, { trace: true });
  const first = runSimulation(config);
  const second = runSimulation(config);
  assert.deepEqual(second.stats, first.stats);
  assert.deepEqual(second.trace, first.trace);
  assert.ok(first.stats.messagesSent > 0 && first.stats.ticks > 0, 'the run did something');
});

for (const bug of PLANTED_BUGS) {
  test(`sim: planted bug ${bug} is caught within ${BUG_SEED_BOUND} seeds`, () => {
    const hunt = huntBug(bug, CI_BASE_SEED, BUG_SEED_BOUND);
    const caught = hunt.caught;
    assert.ok(caught !== undefined && caught.failure !== undefined, `${bug} survived ${BUG_SEED_BOUND} seeds`);
    console.log(`sim: ${bug} caught at seed ${caught.seed} after ${hunt.seedsTried} seeds: ${caught.failure.message.split('\n')[0]}`);
    assert.ok(!['core-assertion', 'sim-assertion', 'liveness'].includes(caught.failure.check), 'caught by a safety checker');
  });
}

test(`sim: without the durability checker, the semantic checkers still catch send-before-persist within ${BUG_SEED_BOUND} seeds`, () => {
  const hunt = huntBug('send-before-persist', CI_BASE_SEED, BUG_SEED_BOUND, { checkDurability: false });
  assert.ok(hunt.caught?.failure !== undefined, `send-before-persist survived ${BUG_SEED_BOUND} seeds`);
  console.log(`sim: send-before-persist (no durability check) caught at seed ${hunt.caught.seed}: ${hunt.caught.failure.message.split('\n')[0]}`);
  assert.ok(!['durability', 'liveness', 'core-assertion', 'sim-assertion'].includes(hunt.caught.failure.check), 'caught by a safety property');
});
