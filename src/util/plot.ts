// Minimal SVG line charts (PSNR against iteration) with no dependency: axes, ticks, a legend and
// one polyline per series (used by `fit --out`, `eval` and the benchmark reports); and histograms (the
// final PSNR of `fit-many`'s signals).

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  color?: string;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toPrecision(10));
  return out;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function lineChartSvg(
  series: readonly Series[],
  o: { title: string; xlabel: string; ylabel: string; width?: number; height?: number },
): string {
  const W = o.width ?? 640,
    H = o.height ?? 400,
    L = 60,
    R = 20,
    T = 40,
    Bm = 50;
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = pts.map((p) => p[0]),
    ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs, 0),
    x1 = Math.max(...xs, 1);
  const y0 = Math.floor(Math.min(...ys, 0)),
    y1 = Math.ceil(Math.max(...ys, 1));
  const sx = (x: number): number => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const sy = (y: number): number => H - Bm - ((y - y0) / (y1 - y0 || 1)) * (H - T - Bm);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
    `<line x1="${L}" y1="${H - Bm}" x2="${W - R}" y2="${H - Bm}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - Bm}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xlabel)}</text>`,
    `<text transform="translate(16 ${(T + H - Bm) / 2}) rotate(-90)" text-anchor="middle">${esc(o.ylabel)}</text>`,
  ];
  for (const t of niceTicks(x0, x1))
    parts.push(
      `<line x1="${sx(t)}" y1="${H - Bm}" x2="${sx(t)}" y2="${H - Bm + 5}" stroke="black"/><text x="${sx(t)}" y="${H - Bm + 18}" text-anchor="middle">${t}</text>`,
    );
  for (const t of niceTicks(y0, y1))
    parts.push(
      `<line x1="${L - 5}" y1="${sy(t)}" x2="${W - R}" y2="${sy(t)}" stroke="#ddd"/><text x="${L - 8}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`,
    );
  series.forEach((s, i) => {
    const c = s.color ?? COLORS[i % COLORS.length];
    const d = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${d}"/>`);
    parts.push(
      `<rect x="${L + 10}" y="${T + 6 + 16 * i}" width="12" height="3" fill="${c}"/><text x="${L + 28}" y="${T + 11 + 16 * i}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** A histogram of `values` in `bins` equal bins between their min and max (one bar per bin, its count above). */
export function histogramSvg(
  values: readonly number[],
  o: { title: string; xlabel: string; bins?: number; width?: number; height?: number },
): string {
  const W = o.width ?? 640,
    H = o.height ?? 400,
    L = 60,
    R = 20,
    T = 40,
    Bm = 50;
  const xs = values.filter((v) => Number.isFinite(v));
  const bins = Math.max(1, o.bins ?? Math.min(30, Math.max(5, Math.ceil(Math.sqrt(xs.length)))));
  const lo = xs.length ? Math.min(...xs) : 0,
    hi = xs.length ? Math.max(...xs) : 1;
  const span = hi - lo || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of xs) counts[Math.min(bins - 1, Math.floor(((v - lo) / span) * bins))]++;
  const top = Math.max(1, ...counts);
  const bw = (W - L - R) / bins;
  const sy = (c: number): number => H - Bm - (c / top) * (H - T - Bm);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
    `<line x1="${L}" y1="${H - Bm}" x2="${W - R}" y2="${H - Bm}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - Bm}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xlabel)}</text>`,
    `<text transform="translate(16 ${(T + H - Bm) / 2}) rotate(-90)" text-anchor="middle">count</text>`,
  ];
  for (const t of niceTicks(0, top).filter((t) => Number.isInteger(t)))
    parts.push(
      `<line x1="${L - 5}" y1="${sy(t)}" x2="${W - R}" y2="${sy(t)}" stroke="#ddd"/><text x="${L - 8}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`,
    );
  counts.forEach((c, i) => {
    const x = L + i * bw;
    parts.push(
      `<rect x="${(x + 1).toFixed(1)}" y="${sy(c).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${(H - Bm - sy(c)).toFixed(1)}" fill="${COLORS[0]}"/>`,
    );
    if (c > 0)
      parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(sy(c) - 4).toFixed(1)}" text-anchor="middle">${c}</text>`);
  });
  for (let i = 0; i <= bins; i += Math.max(1, Math.ceil(bins / 8))) {
    const x = L + i * bw;
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${H - Bm}" x2="${x.toFixed(1)}" y2="${H - Bm + 5}" stroke="black"/><text x="${x.toFixed(1)}" y="${H - Bm + 18}" text-anchor="middle">${+(lo + (i / bins) * span).toFixed(2)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
