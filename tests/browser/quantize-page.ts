// Page side of tests/browser/quantize.test.ts: the float32 encoder that loadPriorFromUrl makes of a
// (compact) prior in Chromium, returned as JSON for comparison with Node's loadPrior.
import { loadPriorFromUrl } from '../../src/web/prior.ts';

export async function priorWeights(url: string): Promise<{ name: string; encoder: Record<string, number[]> }> {
  const p = await loadPriorFromUrl(url, { cache: false });
  return { name: p.name, encoder: Object.fromEntries(Object.entries(p.encoder).map(([k, v]) => [k, Array.from(v)])) };
}
