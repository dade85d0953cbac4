import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goQueryEscape, machineRecordValue, registrationCommands } from './registration.js';

test('machine record is url-escaped like Go, etcd before raft (tutorial line)', () => {
  assert.equal(machineRecordValue('http://10.132.252.38:4001', 'http://10.132.252.38:7001'),
    'etcd=http%3A%2F%2F10.132.252.38%3A4001&raft=http%3A%2F%2F10.132.252.38%3A7001');
  assert.equal(goQueryEscape("a b*~!'é"), 'a+b%2A~%21%27%C3%A9');
});

test('registration sets the machine record then the cluster config', () => {
  const [machine, config] = registrationCommands('node1', 'http://127.0.0.1:4001', 'http://127.0.0.1:7001',
    { activeSize: 9, removeDelay: 1800, syncInterval: 5 }, 1000);
  assert.equal(machine.key, '/_etcd/machines/node1');
  assert.equal(config.key, '/_etcd/config');
  assert.equal(config.value, '{"activeSize":9,"removeDelay":1800,"syncInterval":5}');
  assert.equal(machine.expireAtMs, null);
});
