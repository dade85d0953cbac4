import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { absent, fail, HistoryBuilder, ok, saw, unknown } from './build.js';
import { checkLinearizable, explain, type LinearizableResult, type Violation } from './linearizable.js';

const K = '/jepsen/r/k0';

function accepted(h: HistoryBuilder): void {
  const result = checkLinearizable(h.history());
  assert.deepEqual(result.violations.map((v) => explain(v)), []);
  assert.deepEqual(result.timedOutKeys, []);
  assert.equal(result.ok, true);
}

/** Asserts one violation on K whose stuck op is `stuckId`, and returns it. */
function rejected(h: HistoryBuilder, stuckId: number): Violation {
  const result: LinearizableResult = checkLinearizable(h.history());
  assert.equal(result.ok, false);
  assert.deepEqual(result.timedOutKeys, []);
  assert.equal(result.violations.length, 1);
  const v = result.violations[0];
  assert.ok(v !== undefined);
  assert.equal(v.key, K);
  assert.equal(v.stuck.id, stuckId, explain(v));
  return v;
}

describe('checkLinearizable rejects', () => {
  it('a stale read: the old value after a later write completed', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.put(2, K, 'b', [20, 30], ok(6));
    const stale = h.read(3, K, [40, 50], saw('a', 5));
    const v = rejected(h, stale.id);
    assert.deepEqual(v.prefix, [0, 1]);
    assert.equal(v.stateAfterPrefix, '"b"@6');
    assert.equal(v.placedAtMost, 2);
    assert.deepEqual(
      v.candidates.map((c) => [c.op.id, c.why]),
      [[2, 'it saw "a"@5 but the key holds "b"@6']],
    );
    assert.equal(
      explain(v),
      [
        `key ${K}: not linearizable — at most 2 of its 3 required ops can be placed in order.`,
        '  longest linearizable prefix (2 ops):',
        '    #0 c1 put "a" → ok "a"@5 [0.0..10.0 ms]',
        '    #1 c2 put "b" → ok "b"@6 [20.0..30.0 ms]',
        '  then the key holds "b"@6, and this op must come next but cannot:',
        '    #2 c3 read → ok "a"@5 [40.0..50.0 ms]',
        '  candidate #2 c3 read → ok "a"@5 [40.0..50.0 ms]: it saw "a"@5 but the key holds "b"@6',
      ].join('\n'),
    );
  });

  it('a lost write: an acknowledged CAS never seen, a later read sees the value before it', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.casValue(2, K, 'a', 'b', [20, 30], ok(6));
    h.read(3, K, [35, 38], saw('b', 6));
    const lost = h.read(-1, K, [100, 110], saw('a', 5));
    rejected(h, lost.id);
  });

  it('a reordered CAS: two CAS by value from the same prevValue both succeed', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.casValue(2, K, 'a', 'b', [20, 40], ok(6));
    const second = h.casValue(3, K, 'a', 'c', [25, 45], ok(7));
    const v = rejected(h, second.id);
    assert.equal(v.candidates[0]?.why, 'its condition fails when the key holds "b"@6');
  });

  it('two CAS by index from the same prevIndex both succeed', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.casIndex(2, K, 5, 'b', [20, 40], ok(6));
    const second = h.casIndex(3, K, 5, 'c', [25, 45], ok(7));
    rejected(h, second.id);
  });

  it('a read of a value never written', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    const phantom = h.read(2, K, [20, 30], saw('zz', 6));
    rejected(h, phantom.id);
  });

  it('a modifiedIndex that goes backwards', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    const back = h.put(2, K, 'b', [20, 30], ok(4));
    const v = rejected(h, back.id);
    assert.equal(v.candidates[0]?.why, 'its index 4 does not follow the key\'s "a"@5');
  });

  it('a read that sees the right value at the wrong index', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    const wrong = h.read(2, K, [20, 30], saw('a', 6));
    rejected(h, wrong.id);
  });

  it('an ok create on an existing key', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    const create = h.create(2, K, 'b', [20, 30], ok(6));
    const v = rejected(h, create.id);
    assert.equal(v.candidates[0]?.why, 'its condition fails when the key holds "a"@5');
  });

  it('a 101 CAS that could only have seen the matching value', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    const cas = h.casValue(2, K, 'a', 'b', [20, 30], fail(101));
    const v = rejected(h, cas.id);
    assert.equal(v.candidates[0]?.why, 'a 101 answer is impossible when the key holds "a"@5');
  });

  it('a 101 CAS on an absent key (etcd answers 100 there)', () => {
    const h = new HistoryBuilder();
    const cas = h.casValue(2, K, 'a', 'b', [20, 30], fail(101));
    rejected(h, cas.id);
  });

  it('a 105 create on a key that cannot exist', () => {
    const h = new HistoryBuilder();
    h.read(1, K, [0, 10], absent);
    const create = h.create(2, K, 'b', [20, 30], fail(105));
    rejected(h, create.id);
  });

  it('a delete then a read that still sees the value', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.delete(2, K, [20, 30], ok(6));
    const read = h.read(3, K, [40, 50], saw('a', 5));
    rejected(h, read.id);
  });

  it('a write seen before it was invoked', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    const early = h.read(2, K, [20, 30], saw('b', 6));
    h.put(3, K, 'b', [40, 50], ok(6));
    rejected(h, early.id);
  });

  it('an unknown write read, then read undone (its value came and went with no write between)', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.put(2, K, 'b', [20, 30], unknown);
    h.read(3, K, [40, 50], saw('b', 7));
    const undone = h.read(3, K, [60, 70], saw('a', 5));
    rejected(h, undone.id);
  });

  it('a later write whose index does not follow an unknown write that was seen', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.put(2, K, 'b', [20, 30], unknown);
    h.read(3, K, [40, 50], saw('b', 9));
    const next = h.put(3, K, 'c', [60, 70], ok(8));
    rejected(h, next.id);
  });

  it('reports each bad key once and keeps checking the others', () => {
    const h = new HistoryBuilder();
    h.put(1, 'k1', 'a', [0, 10], ok(5));
    h.read(2, 'k1', [20, 30], saw('a', 5));
    h.put(1, 'k2', 'b', [0, 10], ok(6));
    h.read(2, 'k2', [20, 30], absent);
    h.read(2, 'k3', [20, 30], saw('x', 2));
    const result = checkLinearizable(h.history());
    assert.equal(result.keys, 3);
    assert.equal(result.ops, 5);
    assert.deepEqual(
      result.violations.map((v) => [v.key, v.stuck.id]),
      [
        ['k2', 3],
        ['k3', 4],
      ],
    );
  });
});

describe('checkLinearizable accepts', () => {
  it('concurrent overlapping writes, read in index order a then b', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 50], ok(5));
    h.put(2, K, 'b', [10, 60], ok(6));
    h.read(3, K, [20, 30], saw('a', 5));
    h.read(3, K, [70, 80], saw('b', 6));
    accepted(h);
  });

  it('concurrent overlapping writes, read in index order b then a', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 50], ok(6));
    h.put(2, K, 'b', [10, 60], ok(5));
    h.read(3, K, [20, 30], saw('b', 5));
    h.read(3, K, [70, 80], saw('a', 6));
    accepted(h);
  });

  it('an unknown write that happened late: seen long after its invocation', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.put(2, K, 'b', [20, 30], unknown);
    h.read(3, K, [40, 50], saw('a', 5));
    h.read(3, K, [60, 70], saw('a', 5));
    h.read(-1, K, [500, 510], saw('b', 9));
    accepted(h);
  });

  it('an unknown write that never happened', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.put(2, K, 'b', [20, 30], unknown);
    h.put(3, K, 'c', [40, 50], ok(7));
    h.read(-1, K, [500, 510], saw('c', 7));
    accepted(h);
  });

  it('a timed-out CAS that took effect, and one that did not', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.casValue(2, K, 'a', 'b', [20, 30], unknown);
    h.casValue(3, K, 'b', 'c', [40, 50], ok(8));
    h.casValue(4, K, 'zz', 'd', [60, 70], unknown);
    h.casIndex(5, K, 8, 'e', [80, 90], unknown);
    h.read(-1, K, [500, 510], saw('c', 8));
    accepted(h);
  });

  it('reads of an absent key before any write', () => {
    const h = new HistoryBuilder();
    h.read(1, K, [0, 10], absent);
    h.read(2, K, [5, 15], absent);
    h.create(1, K, 'a', [20, 30], ok(3));
    h.read(2, K, [25, 35], absent); // overlaps the create
    h.read(2, K, [40, 50], saw('a', 3));
    accepted(h);
  });

  it('the tutorial-like single-client sequence', () => {
    const h = new HistoryBuilder();
    let t = 0;
    const at = (): [number, number] => [t++, t++];
    h.read(1, K, at(), absent);
    h.delete(1, K, at(), fail(100));
    h.casValue(1, K, 'x', 'y', at(), fail(100));
    h.casIndex(1, K, 3, 'y', at(), fail(100));
    h.put(1, K, 'Hello', at(), ok(3));
    h.read(1, K, at(), saw('Hello', 3));
    h.create(1, K, 'other', at(), fail(105));
    h.casValue(1, K, 'nope', 'World', at(), fail(101));
    h.casValue(1, K, 'Hello', 'World', at(), ok(4));
    h.casIndex(1, K, 3, 'stale', at(), fail(101));
    h.casIndex(1, K, 4, 'again', at(), ok(7));
    h.casIndex(1, K, 0, 'plain-set', at(), ok(8)); // prevIndex=0 is a set (§17)
    h.read(1, K, at(), saw('plain-set', 8));
    h.delete(1, K, at(), ok(9));
    h.read(1, K, at(), absent);
    h.create(1, K, 'new', at(), ok(10));
    h.put(1, K, 'failed-put', at(), fail(0)); // never reached a leader: says nothing
    h.read(1, K, at(), saw('new', 10));
    accepted(h);
  });

  it('a 101 CAS by index on the index an unknown write later took (it took effect after the CAS)', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    h.put(2, K, 'b', [20, 30], unknown);
    h.casIndex(3, K, 6, 'c', [40, 50], fail(101));
    h.read(3, K, [60, 70], saw('b', 6));
    accepted(h);
  });

  it('an empty history and a history of only unknown ops', () => {
    assert.deepEqual(checkLinearizable([]), { ok: true, keys: 0, ops: 0, violations: [], timedOutKeys: [] });
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 1], unknown);
    h.read(2, K, [0, 1], unknown);
    accepted(h);
  });
});

describe('checkLinearizable input', () => {
  it('throws on an op that completes before it was invoked', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [10, 5], ok(5));
    assert.throws(() => checkLinearizable(h.history()), /op #0 on \/jepsen\/r\/k0 has invokeMs 10 and completeMs 5/);
  });

  it('treats an unknown op as never completing whatever its completeMs says (JSON has no Infinity)', () => {
    const h = new HistoryBuilder();
    h.put(1, K, 'a', [0, 10], ok(5));
    const lateUnknown = { ...h.put(2, K, 'b', [20, 30], unknown), completeMs: 30 };
    const history = [...h.history().slice(0, 1), lateUnknown];
    const withRead = [...history, { ...lateUnknown, id: 9, client: 3, op: { kind: 'read' as const }, invokeMs: 40, completeMs: 50, outcome: { type: 'ok' as const, value: 'a', modifiedIndex: 5 } }];
    assert.equal(checkLinearizable(withRead).ok, true);
  });
});
