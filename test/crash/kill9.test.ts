/**
 * Crash test (issue 2): kill -9 the member in the middle of a stream of concurrent writes from
 * several connections, restart it, and every write that was acknowledged must be there with the
 * value and index it was acknowledged with. Rounds accumulate in one data dir, with a small
 * snapshot count so crashes also land around snapshots and compactions.
 * Replay a run with CRASH_SEED=<seed>; CRASH_ROUNDS overrides the number of rounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededPrng } from '../../src/common/prng.js';
import { startEtcd } from '../support/etcd-process.js';

const WRITERS = 8;

interface Acked {
  readonly value: string;
  readonly index: number;
}

interface NodeJsonLike {
  key?: string;
  value?: string;
  dir?: boolean;
  nodes?: NodeJsonLike[];
  modifiedIndex?: number;
}

/** Acknowledgements seen in the current round; the kill waits for a random number of them. */
let roundAcks = 0;

/** One connection's stream of writes to fresh keys until the server stops answering. */
async function writeUntilDown(clientUrl: string, prefix: string, acked: Map<string, Acked>): Promise<number> {
  let n = 0;
  for (;;) {
    const key = `${prefix}/${n}`;
    const value = `v-${prefix}-${n}`;
    let res: Response;
    try {
      res = await fetch(`${clientUrl}/v2/keys${key}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `value=${encodeURIComponent(value)}`,
      });
    } catch {
      return n; // killed mid-request: this write was never acknowledged
    }
    let body: { node?: { modifiedIndex?: number } };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      return n; // the connection died while the answer was being read: not acknowledged
    }
    assert.equal(res.status, 201, `PUT ${key}: ${JSON.stringify(body)}`);
    const index = body.node?.modifiedIndex;
    assert.ok(typeof index === 'number', `PUT ${key}: no modifiedIndex in ${JSON.stringify(body)}`);
    acked.set(key, { value, index });
    roundAcks++;
    n++;
  }
}

function collectFiles(node: NodeJsonLike, out: Map<string, Acked>): void {
  if (node.dir === true) {
    for (const child of node.nodes ?? []) collectFiles(child, out);
    return;
  }
  assert.ok(node.key !== undefined && node.value !== undefined && node.modifiedIndex !== undefined, JSON.stringify(node));
  out.set(node.key, { value: node.value, index: node.modifiedIndex });
}

async function readAll(clientUrl: string): Promise<{ files: Map<string, Acked>; etcdIndex: number }> {
  const res = await fetch(`${clientUrl}/v2/keys/crash?recursive=true`);
  const body = (await res.json()) as { node?: NodeJsonLike };
  const files = new Map<string, Acked>();
  if (res.status === 404) return { files, etcdIndex: Number(res.headers.get('x-etcd-index')) };
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.ok(body.node !== undefined);
  collectFiles(body.node, files);
  return { files, etcdIndex: Number(res.headers.get('x-etcd-index')) };
}

test('kill -9 during concurrent writes loses no acknowledged write (20+ rounds)', { timeout: 240_000 }, async () => {
  const seed = Number(process.env['CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  const rounds = Number(process.env['CRASH_ROUNDS'] ?? 20);
  console.log(`kill9 crash test: seed=${seed} rounds=${rounds} (replay with CRASH_SEED=${seed})`);
  const prng = new SeededPrng(seed);
  const etcd = await startEtcd({ args: ['-snapshot-count', '300'] });
  const acked = new Map<string, Acked>();
  let totalAcked = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      roundAcks = 0;
      const writers = Array.from({ length: WRITERS }, (_, w) => writeUntilDown(etcd.clientUrl, `/crash/r${round}/w${w}`, acked));
      // Kill mid-stream: after a random number of acknowledgements (writes keep flowing), with a
      // time cap so a slow machine cannot stall the round.
      const killAfterAcks = 10 + prng.int(300);
      const capMs = Date.now() + 3_000;
      while (roundAcks < killAfterAcks && Date.now() < capMs) await new Promise((r) => setTimeout(r, 2));
      await etcd.kill9();
      const counts = await Promise.all(writers);
      totalAcked += counts.reduce((a, b) => a + b, 0);
      await etcd.restart();
      const { files, etcdIndex } = await readAll(etcd.clientUrl);
      for (const [key, want] of acked) {
        assert.deepEqual(files.get(key), want, `round ${round} (seed ${seed}): acknowledged write ${key} lost or changed`);
      }
      const maxAckedIndex = Math.max(0, ...[...acked.values()].map((a) => a.index));
      assert.ok(etcdIndex >= maxAckedIndex, `round ${round}: X-Etcd-Index ${etcdIndex} behind acknowledged index ${maxAckedIndex}`);
    }
    assert.equal(acked.size, totalAcked);
    assert.ok(totalAcked > rounds, `only ${totalAcked} writes acknowledged in ${rounds} rounds: the test did not exercise anything`);
    const indexes = [...acked.values()].map((a) => a.index);
    assert.equal(new Set(indexes).size, indexes.length, 'two acknowledged writes share an index');
    console.log(`kill9 crash test: ${totalAcked} acknowledged writes survived ${rounds} kill -9 rounds`);
  } finally {
    await etcd.remove();
  }
});
