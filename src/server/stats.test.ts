import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selfStatsJson, leaderStatsJson } from './stats.js';

test('self stats: field order, ids, Go uptime and RFC3339 times', () => {
  const start = Date.UTC(2014, 8, 1, 12, 0, 0, 500);
  const body = selfStatsJson({
    name: 'node1', id: '8e9e05c52164694d', isLeader: true, startTimeMs: start,
    leaderId: '8e9e05c52164694d', leaderSinceMs: start + 100, nowMs: start + 100 + 78_540,
    recvAppendRequestCnt: 0, sendAppendRequestCnt: 0,
  });
  assert.equal(JSON.stringify(body),
    '{"name":"node1","id":"8e9e05c52164694d","state":"leader","startTime":"2014-09-01T12:00:00.5Z",' +
    '"leaderInfo":{"leader":"8e9e05c52164694d","uptime":"1m18.54s","startTime":"2014-09-01T12:00:00.6Z"},' +
    '"recvAppendRequestCnt":0,"sendAppendRequestCnt":0}');
});

test('leader stats of a member of one has no followers', () => {
  assert.equal(JSON.stringify(leaderStatsJson('8e9e05c52164694d')), '{"leader":"8e9e05c52164694d","followers":{}}');
});
