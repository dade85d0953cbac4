import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advertisableHost, joinHostPort, parseBindAddr, parseHostPort, parseServiceUrl, type Fail } from './config-addr.js';

const fail: Fail = (reason) => {
  throw new Error(reason);
};

test('host:port, with IPv6 in brackets', () => {
  assert.deepEqual(parseHostPort('10.0.0.1:4001', fail), { host: '10.0.0.1', port: 4001 });
  assert.deepEqual(parseHostPort('[::1]:7001', fail), { host: '::1', port: 7001 });
  assert.deepEqual(parseHostPort('my-host.example_1:1', fail), { host: 'my-host.example_1', port: 1 });
  assert.throws(() => parseHostPort('[::1]7001', fail), { message: 'address must be host:port' });
  assert.throws(() => parseHostPort('[::1:7001', fail), { message: 'missing "]" in address' });
  assert.throws(() => parseHostPort('[zz]:1', fail), { message: '"zz" is not a valid IPv6 address' });
  assert.throws(() => parseHostPort('h:65536', fail), { message: 'port must be a number from 1 to 65535' });
});

test('bind addresses: host, host:port, :port, [v6], bare v6; the port defaults', () => {
  assert.deepEqual(parseBindAddr('0.0.0.0', 4001, fail), { host: '0.0.0.0', port: 4001 });
  assert.deepEqual(parseBindAddr('10.0.0.1:5000', 4001, fail), { host: '10.0.0.1', port: 5000 });
  assert.deepEqual(parseBindAddr(':5000', 4001, fail), { host: '', port: 5000 });
  assert.deepEqual(parseBindAddr('[::]', 7001, fail), { host: '::', port: 7001 });
  assert.deepEqual(parseBindAddr('[::]:7002', 7001, fail), { host: '::', port: 7002 });
  assert.deepEqual(parseBindAddr('fe80::1', 7001, fail), { host: 'fe80::1', port: 7001 });
  assert.throws(() => parseBindAddr('', 1, fail), { message: 'address must be host[:port]' });
});

test('service URLs: normalised to scheme://host:port', () => {
  assert.deepEqual(parseServiceUrl('HTTP://h:80/', fail), { scheme: 'http', host: 'h', port: 80, href: 'http://h:80' });
  assert.equal(parseServiceUrl('https://[::1]:2379', fail).href, 'https://[::1]:2379');
  assert.throws(() => parseServiceUrl('http://u@h:1', fail), { message: 'URL must not contain user information' });
  assert.throws(() => parseServiceUrl('http://h:1?x', fail), { message: 'URL must not contain a path, query or fragment' });
  assert.throws(() => parseServiceUrl('unix://sock:1', fail), { message: 'URL scheme must be http or https, not "unix"' });
});

test('advertising an unspecified host advertises loopback; IPv6 is bracketed', () => {
  assert.equal(advertisableHost('0.0.0.0'), '127.0.0.1');
  assert.equal(advertisableHost('::'), '127.0.0.1');
  assert.equal(advertisableHost('10.0.0.1'), '10.0.0.1');
  assert.equal(joinHostPort({ host: '::1', port: 1 }), '[::1]:1');
});
