/** Smoke test of the benchmark's parts (wrk output parsing, one short wrk run, watch fan-out) against a real etcd. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { parseWrkOutput, runWrk, writeWrkScripts } from './wrk.js';
import { measureWatchFanout } from './watch.js';
import { median, preload } from './suite.js';
import { makeTempDir } from './targets.js';
import { startRealEtcd } from '../test/support/real-etcd.js';

const SAMPLE = `Running 1s test @ http://127.0.0.1:2379/v2/keys/bench/k0
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.37ms    6.10ms  43.10ms   90.00%
    Req/Sec     6.50k     1.00k    8.00k    70.00%
  Latency Distribution
     50%  850.00us
     75%    5.00ms
     90%   10.00ms
     99%    1.20s
  12949 requests in 1.00s, 4.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  12949.40
Transfer/sec:      4.00MB
`;

test('wrk output is parsed with units, and failed requests are counted', () => {
  assert.deepEqual(parseWrkOutput(SAMPLE), { requestsPerSec: 12949.4, p50Ms: 0.85, p99Ms: 1200, requests: 12949, errors: 10 });
  assert.throws(() => parseWrkOutput('garbage'), /unexpected output/);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});

test('one short PUT run and a 10-watcher fan-out against etcd 3.4', { timeout: 60_000 }, async () => {
  const etcd = await startRealEtcd();
  const dir = makeTempDir('bench-test-');
  try {
    await preload(etcd.clientUrl, 50, 8);
    const check = await fetch(`${etcd.clientUrl}/v2/keys/bench/k49`);
    assert.equal(check.status, 200);
    await check.arrayBuffer();
    const scripts = writeWrkScripts(dir);
    const put = await runWrk({ url: etcd.clientUrl, connections: 4, durationS: 1, script: scripts.putRandom, scriptArgs: ['50'] });
    assert.equal(put.errors, 0);
    assert.ok(put.requests > 10, `only ${put.requests} PUTs in 1 s`);
    const written = await fetch(`${etcd.clientUrl}/v2/keys/bench?recursive=true`);
    const body = (await written.json()) as { node: { nodes: Array<{ key: string }> } };
    assert.ok(body.node.nodes.some((n) => n.key.startsWith('/bench/p')), 'wrk PUTs did not reach /bench/p*');
    const ms = await measureWatchFanout(etcd.clientUrl, 10, '/bench/w');
    assert.ok(ms > 0 && ms < 5000, `fan-out took ${ms} ms`);
  } finally {
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
