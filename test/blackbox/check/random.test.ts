import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizable, explain } from './linearizable.js';
import { mutate, simulate } from './simulate.js';

/** CHECKER_SEED replays one run of this file; without it a fresh seed is drawn and printed. */
const SEED = process.env['CHECKER_SEED'] === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env['CHECKER_SEED']);
console.log(`random checker tests: CHECKER_SEED=${SEED}`);

const ROUNDS = 40;

describe(`checkLinearizable on simulated linearizable stores (CHECKER_SEED=${SEED})`, () => {
  it(`accepts ${ROUNDS} generated histories and rejects each with one read mutated`, () => {
    let rejectedCount = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const seed = SEED + round;
      const clients = 2 + (seed % 9);
      const history = simulate({ seed, clients, keys: 1 + (seed % 3), ops: 150 + (seed % 7) * 40, unknownRate: (seed % 4) * 0.03 });
      const verdict = checkLinearizable(history, { timeLimitMs: 5000 });
      assert.deepEqual(verdict.timedOutKeys, [], `seed ${seed}: timed out`);
      assert.equal(verdict.ok, true, `seed ${seed} (${clients} clients): ${verdict.violations.map((v) => explain(v)).join('\n')}`);

      const mutated = mutate(history, seed);
      if (mutated === null) continue;
      const broken = checkLinearizable(mutated.history, { timeLimitMs: 5000 });
      assert.deepEqual(broken.timedOutKeys, [], `seed ${seed}: mutated history timed out`);
      assert.equal(broken.ok, false, `seed ${seed}: ${mutated.mutation.what} was accepted`);
      assert.equal(broken.violations.length, 1, `seed ${seed}: ${mutated.mutation.what}`);
      rejectedCount++;
    }
    assert.ok(rejectedCount >= ROUNDS - 2, `only ${rejectedCount} histories had a read to mutate`);
  });

  it('checks 10,000 ops over 5 keys from 20 clients, with timeouts, in a few seconds', () => {
    const history = simulate({ seed: SEED, clients: 20, keys: 5, ops: 10_000, unknownRate: 0.02 });
    const started = performance.now();
    const verdict = checkLinearizable(history, { timeLimitMs: 20_000 });
    const elapsedMs = performance.now() - started;
    console.log(`10,000 ops, 5 keys, 20 clients: ${elapsedMs.toFixed(0)} ms`);
    assert.deepEqual(verdict.timedOutKeys, []);
    assert.equal(verdict.ok, true, verdict.violations.map((v) => explain(v)).join('\n'));
    assert.equal(verdict.ops, 10_000);
    assert.equal(verdict.keys, 5);
    assert.ok(elapsedMs < 20_000);
  });
});
