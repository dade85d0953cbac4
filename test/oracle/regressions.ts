/**
 * Seeds that once exposed a disagreement between our member and etcd 3.4. The oracle test and
 * `main.ts` always run them (with 100 requests each) in addition to the regular seeds, so a fixed
 * bug stays fixed whatever first seed a run uses. Add a seed with a comment naming what it found.
 */
export const regressionSeeds: readonly number[] = [
  2, // PUT value=%FF%80: invalid UTF-8 must render as the escape \ufffd (Go), not a raw U+FFFD
  3, // HEAD ?quorum=true&wait=true: 3.4 answers 400 (209, wait only with GET), not a plain read
  5, // HEAD ?wait=true: same (400 with X-Etcd-Index, no raft headers)
  19, // 301 Location naming an in-order key (oracle normalisation of 20-digit names in Location)
  1, // stream=true watch on a key, then DELETE of the key: 3.4 (and 0.4.6) send the event twice
];
