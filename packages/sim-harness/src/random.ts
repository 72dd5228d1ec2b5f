import { seededRandom } from '@pxsim/kvdb-client';

export { seededRandom };

/** A stream derived from a seed and a label, so that adding a consumer does not shift the others' draws. */
export function derivedRandom(seed: number, label: string): () => number {
  let hash = 0x811c9dc5 ^ seed;
  for (let index = 0; index < label.length; index++) {
    hash ^= label.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return seededRandom(hash >>> 0);
}
