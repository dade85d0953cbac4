#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's built-in test runner.
// Usage: node scripts/run-tests.mjs [substring filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir, out) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = ['dist/src', 'dist/test', 'dist/bench']
  .flatMap((dir) => findTests(dir, []))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files found (did the build run?)');
  process.exit(1);
}
// Tests with a wall-clock bar (a new leader within 2 s of a kill -9) run after the rest, alone:
// beside the 10,000-watcher test on 2 cores they would measure the machine, not the cluster.
// So do the black-box fault runs: their client timeouts and fault counts assume the whole machine.
const ALONE = ['cluster/failover.test.js', 'blackbox/jepsen.test.js', 'blackbox/broken.test.js'];
const alone = files.filter((file) => ALONE.some((name) => file.endsWith(name)));
const together = files.filter((file) => !alone.includes(file));
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
function run(group, groupConcurrency) {
  if (group.length === 0) return 0;
  const result = spawnSync(
    process.execPath,
    ['--test', `--test-concurrency=${groupConcurrency}`, '--test-reporter=spec', ...group],
    { stdio: 'inherit' },
  );
  return result.status ?? 1;
}
const status = run(together, concurrency);
const aloneStatus = run(alone, '1');
process.exit(status !== 0 ? status : aloneStatus);
