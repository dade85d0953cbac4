import test from 'node:test';
import assert from 'node:assert/strict';
import { AppendCounters, FollowerLatency, LATENCY_MINIMUM_UNSET } from './stats.js';

test('follower latency: each response matches the oldest send of its kind', () => {
  const f = new FollowerLatency();
  assert.deepStrictEqual(f.stats(), {
    latency: { current: 0, average: 0, standardDeviation: 0, minimum: LATENCY_MINIMUM_UNSET, maximum: 0 },
    counts: { fail: 0, success: 0 },
  });
  f.sentApp(100);
  f.sentHeartbeat(101);
  f.sentApp(102);
  f.receivedHeartbeatResp(105); // 4 ms, the heartbeat at 101
  f.receivedAppResp(106); // 6 ms, the app at 100
  f.receivedAppResp(104.5); // 2.5 ms, the app at 102
  const s = f.stats();
  assert.deepStrictEqual(s.counts, { fail: 0, success: 3 });
  assert.equal(s.latency.current, 2.5);
  assert.equal(s.latency.minimum, 2.5);
  assert.equal(s.latency.maximum, 6);
  assert.equal(s.latency.average, 12.5 / 3);
  const mean = 12.5 / 3;
  const expectedSd = Math.sqrt((4 * 4 + 6 * 6 + 2.5 * 2.5) / 3 - mean * mean);
  assert.ok(Math.abs(s.latency.standardDeviation - expectedSd) < 1e-9);
});

test('follower latency: an unmatched response is a success without a sample; a failure forgets what was in flight', () => {
  const f = new FollowerLatency();
  f.receivedAppResp(10);
  assert.deepStrictEqual(f.stats().counts, { fail: 0, success: 1 });
  assert.equal(f.stats().latency.minimum, LATENCY_MINIMUM_UNSET);
  f.sentApp(20);
  f.connectionFailed();
  f.sendDropped();
  f.receivedAppResp(30);
  const s = f.stats();
  assert.deepStrictEqual(s.counts, { fail: 2, success: 2 });
  assert.equal(s.latency.average, 0);
  f.sentApp(40);
  f.receivedAppResp(41);
  assert.deepStrictEqual(f.stats().latency, { current: 1, average: 1, standardDeviation: 0, minimum: 1, maximum: 1 });
});

test('follower latency: outstanding sends are bounded (oldest forgotten)', () => {
  const f = new FollowerLatency();
  for (let i = 0; i < 5000; i++) f.sentApp(i);
  f.receivedAppResp(5000);
  // Only the newest 1024 are remembered: the oldest is the send at 3976.
  assert.equal(f.stats().latency.current, 5000 - 3976);
});

test('append rates: over the last 200 appends, omitted when idle over a second', () => {
  const c = new AppendCounters();
  assert.deepStrictEqual(c.stats(0), { recvAppendRequestCnt: 0, sendAppendRequestCnt: 0 });
  c.sentApp(1000, 100);
  // One sample spans no time: no rate yet.
  assert.deepStrictEqual(c.stats(1000), { recvAppendRequestCnt: 0, sendAppendRequestCnt: 1 });
  for (let i = 1; i <= 300; i++) c.sentApp(1000 + i * 10, 100);
  // Window: the last 200 sends, from t=2010 to t=4000 (1.99 s), 20000 bytes.
  assert.deepStrictEqual(c.stats(4000), {
    recvAppendRequestCnt: 0,
    sendAppendRequestCnt: 301,
    sendPkgRate: 200 / 1.99,
    sendBandwidthRate: 20000 / 1.99,
  });
  c.receivedApp(4500, 50);
  c.receivedApp(4750, 150);
  assert.deepStrictEqual(c.stats(5000), {
    recvAppendRequestCnt: 2,
    sendAppendRequestCnt: 301,
    recvPkgRate: 8,
    recvBandwidthRate: 800,
    sendPkgRate: 200 / 1.99,
    sendBandwidthRate: 20000 / 1.99,
  });
  assert.deepStrictEqual(c.stats(5001), { recvAppendRequestCnt: 2, sendAppendRequestCnt: 301, recvPkgRate: 8, recvBandwidthRate: 800 });
  assert.deepStrictEqual(c.stats(5751), { recvAppendRequestCnt: 2, sendAppendRequestCnt: 301 });
});
