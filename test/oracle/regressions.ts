/**
 * Seeds that once exposed a disagreement between our member and etcd 3.4. The oracle test and
 * `main.ts` always run them (with 100 requests each) in addition to the regular seeds, so a fixed
 * bug stays fixed. Add a seed with a comment naming what it found.
 */
export const regressionSeeds: readonly number[] = [];
