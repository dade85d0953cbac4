import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededPrng } from '../../src/common/prng.js';
import type { Message, NodeId } from '../../src/raft/types.js';
import { SimNetwork } from './network.js';

function msg(from: NodeId, to: NodeId, index = 0): Message {
  return {
    type: 'MsgApp', from, to, term: 1, logTerm: 0, index, entries: [], commit: 0, reject: false, rejectHint: 0,
    context: new Uint8Array(0),
  };
}

const everyone = (): boolean => true;
const perfect = { dropProbability: 0, duplicateProbability: 0, maxDelayTicks: 0 };

test('network: a message is delivered once, not before its delivery tick', () => {
  const net = new SimNetwork(new SeededPrng(1), { ...perfect, maxDelayTicks: 0 });
  assert.equal(net.send(msg('1', '2'), 5), 'queued');
  assert.equal(net.takeDeliverable(4, everyone), undefined);
  assert.deepEqual(net.takeDeliverable(5, everyone), msg('1', '2'));
  assert.equal(net.takeDeliverable(5, everyone), undefined);
});

test('network: a symmetric partition cuts both directions, an asymmetric cut only one', () => {
  const net = new SimNetwork(new SeededPrng(1), perfect);
  net.partition(['1'], ['2', '3']);
  assert.equal(net.send(msg('1', '2'), 0), 'cut');
  assert.equal(net.send(msg('3', '1'), 0), 'cut');
  assert.equal(net.send(msg('2', '3'), 0), 'queued');
  net.healAll();
  net.cut('1', '2');
  assert.equal(net.send(msg('1', '2'), 0), 'cut');
  assert.equal(net.send(msg('2', '1'), 0), 'queued');
});

test('network: a link cut while a message is in flight loses it and reports the loss', () => {
  const lost: Message[] = [];
  const net = new SimNetwork(new SeededPrng(1), perfect, (m) => lost.push(m));
  net.send(msg('1', '2'), 0);
  net.cut('1', '2');
  assert.equal(net.takeDeliverable(0, everyone), undefined);
  assert.deepEqual(lost, [msg('1', '2')]);
});

test('network: messages to a crashed node are dropped; a paused node keeps them queued', () => {
  const lost: Message[] = [];
  const net = new SimNetwork(new SeededPrng(1), perfect, (m) => lost.push(m));
  net.send(msg('1', '2'), 0);
  net.send(msg('1', '3'), 0);
  assert.equal(net.takeDeliverable(0, (id) => id !== '2' && id !== '3'), undefined);
  assert.equal(net.pendingCount(), 2);
  net.dropMessagesTo('2');
  assert.deepEqual(lost, [msg('1', '2')]);
  assert.deepEqual(net.takeDeliverable(0, everyone), msg('1', '3'));
});

test('network: random delays reorder messages, drops and duplicates happen at their rates', () => {
  const net = new SimNetwork(new SeededPrng(7), { dropProbability: 0.2, duplicateProbability: 0.2, maxDelayTicks: 5 });
  for (let i = 0; i < 1000; i++) net.send(msg('1', '2', i), 0);
  const order: number[] = [];
  for (let m = net.takeDeliverable(10, everyone); m !== undefined; m = net.takeDeliverable(10, everyone)) order.push(m.index);
  assert.ok(net.dropped > 150 && net.dropped < 250, `dropped ${net.dropped}`);
  assert.ok(net.duplicated > 120 && net.duplicated < 200, `duplicated ${net.duplicated}`);
  assert.equal(order.length, 1000 - net.dropped + net.duplicated);
  assert.notDeepEqual(order, [...order].sort((a, b) => a - b), 'delivery order differs from send order');
});
