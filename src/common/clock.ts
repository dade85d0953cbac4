/**
 * Time enters the system only through a Clock. raft/ and store/ never read it;
 * the server reads it and puts absolute times into log entries.
 */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (may jump). */
  nowMs(): number;
  /** Monotonic milliseconds for measuring intervals (never goes back). */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};

/** A clock tests and the simulator move by hand. */
export class ManualClock implements Clock {
  constructor(private wallMs = 1_600_000_000_000, private monoMs = 0) {}
  nowMs(): number {
    return this.wallMs;
  }
  monotonicMs(): number {
    return this.monoMs;
  }
  advance(ms: number): void {
    this.wallMs += ms;
    this.monoMs += ms;
  }
}
