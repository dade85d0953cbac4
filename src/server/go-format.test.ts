import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDurationString, goRfc3339Nano } from './go-format.js';

test('goDurationString matches Go time.Duration.String()', () => {
  const ms = 1_000_000;
  const s = 1_000_000_000;
  assert.equal(goDurationString(0), '0s');
  assert.equal(goDurationString(999), '999ns');
  assert.equal(goDurationString(1_500), '1.5µs');
  assert.equal(goDurationString(950 * ms), '950ms');
  assert.equal(goDurationString(1 * s), '1s');
  assert.equal(goDurationString(1_500 * ms), '1.5s');
  assert.equal(goDurationString(78 * s + 540 * ms), '1m18.54s');
  assert.equal(goDurationString(60 * s), '1m0s');
  assert.equal(goDurationString(3600 * s), '1h0m0s');
  assert.equal(goDurationString(2 * 3600 * s + 3 * 60 * s + 4 * s + 5 * ms), '2h3m4.005s');
  assert.equal(goDurationString(-1_500 * ms), '-1.5s');
});

test('goRfc3339Nano renders UTC with trimmed fractional seconds', () => {
  assert.equal(goRfc3339Nano(Date.UTC(2014, 8, 1, 12, 30, 5, 120)), '2014-09-01T12:30:05.12Z');
  assert.equal(goRfc3339Nano(Date.UTC(2014, 8, 1, 12, 30, 5, 0)), '2014-09-01T12:30:05Z');
  assert.equal(goRfc3339Nano(Date.UTC(2014, 8, 1, 12, 30, 5, 7)), '2014-09-01T12:30:05.007Z');
});
