// Small numeric summaries shared by the CLI, the benchmarks and the fitting loops.

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** PSNR in dB of `a` against `b`, values on the [0,1] scale (data range 1): -10 log10(MSE). */
export function psnrBetween(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`psnr: ${a.length} values against ${b.length}`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return -10 * Math.log10(se / a.length);
}
