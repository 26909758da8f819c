/** A seeded PRNG (mulberry32): the same seed gives the same run. */
export class Prng {
  #s: number;
  constructor(readonly seed: number) {
    this.#s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** The seed of this run: `THREADMESH_FUZZ_SEED` when set (to replay a failure), else random. */
export function fuzzSeed(): number {
  const env = process.env.THREADMESH_FUZZ_SEED;
  if (env !== undefined && env !== "") return Number(env) >>> 0;
  return Math.floor(Math.random() * 2 ** 32);
}
