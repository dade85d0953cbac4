/**
 * The checkers catch a deliberately broken build (ETCD_TEST_BREAK, off in every other test), and
 * the same scenario on the sane build is clean — so a green jepsen run means something.
 *
 * - local-quorum-read: isolate the leader, write through the majority, quorum-read from the old
 *   leader. Served from its local store, the read returns the overwritten value: a stale read.
 * - ack-before-commit: a run of kill-all faults under load. Writes acknowledged before they
 *   were persisted and committed are lost by the crash (or answered with an index that is not
 *   theirs): lost writes or violations.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizable } from './check/linearizable.js';
import { startBlackboxCluster } from './harness.js';
import type { KeyOp, KeyOperation } from './history.js';
import { runJepsen } from './jepsen.js';
import { V2Client } from './workload-http.js';
import { keyOutcome } from './workload.js';

const KEY = '/jepsen/r/k0';

/** Runs one op against one member (307s followed) and records it as the workload would. */
class Recorder {
  readonly history: KeyOperation[] = [];
  private readonly http = new V2Client();

  async run(url: string, op: KeyOp, timeoutMs = 2500): Promise<KeyOperation> {
    const target = `/v2/keys${KEY}`;
    const request =
      op.kind === 'read' ? { method: 'GET' as const, target: `${target}?quorum=true` } : op.kind === 'put' ? { method: 'PUT' as const, target, form: { value: op.value } } : null;
    if (request === null) throw new Error(`recorder: ${op.kind} not used here`);
    const invokeMs = performance.now();
    const exchange = await this.http.exchange(url, request, timeoutMs);
    const outcome = keyOutcome(op, exchange);
    const recorded: KeyOperation = {
      id: this.history.length,
      client: this.history.length,
      key: KEY,
      op,
      invokeMs,
      completeMs: outcome.type === 'unknown' ? Infinity : performance.now(),
      outcome,
    };
    this.history.push(recorded);
    return recorded;
  }

  close(): void {
    this.http.close();
  }
}

/** Isolates the leader, writes v2 through the new one, quorum-reads from the old one. */
async function staleReadScenario(breakMode: 'local-quorum-read' | undefined): Promise<{ history: KeyOperation[]; oldLeaderRead: KeyOperation }> {
  const cluster = await startBlackboxCluster({ size: 3, seed: 7, ...(breakMode !== undefined ? { break: breakMode } : {}) });
  const recorder = new Recorder();
  try {
    const url = (name: string): string => cluster.member(name).clientUrl;
    const oldLeader = await cluster.waitForLeader(15_000);
    const first = await recorder.run(url(oldLeader), { kind: 'put', value: 'v1' });
    assert.equal(first.outcome.type, 'ok', JSON.stringify(first.outcome));
    cluster.net.isolate(oldLeader);
    const newLeader = await cluster.waitForLeader(15_000, (name) => name !== oldLeader);
    const second = await recorder.run(url(newLeader), { kind: 'put', value: 'v2' });
    assert.equal(second.outcome.type, 'ok', JSON.stringify(second.outcome));
    const oldLeaderRead = await recorder.run(url(oldLeader), { kind: 'read' });
    cluster.net.heal();
    return { history: recorder.history, oldLeaderRead };
  } finally {
    recorder.close();
    await cluster.stop();
  }
}

describe('a broken build is caught', { concurrency: false }, () => {
  it('local-quorum-read: the old leader serves a stale quorum read; the checker reports it', async () => {
    const { history, oldLeaderRead } = await staleReadScenario('local-quorum-read');
    assert.deepEqual(oldLeaderRead.outcome, { type: 'ok', value: 'v1', modifiedIndex: okIndex(history[0]) });
    const result = checkLinearizable(history);
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.violations.map((v) => v.key),
      [KEY],
    );
  });

  it('the sane build: the isolated old leader cannot answer the quorum read; the history is linearizable', async () => {
    const { history, oldLeaderRead } = await staleReadScenario(undefined);
    assert.equal(oldLeaderRead.outcome.type, 'fail', JSON.stringify(oldLeaderRead.outcome));
    const result = checkLinearizable(history);
    assert.deepEqual({ ok: result.ok, violations: result.violations.length, timedOut: result.timedOutKeys }, { ok: true, violations: 0, timedOut: [] });
  });

  it('ack-before-commit: kill-all under load loses acknowledged writes (or breaks indexes); the sane build does not', async () => {
    const broken = await runJepsen({ seed: 11, timeSec: 15, members: 3, intervalMs: 4000, faults: ['kill-all'], break: 'ack-before-commit', outDir: null, log: quiet });
    assert.ok(broken.faults >= 2, `only ${broken.faults} kill-all faults`);
    assert.ok(broken.violations + broken.lostWrites > 0, broken.lastLine);
    assert.equal(broken.ok, false);
    const sane = await runJepsen({ seed: 11, timeSec: 15, members: 3, intervalMs: 4000, faults: ['kill-all'], outDir: null, log: quiet });
    assert.ok(sane.faults >= 2, `only ${sane.faults} kill-all faults`);
    assert.equal(sane.ok, true, sane.lastLine + '\n' + JSON.stringify(sane.checks, null, 1));
  });
});

function okIndex(op: KeyOperation | undefined): number {
  return op?.outcome.type === 'ok' ? op.outcome.modifiedIndex : -1;
}

function quiet(line: string): void {
  if (line.startsWith('jepsen: seed') || line.startsWith('jepsen: jepsen') || /ops, \d+ faults/.test(line)) console.log(line);
}
