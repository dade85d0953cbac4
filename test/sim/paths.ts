/**
 * Where the regression list lives. It is read from the source tree both when running from
 * test/sim (tsx) and from dist/test/sim (compiled), because tsc does not copy .txt files.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function regressionsPath(): string {
  const besideSource = fileURLToPath(new URL('./regressions.txt', import.meta.url));
  if (existsSync(besideSource)) return besideSource;
  return fileURLToPath(new URL('../../../test/sim/regressions.txt', import.meta.url));
}
