import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { earlyAckEvent, parseTestHooks, peerDialUrl } from './test-hooks.js';

describe('test hooks', () => {
  it('are off by default', () => {
    const hooks = parseTestHooks({});
    assert.equal(hooks.testBreak, null);
    assert.equal(hooks.peerDialMap.size, 0);
    assert.equal(peerDialUrl('http://127.0.0.1:7001', hooks), 'http://127.0.0.1:7001');
  });

  it('the dial map sends a peer URL to its proxy, matching by origin', () => {
    const hooks = parseTestHooks({ ETCD_TEST_PEER_DIAL_MAP: 'http://127.0.0.1:7001=http://127.0.0.1:17001, http://127.0.0.1:7002/=http://127.0.0.1:17002' });
    assert.equal(peerDialUrl('http://127.0.0.1:7001', hooks), 'http://127.0.0.1:17001');
    assert.equal(peerDialUrl('http://127.0.0.1:7002/', hooks), 'http://127.0.0.1:17002');
    assert.equal(peerDialUrl('http://127.0.0.1:7003', hooks), 'http://127.0.0.1:7003');
    assert.equal(peerDialUrl('not a url', hooks), 'not a url');
  });

  it('a malformed switch is refused', () => {
    assert.throws(() => parseTestHooks({ ETCD_TEST_PEER_DIAL_MAP: 'http://127.0.0.1:7001' }), /is not <peerURL>=<dialURL>/);
    assert.throws(() => parseTestHooks({ ETCD_TEST_BREAK: 'fsync-off' }), /unknown mode "fsync-off"/);
    assert.equal(parseTestHooks({ ETCD_TEST_BREAK: 'local-quorum-read' }).testBreak, 'local-quorum-read');
  });

  it('an early ack claims success at the guessed index', () => {
    const put = earlyAckEvent({ op: 'compareAndSwap', key: '/k', value: 'v2', prevValue: 'v1', prevIndex: 0, expireAtMs: null, refresh: false, nowMs: 0 }, 9);
    assert.deepEqual(put, { json: { action: 'compareAndSwap', node: { key: '/k', value: 'v2', modifiedIndex: 9, createdIndex: 9 } }, index: 9, created: false });
    const del = earlyAckEvent({ op: 'delete', key: '/k', dir: false, recursive: false, nowMs: 0 }, 10);
    assert.deepEqual(del.json, { action: 'delete', node: { key: '/k', modifiedIndex: 10, createdIndex: 10 } });
    const post = earlyAckEvent({ op: 'create', key: '/q', value: 'a', dir: false, expireAtMs: null, inOrder: true, nowMs: 0 }, 12);
    assert.equal(post.json.node?.key, '/q/00000000000000000012');
    assert.equal(post.created, true);
  });
});
