/**
 * Seeded randomness. Every random choice in raft/, store/, the simulator and the
 * randomised tests comes from a Prng so that one seed replays a run exactly.
 */
export interface Prng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). n must be a positive safe integer. */
  int(n: number): number;
}

/** xoshiro128** seeded through splitmix32: fast, 128 bits of state, good enough for simulation. */
export class SeededPrng implements Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(readonly seed: number) {
    let x = seed >>> 0 ^ Math.floor(seed / 2 ** 32) >>> 0;
    const splitmix = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix();
    this.s1 = splitmix();
    this.s2 = splitmix();
    this.s3 = splitmix();
  }

  private nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An independent stream derived from this one (for per-node randomness). */
  fork(): SeededPrng {
    return new SeededPrng(this.nextUint32() * 2 ** 20 + (this.nextUint32() >>> 12));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Production randomness (server only; never in raft/ or store/). */
export const systemPrng: Prng = {
  next: () => Math.random(),
  int: (n: number) => Math.floor(Math.random() * n),
};
