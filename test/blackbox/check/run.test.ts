import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunRecord } from '../history.js';
import { HistoryBuilder, ok, saw } from './build.js';
import { checkRun } from './index.js';

const K = '/jepsen/r/k0';

function record(finalRead: { value: string; index: number }, m2Value: string): RunRecord {
  const h = new HistoryBuilder();
  h.put(1, K, 'a', [0, 10], ok(5));
  h.put(2, K, 'b', [20, 30], ok(6));
  h.read(-1, K, [40, 50], saw(finalRead.value, finalRead.index));
  const nodes = (value: string, index: number) => [{ key: K, value, modifiedIndex: index, createdIndex: 5 }];
  const fields = {
    seed: 1,
    members: 2,
    keys: [K],
    operations: h.history(),
    queue: [],
    queueListing: [],
    watchers: [{ watcher: 1, startIndex: 5, endIndex: 7, entries: [] }],
    ttl: [],
    dumps: [
      { member: 'm1', etcdIndex: 6, raftIndex: 20, nodes: nodes('b', 6) },
      { member: 'm2', etcdIndex: 6, raftIndex: 20, nodes: nodes(m2Value, m2Value === 'b' ? 6 : 5) },
    ],
    endIndex: 7,
    dumpsConverged: true,
  };
  return fields;
}

describe('checkRun', () => {
  it('counts nothing on a clean run', () => {
    const v = checkRun(record({ value: 'b', index: 6 }, 'b'));
    assert.equal(v.ok, false, 'the watcher saw none of the writes'); // watchers are checked too
    assert.equal(v.lostWrites, 0);
    assert.equal(v.violations, 2);
    const clean = checkRun({ ...record({ value: 'b', index: 6 }, 'b'), watchers: [] });
    assert.equal(clean.ok, true, clean.lines.join('\n'));
    assert.equal(clean.violations, 0);
    assert.equal(clean.lines[0], 'linearizable: ok (1 keys, 3 ops, 0 violations, 0 timed out)');
  });

  it('counts a stale final read as a violation and a member that lost the write as a lost write', () => {
    const v = checkRun({ ...record({ value: 'a', index: 5 }, 'a'), watchers: [] });
    assert.equal(v.ok, false);
    assert.equal(v.linearizable.violations.length, 1);
    assert.equal(v.lostWrites, 1);
    // The stale read, plus m2 differing from m1.
    assert.equal(v.violations, 2);
    assert.ok(v.lines.some((l) => l.startsWith('lost writes: FAIL (2 checked, 1 findings)')), v.lines.join('\n'));
  });
});
