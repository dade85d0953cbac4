/**
 * Runs every script in test/raft/testdata and compares each command's output with its golden
 * text. REWRITE=1 regenerates the goldens in place (review the diff before committing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InteractionEnv, parseScript, renderScript } from './interaction.js';

function testdataDir(): string {
  const here = fileURLToPath(import.meta.url);
  const distMarker = `${sep}dist${sep}`;
  const root = here.includes(distMarker) ? here.slice(0, here.lastIndexOf(distMarker)) : resolve(dirname(here), '..', '..');
  return join(root, 'test', 'raft', 'testdata');
}

const dir = testdataDir();
const scripts = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
const rewrite = process.env.REWRITE === '1';

test('there are at least 10 interaction scripts', () => {
  assert.ok(scripts.length >= 10, `found ${scripts.length}`);
});

for (const file of scripts) {
  test(`interaction: ${file}`, () => {
    const path = join(dir, file);
    const blocks = parseScript(readFileSync(path, 'utf8'));
    const env = new InteractionEnv();
    const actual = blocks.map((b) => ({ ...b, expected: env.run(b.command) }));
    if (rewrite) {
      writeFileSync(path, renderScript(actual));
      return;
    }
    for (const [i, block] of blocks.entries()) {
      assert.deepEqual(actual[i]?.expected, block.expected, `${file}: output of '> ${block.command}' differs (REWRITE=1 to accept)`);
    }
  });
}
