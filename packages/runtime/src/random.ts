/**
 * A small, fast, seeded generator (mulberry32), uniform in [0, 1): one seed gives one sequence. The deterministic
 * counterpart of Math.random for everything that takes randomness as an input.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stream derived from a seed and a label, so that adding a consumer does not shift the others' draws. */
export function derivedRandom(seed: number, label: string): () => number {
  let hash = 0x811c9dc5 ^ seed;
  for (let index = 0; index < label.length; index++) {
    hash ^= label.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return seededRandom(hash >>> 0);
}
