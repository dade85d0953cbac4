/**
 * Invariant checks. A broken invariant is a bug: it throws AssertionError and the
 * process is expected to crash rather than continue with corrupt state.
 * Expected conditions (bad input, missing keys) are EtcdError, never assert.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === 'function' ? message() : message);
  }
}

/** Indexes and terms are JS numbers; they must stay exact. */
export function assertSafeIndex(value: number, what: string): void {
  assert(Number.isSafeInteger(value) && value >= 0, () => `${what} must be a safe non-negative integer, got ${value}`);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
