import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareKeysBytewise, isCleanKey, isHiddenBelow, normalizeKey, parentKey } from './path.js';

test('normalizeKey follows Go path.Clean(path.Join("/", key))', () => {
  const cases: [string, string][] = [
    ['', '/'],
    ['/', '/'],
    ['//', '/'],
    ['a', '/a'],
    ['/a/b/', '/a/b'],
    ['//a//b//', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../a', '/a'],
    ['/a/..', '/'],
    ['/a/b/../../..', '/'],
    ['/.a/..b/...', '/.a/..b/...'],
    ['/foo bar', '/foo bar'],
    ['/_hidden/', '/_hidden'],
  ];
  for (const [raw, clean] of cases) {
    assert.equal(normalizeKey(raw), clean, `normalizeKey(${JSON.stringify(raw)})`);
    assert.equal(isCleanKey(clean), true, `${clean} is clean`);
  }
  for (const dirty of ['', 'a', '/a/', '//a', '/a/./b', '/a/..', '/.', '/..']) assert.equal(isCleanKey(dirty), false, dirty);
});

test('parentKey', () => {
  assert.equal(parentKey('/a'), '/');
  assert.equal(parentKey('/a/b/c'), '/a/b');
});

test('isHiddenBelow: a "_" segment strictly below the watched key', () => {
  assert.equal(isHiddenBelow('/', '/_a'), true);
  assert.equal(isHiddenBelow('/', '/a/_b/c'), true);
  assert.equal(isHiddenBelow('/a', '/a/b_c'), false);
  assert.equal(isHiddenBelow('/_a', '/_a/b'), false);
  assert.equal(isHiddenBelow('/_a', '/_a'), false);
  assert.equal(isHiddenBelow('/a/b/c', '/a'), false, 'a watcher below a removed directory');
});

test('compareKeysBytewise orders by code point (UTF-8 byte order)', () => {
  assert.ok(compareKeysBytewise('/B', '/a') < 0);
  assert.ok(compareKeysBytewise('/a', '/a/b') < 0);
  assert.ok(compareKeysBytewise('/\uFF21', '/\u{1F600}') < 0, 'U+FF21 before U+1F600 even though its UTF-16 unit is larger');
  assert.ok(compareKeysBytewise('/\u{1F600}', '/\uFF21') > 0);
  assert.equal(compareKeysBytewise('/x', '/x'), 0);
});
