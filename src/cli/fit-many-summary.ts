// What a person reads after `strainer fit-many`: summary.md (how many signals are done and failed, mean
// ± std of PSNR at every report iteration, the final PSNR's spread, the failures with their errors), a
// contact sheet PNG (target | reconstruction of the first signals; clips: their waveform plots) and a
// histogram of the final PSNR (SVG). Rebuilt from the index after every process and by --merge.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, encodePng, makeImage, toChannels, type Image } from '../data/image.ts';
import type { Signal } from '../data/signal.ts';
import { histogramSvg } from '../util/plot.ts';
import type { IndexLine, RunConfig, RunDir } from '../node/many-dir.ts';

/** Signals on the contact sheet, and pairs per row. */
const SHEET = 16,
  PER_ROW = 4;

export const meanStd = (xs: readonly number[]): [number, number] => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [m, Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length)];
};

/** Nearest-neighbour enlargement so a 25x25 face is seen. */
function enlarge(a: Image, k: number): Image {
  if (k <= 1) return a;
  const out = makeImage(a.width * k, a.height * k, a.channels);
  for (let y = 0; y < out.height; y++)
    for (let x = 0; x < out.width; x++)
      for (let c = 0; c < a.channels; c++)
        out.data[(y * out.width + x) * a.channels + c] =
          a.data[(Math.floor(y / k) * a.width + Math.floor(x / k)) * a.channels + c];
  return out;
}

/** Cells laid out in rows on white, RGB. */
function tile(cells: Image[], perRow: number, gap: number): Image {
  const w = Math.max(...cells.map((c) => c.width)),
    h = Math.max(...cells.map((c) => c.height));
  const rows = Math.ceil(cells.length / perRow),
    cols = Math.min(perRow, cells.length);
  const out = makeImage(cols * (w + gap) + gap, rows * (h + gap) + gap, 3);
  out.data.fill(1);
  cells.forEach((cell, i) => {
    const c3 = toChannels(cell, 3);
    const x0 = gap + (i % perRow) * (w + gap),
      y0 = gap + Math.floor(i / perRow) * (h + gap);
    for (let y = 0; y < c3.height; y++)
      for (let x = 0; x < c3.width; x++)
        for (let c = 0; c < 3; c++)
          out.data[((y0 + y) * out.width + x0 + x) * 3 + c] = Math.min(
            1,
            Math.max(0, c3.data[(y * c3.width + x) * 3 + c]),
          );
  });
  return out;
}

/** Target and reconstruction side by side (the target blank when it cannot be read any more). */
function pair(target: Image | null, recon: Image): Image {
  const t = target ?? makeImage(recon.width, recon.height, recon.channels);
  return tile([t, recon], 2, 1);
}

function contactSheet(root: string, done: IndexLine[], target: (l: IndexLine) => Signal | null): Uint8Array | null {
  const cells: Image[] = [];
  for (const l of done.slice(0, SHEET)) {
    const dir = join(root, l.bundle as string);
    const png = ['reconstruction.png', 'waveform.png'].map((f) => join(dir, f)).find((p) => existsSync(p));
    if (!png) continue;
    const recon = decodeImage(new Uint8Array(readFileSync(png)), png);
    if (png.endsWith('waveform.png')) {
      cells.push(recon); // already target and reconstruction, one over the other
      continue;
    }
    const t = target(l);
    const timg: Image | null =
      t && t.dims.length === 2
        ? { width: t.dims[1], height: t.dims[0], channels: t.channels as 1 | 3, data: t.data }
        : null;
    const k = Math.max(1, Math.floor(96 / Math.max(recon.width, recon.height)));
    cells.push(pair(timg && enlarge(timg, k), enlarge(recon, k)));
  }
  if (cells.length === 0) return null;
  const wave = cells[0].width > 400;
  return encodePng(tile(cells, wave ? 1 : PER_ROW, 8));
}

/** Writes summary.md, contact-sheet.png and psnr-histogram.svg for the run's lines. */
export function writeSummary(
  dir: RunDir,
  config: RunConfig,
  lines: readonly IndexLine[],
  o: { target: (line: IndexLine) => Signal | null; total?: number },
): void {
  const done = lines.filter((l) => l.status === 'done'),
    failed = lines.filter((l) => l.status === 'failed');
  const total = o.total ?? lines.length;
  const s = config.settings;
  const md: string[] = [
    '# fit-many summary',
    '',
    `Source \`${config.source}\`${config.select ? ` (select ${config.select[0]}:${config.select[1]})` : ''}: ${total} signals, **${done.length} done**, ${failed.length} failed${total > lines.length ? `, ${total - lines.length} not yet fitted` : ''}.`,
    `Settings: ${Object.entries(s)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
      .join(', ')}.`,
    '',
  ];
  if (done.length > 0) {
    const iters = Object.keys((done[0].psnr as Record<string, number>) ?? {}).sort((a, b) => Number(a) - Number(b));
    const at = (k: string): number[] =>
      done.map((l) => (l.psnr as Record<string, number>)?.[k]).filter((v) => Number.isFinite(v));
    md.push(
      `PSNR (dB), mean ± std over the ${done.length} done signals:`,
      '',
      `| iteration | ${iters.join(' | ')} |`,
      `|---|${iters.map(() => '---').join('|')}|`,
      `| PSNR | ${iters
        .map((k) =>
          meanStd(at(k))
            .map((x) => x.toFixed(2))
            .join(' ± '),
        )
        .join(' | ')} |`,
      '',
    );
    const fin = done.map((l) => l.final_psnr as number);
    const [m, sd] = meanStd(fin);
    const lo = done[fin.indexOf(Math.min(...fin))],
      hi = done[fin.indexOf(Math.max(...fin))];
    const secs = done.map((l) => l.seconds as number).filter((v) => Number.isFinite(v));
    md.push(
      `Final PSNR ${m.toFixed(2)} ± ${sd.toFixed(2)} dB (lowest ${Math.min(...fin).toFixed(2)}: ${lo.name}; highest ${Math.max(...fin).toFixed(2)}: ${hi.name}); fit time ${meanStd(secs)[0].toFixed(2)} s per signal on ${[...new Set(done.map((l) => l.backend))].join(', ')}.`,
      '',
    );
    const sheet = contactSheet(dir.root, done, o.target);
    if (sheet) {
      dir.writeShared(join(dir.root, 'contact-sheet.png'), sheet);
      md.push(
        `![first signals](contact-sheet.png) — the first ${Math.min(SHEET, done.length)} done signals: target | reconstruction.`,
        '',
      );
    }
    dir.writeShared(
      join(dir.root, 'psnr-histogram.svg'),
      histogramSvg(fin, { title: `Final PSNR of ${done.length} signals`, xlabel: 'PSNR (dB)' }),
    );
    md.push('![final PSNR](psnr-histogram.svg)', '');
  }
  if (failed.length > 0) {
    md.push('## Failed', '', ...failed.map((l) => `- \`${l.name}\` (${l.input}): ${l.error}`), '');
  }
  dir.writeShared(join(dir.root, 'summary.md'), md.join('\n'));
}
