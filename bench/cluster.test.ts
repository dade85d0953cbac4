/**
 * The cluster rows' parts: the 307-following load client and wrk's redirect counting against
 * small local servers whose answers are known exactly, and a 3-member etcd 3.4 cluster started,
 * led, loaded through a follower and killed by pid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { findRoles, isFollowerState, isLeaderState, startCluster } from './cluster.js';
import { percentile, putRandomKey, runHttpLoad } from './http-load.js';
import { parseWrkOutput, runWrk, writeWrkScripts } from './wrk.js';
import { makeTempDir } from './targets.js';
import { clusterWorkloads } from './cluster-suite.js';
import { preload, redirectSummary, runRounds, type BenchConfig, type Measurement, type Results } from './suite.js';
import type { TargetName } from './targets.js';
import { isAlive as alive } from '../test/support/process-run.js';

interface Seen {
  method: string;
  url: string;
  body: string;
}

/** A loopback server that records every request and answers with `answer`. */
async function recordingServer(answer: (req: Seen, res: http.ServerResponse) => void): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', body };
      seen.push(s);
      answer(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test('wrk output with the no-redirect scripts counts 3xx answers as errors', () => {
  const out = `  12949 requests in 1.00s, 4.00MB read
  Latency Distribution
     50%  850.00us
     99%    1.20s
Requests/sec:  12949.40
3xx responses: 12
`;
  assert.deepEqual(parseWrkOutput(out), { requestsPerSec: 12949.4, p50Ms: 0.85, p99Ms: 1200, requests: 12949, errors: 12 });
});

test('leader state: ours says leader, etcd 3.4 StateLeader; nothing else leads', () => {
  assert.deepEqual(
    ['leader', 'StateLeader', 'follower', 'StateFollower', 'StateCandidate', '', undefined, 'leaderless'].map(isLeaderState),
    [true, true, false, false, false, false, false, false],
  );
  assert.deepEqual(
    ['follower', 'StateFollower', 'leader', 'StateLeader', 'StateCandidate', ''].map(isFollowerState),
    [true, true, false, false, false, false],
  );
  assert.equal(percentile(new Float64Array([1, 2, 3, 4]), 50), 2);
  assert.equal(percentile(new Float64Array([1, 2, 3, 4]), 99), 4);
});

test('the Node load client follows each 307 with the same method and body, and counts it', { timeout: 30_000 }, async () => {
  const leader = await recordingServer((_req, res) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end('{"action":"set"}\n');
  });
  const follower = await recordingServer((req, res) => {
    res.writeHead(307, { location: `${leader.url}${req.url}` });
    res.end();
  });
  try {
    const r = await runHttpLoad({ url: follower.url, connections: 4, durationS: 1, next: putRandomKey(100) });
    assert.equal(r.errors, 0);
    assert.ok(r.requests > 20, `only ${r.requests} requests in 1 s`);
    assert.equal(r.redirectsFollowed, r.requests);
    assert.equal(follower.seen.length, r.requests);
    assert.equal(leader.seen.length, r.requests);
    for (const [i, s] of leader.seen.entries()) {
      const sent = follower.seen[i];
      assert.equal(s.method, 'PUT');
      assert.match(s.url, /^\/v2\/keys\/bench\/p\d+$/);
      assert.equal(s.body, `value=${'v'.repeat(64)}`);
      assert.equal(sent?.body, s.body);
    }
    assert.deepEqual(new Set(leader.seen.map((s) => s.url)), new Set(follower.seen.map((s) => s.url)));
  } finally {
    await follower.close();
    await leader.close();
  }
});

test('a redirect loop and error statuses are failures, not throughput', { timeout: 30_000 }, async () => {
  const loop = await recordingServer((req, res) => {
    res.writeHead(307, { location: req.url });
    res.end();
  });
  const failing = await recordingServer((_req, res) => {
    res.writeHead(500);
    res.end('{"errorCode":300}\n');
  });
  try {
    const looped = await runHttpLoad({ url: loop.url, connections: 2, durationS: 1, next: putRandomKey(10), maxRedirects: 3 });
    assert.equal(looped.errors, looped.requests);
    assert.equal(looped.requestsPerSec, 0);
    assert.equal(loop.seen.length, 4 * looped.requests, 'each failed request: the first try and 3 redirects');
    const failed = await runHttpLoad({ url: failing.url, connections: 2, durationS: 1, next: putRandomKey(10) });
    assert.equal(failed.errors, failed.requests);
    assert.equal(failing.seen.length, failed.requests);
  } finally {
    await loop.close();
    await failing.close();
  }
});

test('wrk with the no-redirect PUT script reports every 307 as an error', { timeout: 30_000 }, async () => {
  const redirecting = await recordingServer((_req, res) => {
    res.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' });
    res.end();
  });
  const dir = makeTempDir('bench-cluster-test-');
  try {
    const scripts = writeWrkScripts(dir);
    const r = await runWrk({ url: redirecting.url, connections: 2, durationS: 1, script: scripts.putRandomNoRedirect, scriptArgs: ['10'] });
    assert.ok(r.requests > 10, `only ${r.requests} requests`);
    assert.equal(r.errors, r.requests);
    const plain = await runWrk({ url: redirecting.url, connections: 2, durationS: 1, script: scripts.putRandom, scriptArgs: ['10'] });
    assert.equal(plain.errors, 0, 'the single-member script counts a 3xx as answered (unchanged)');
  } finally {
    await redirecting.close();
    rmSync(dir, { recursive: true, force: true });
  }
});


test('a 3-member etcd 3.4 cluster: one leader, a write through a follower, members killed on stop', { timeout: 90_000 }, async () => {
  const cluster = await startCluster('etcd', 'etcd', 'etcd x3');
  const pids = cluster.members.map((m) => m.pid);
  try {
    assert.equal(cluster.members.length, 3);
    assert.equal(new Set(cluster.members.map((m) => m.clientUrl)).size, 3);
    for (const m of cluster.members) assert.ok(Number(new URL(m.clientUrl).port) < 32768 && Number(new URL(m.peerUrl).port) < 32768);
    const { leader, follower } = await cluster.roles();
    assert.notEqual(leader.name, follower.name);
    assert.deepEqual(await findRoles([...cluster.members].reverse()).then((r) => r.leader.name), leader.name);
    const r = await runHttpLoad({ url: follower.clientUrl, connections: 4, durationS: 1, next: putRandomKey(20) });
    assert.equal(r.errors, 0);
    assert.equal(r.redirectsFollowed, 0, 'etcd 3.4 forwards a follower write internally');
    assert.ok(r.requests > 5, `only ${r.requests} writes in 1 s`);
    const listed = await fetch(`${leader.clientUrl}/v2/keys/bench?recursive=true`);
    const body = (await listed.json()) as { node: { nodes?: Array<{ key: string }> } };
    assert.ok((body.node.nodes ?? []).some((n) => /^\/bench\/p\d+$/.test(n.key)), 'writes through the follower did not land');
  } finally {
    await cluster.stop();
  }
  assert.deepEqual(pids.map(alive), [false, false, false]);
});

test('every cluster row runs against an etcd 3.4 cluster without a failed request', { timeout: 120_000 }, async () => {
  const config: BenchConfig = { durationS: 1, runs: 1, preloadKeys: 200, watcherCounts: [], putConnections: [1, 4], readConnections: 4 };
  const dir = makeTempDir('bench-cluster-rows-');
  const cluster = await startCluster('etcd', 'etcd', 'etcd x3');
  try {
    await preload((await cluster.roles()).leader.clientUrl, config.preloadKeys, 16);
    const logged: string[] = [];
    const rows = clusterWorkloads(config, writeWrkScripts(dir), (line) => logged.push(line));
    assert.deepEqual(
      rows.map((r) => r.label),
      [
        'PUT random key -> leader, 1 conn',
        'PUT random key -> leader, 4 conns',
        'PUT random key -> leader, 4 conns [node]',
        'PUT random key -> follower, 4 conns [node, 307]',
        'GET one key -> leader, 4 conns',
        'GET one key -> follower, 4 conns',
        'GET quorum=true -> leader, 4 conns',
        'GET quorum=true -> leader, 4 conns [node]',
        'GET quorum=true -> follower, 4 conns [node, 307]',
      ],
    );
    const results = await runRounds(config, rows, [cluster], (line) => logged.push(line));
    for (const [label, byTarget] of results) {
      const m = byTarget.get('etcd')?.[0];
      assert.ok(m !== undefined && m.kind === 'throughput', `${label}: no measurement`);
      assert.equal(m.result.errors, 0, `${label}: ${m.result.errors} failed requests`);
      assert.ok(m.result.requests > 5, `${label}: only ${m.result.requests} requests`);
    }
    assert.deepEqual(logged.filter((l) => l.includes('leader changed')), []);
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the 307 summary gives redirects per request for the Node-client rows only', () => {
  const wrkRun = { requestsPerSec: 1, p50Ms: 1, p99Ms: 1, requests: 10, errors: 0 };
  const results: Results = new Map([
    ['wrk row', new Map([['etcd', [{ kind: 'throughput', result: wrkRun }]]])],
    [
      'node row',
      new Map([
        ['etcd', [{ kind: 'throughput', result: { ...wrkRun, redirectsFollowed: 0 } }]],
        ['ours', [{ kind: 'throughput', result: { ...wrkRun, redirectsFollowed: 10 } }, { kind: 'throughput', result: { ...wrkRun, requests: 30, redirectsFollowed: 20 } }]],
      ]),
    ],
  ] as Array<[string, Map<TargetName, Measurement[]>]>);
  const targets = [
    { name: 'etcd' as const, label: 'etcd x3' },
    { name: 'ours' as const, label: 'ours x3' },
  ];
  assert.deepEqual(redirectSummary(results, targets), ['307s followed per request:', '  node row: etcd x3 0.00, ours x3 0.75']);
});

test('our 3-member cluster: a follower answers writes with a 307 that the load client follows to the leader', { timeout: 90_000 }, async () => {
  const cluster = await startCluster('ours', 'ours', 'ours x3');
  const pids = cluster.members.map((m) => m.pid);
  try {
    const { leader, follower } = await cluster.roles();
    const r = await runHttpLoad({ url: follower.clientUrl, connections: 4, durationS: 1, next: putRandomKey(20) });
    assert.equal(r.errors, 0);
    assert.ok(r.requests > 5, `only ${r.requests} writes in 1 s`);
    assert.equal(r.redirectsFollowed, r.requests, 'every write through our follower costs one 307');
    const listed = await fetch(`${leader.clientUrl}/v2/keys/bench?recursive=true`);
    const body = (await listed.json()) as { node: { nodes?: Array<{ key: string }> } };
    assert.ok((body.node.nodes ?? []).some((n) => /^\/bench\/p\d+$/.test(n.key)), 'redirected writes did not land');
  } finally {
    await cluster.stop();
  }
  assert.deepEqual(pids.map(alive), [false, false, false]);
});
