// Seeded random numbers (mulberry32, a well-known 32-bit PRNG), so inits and samplings are
// reproducible from `--seed` in Node and in the browser alike.

export interface Rng {
  next(): number; // uniform in [0, 1)
  uniform(lo: number, hi: number): number;
  normal(): number;
  int(n: number): number; // uniform integer in [0, n)
}

export function rng(seed: number): Rng {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal: () => {
      const u = Math.max(next(), 1e-12),
        v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    int: (n) => Math.floor(next() * n),
  };
}
