/** The runner's command line, its summary line and the run files (no cluster). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from './history.js';
import { lastLine, parseArgs, readRecordFiles, summarize, writeRecordFiles, type CheckVerdict } from './jepsen-report.js';

const clean = (name: string): CheckVerdict => ({ name, ok: true, violations: 0, lostWrites: 0, incomplete: false, details: [] });

describe('jepsen runner bookkeeping', () => {
  it('parses the documented flags', () => {
    assert.deepEqual(parseArgs(['--seed', '42', '--time', '600', '--members', '5', '--clients', '16', '--break', 'local-quorum-read', '--no-nemesis']), {
      seed: 42,
      timeSec: 600,
      members: 5,
      clients: 16,
      break: 'local-quorum-read',
      nemesis: false,
    });
    assert.deepEqual(parseArgs([]), { timeSec: 60, members: 3, nemesis: true });
    assert.throws(() => parseArgs(['--seed']), /--seed needs a value/);
    assert.throws(() => parseArgs(['--time', '0']), /--time: expected an integer ≥ 1, got 0/);
    assert.throws(() => parseArgs(['--break', 'fsync']), /--break: expected ack-before-commit or local-quorum-read, got fsync/);
    assert.throws(() => parseArgs(['--nemesis']), /unknown flag --nemesis/);
  });

  it('prints the last line exactly, and a run is clean only when every check passed and decided', () => {
    assert.equal(lastLine(5123, 11, 0, 0), 'jepsen: 5123 ops, 11 faults, 0 violations, 0 lost writes');
    assert.equal(summarize(1, 3, 10, 2, [clean('a'), clean('b')], null).ok, true);
    const lost = summarize(1, 3, 10, 2, [clean('a'), { ...clean('lost'), ok: false, lostWrites: 2 }], null);
    assert.deepEqual([lost.ok, lost.lastLine], [false, 'jepsen: 10 ops, 2 faults, 0 violations, 2 lost writes']);
    const timedOut = summarize(1, 3, 10, 2, [{ ...clean('linearizable'), incomplete: true }], null);
    assert.deepEqual([timedOut.ok, timedOut.lastLine], [false, 'jepsen: 10 ops, 2 faults, 0 violations, 0 lost writes']);
  });

  it('writes the history as JSON lines and reads the whole record back (an unknown op keeps completeMs Infinity)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jepsen-report-'));
    try {
      const record: RunRecord = {
        seed: 9,
        members: 3,
        keys: ['/jepsen/r/k0'],
        operations: [
          { id: 0, client: 0, key: '/jepsen/r/k0', op: { kind: 'put', value: 'c0-1' }, invokeMs: 1, completeMs: 2, outcome: { type: 'ok', value: 'c0-1', modifiedIndex: 5 } },
          { id: 1, client: 1, key: '/jepsen/r/k0', op: { kind: 'put', value: 'c1-1' }, invokeMs: 3, completeMs: Infinity, outcome: { type: 'unknown', reason: 'timeout' } },
        ],
        queue: [],
        queueListing: [],
        watchers: [{ watcher: 0, startIndex: 4, endIndex: 7, entries: [] }],
        ttl: [],
        dumps: [{ member: 'n1', etcdIndex: 6, raftIndex: 9, nodes: [] }],
        endIndex: 6,
        dumpedAtMs: 10,
        dumpsConverged: true,
      };
      writeRecordFiles(dir, record, [{ kind: 'kill', target: 'n1', startMs: 1, endMs: 2 }]);
      const lines = readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n');
      assert.equal(lines.length, 3);
      assert.match(lines[1] ?? '', /"completeMs":"Infinity"/);
      assert.deepEqual(readRecordFiles(dir), { record, faults: [{ kind: 'kill', target: 'n1', startMs: 1, endMs: 2 }] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
