// Which prior the demo page selects for a source: among the priors of its dimension (images, clips),
// the one trained on the same domain (MRI slices for an MRI sample, faces for faces, speech for a
// spoken clip), then for an image the one trained nearest the fitting size, then a float32 prior over
// a quantized copy of it; with no domain match, the size decides (the MRI prior still speeds up
// photos: bench/eval.md). So the page opens with a prior that shows what a prior does.

export type Domain = 'mri' | 'faces' | 'photo' | 'speech' | 'unknown';

export interface PriorFacts {
  name: string;
  /** The signal dimension it was trained on (2 images, 1 clips). */
  inDim: number;
  /** From the manifest: data.description, an image prior's signal.height, a clip prior's sample rate, whether it is a quantized copy. */
  description?: string;
  res?: number;
  rate?: number;
  quantized?: boolean;
  /** A meta-learned prior, with its own decoder: fitted by the paper's recipe only. */
  wholeNetwork?: boolean;
}

/** The domain a name or description speaks of (sample file names: mri-*, skimage-*, lfw-*). */
export function domainOf(text: string): Domain {
  if (/\bmri\b|mri-|nifti|ch2bet/i.test(text)) return 'mri';
  if (/\blfw\b|lfw-|face/i.test(text)) return 'faces';
  if (/skimage|photo|nature|camera|coffee|chelsea/i.test(text)) return 'photo';
  if (/speech|spoken|asterisk/i.test(text)) return 'speech';
  return 'unknown';
}

/** The best prior for a source of `domain` (an image fitted at `size` x `size`; no size for a clip), or null when there is none. */
export function bestPrior(priors: readonly PriorFacts[], domain: Domain, size?: number): PriorFacts | null {
  const score = (p: PriorFacts): number[] => [
    domain !== 'unknown' && domainOf(`${p.name} ${p.description ?? ''}`) === domain ? 1 : 0,
    size === undefined ? 0 : p.res ? -Math.abs(Math.log2(p.res / size)) : -99,
    p.quantized ? 0 : 1,
  ];
  // Lexicographic: the first criterion that differs decides; a full tie keeps the earlier (by name).
  const beats = (a: number[], b: number[]): boolean => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i];
    return false;
  };
  let best: PriorFacts | null = null,
    bestScore: number[] = [];
  for (const p of priors) {
    const s = score(p);
    if (best === null || beats(s, bestScore)) {
      best = p;
      bestScore = s;
    }
  }
  return best;
}
