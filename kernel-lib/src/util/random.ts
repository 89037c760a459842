/**
 * Seeded pseudo-random numbers. Every random choice in ftgen (bootstrap resamples,
 * demonstration sampling, shuffling, weight init) draws from here, so a seed fixes a run.
 */

/** A generator of uniform floats in [0, 1). */
export interface Rng {
  /** Next float in [0, 1). */
  next(): number;
  /** Next integer in [0, n). */
  int(n: number): number;
  /** A new independent generator derived from this one (for sub-tasks). */
  fork(): Rng;
}

/** 32-bit string hash (FNV-1a), to turn names into seeds. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * sfc32 generator (Small Fast Counting, from PractRand): 128 bits of state, passes BigCrush,
 * and is exact in JS 32-bit integer arithmetic on every platform.
 * A string seed is hashed; a number seed is used as is.
 */
export function makeRng(seed: number | string): Rng {
  const s = typeof seed === "string" ? hashSeed(seed) : seed >>> 0;
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = s;
  const nextU32 = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return r >>> 0;
  };
  // Warm up so that nearby seeds diverge.
  for (let i = 0; i < 15; i++) nextU32();
  const rng: Rng = {
    next: () => nextU32() / 4294967296,
    int: (n: number) => Math.floor((nextU32() / 4294967296) * n),
    fork: () => makeRng(nextU32()),
  };
  return rng;
}

/** Fisher–Yates shuffle of a copy of `items`. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = out[i];
    out[i] = out[j];
    out[j] = tmp;
  }
  return out;
}

/** `k` distinct indices from [0, n), in the order drawn. */
export function sampleIndices(n: number, k: number, rng: Rng): number[] {
  if (k > n) throw new Error(`sampleIndices: cannot draw ${k} distinct items from ${n}`);
  return shuffled(Array.from({ length: n }, (_, i) => i), rng).slice(0, k);
}
