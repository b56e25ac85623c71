// Time to quality in the browser (issue 18): headless Chromium, onnxruntime-web on wasm, each fit run by
// the library's fit worker (web/worker.ts) as the demo page runs it, from the shipped mri-178 prior at
// 178x178. The fast recipe (untilPsnr and a time limit) on the prior's held-out slices (near: its
// manifest's data.test) and on far slices, and the paper recipe on some near slices for the ratio.
// Seconds to 30 / 35 / 40 dB are read from the worker, as the demo's table reads them: the step events'
// first whole-signal PSNR at or above each, and at the end the run's summary (RunSummary.milestones), which
// also has the fast recipe's first evaluation, before any step (no step event carries it). One run, one slice after the other; writes the
// block between the markers of bench/ttq-web.md (the text around it is kept) and bench/ttq-web.json.
//   npm run bench:ttq-web [-- --near z073,... --far z040,... --paper z073 --limit 60 --until 40 --out bench/ttq-web.md]
//   npm run bench:ttq-web -- --report    (the markdown again from the JSON beside it, nothing measured)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadDataSource } from '../src/node/datasets.ts';
import { writeFileAtomic } from '../src/node/fs.ts';
import { median } from '../src/util/stats.ts';
import type { FitRecipe } from '../src/train/plan.ts';
import { startWebServer, REPO_ROOT } from '../web/server.ts';
import { LAUNCH_ARGS, CHROMIUM, callHarness } from '../tests/browser/env.ts';
import type { fitInWorker, PlainImage } from '../tests/browser/harness.ts';

const PRIOR = 'mri-178';
const RES = 178;
const MILESTONES = [30, 35, 40];
/** Issue 18's goal: 40 dB within this many seconds on the near slices, in wasm. */
const GOAL_S = 6;

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
};
const list = (s: string): string[] => s.split(',').filter((x) => x !== '' && x !== '-'); // '-': none
const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'models', PRIOR, 'manifest.json'), 'utf8')) as {
  data?: { test?: string[] };
};
const near = list(arg('near', (manifest.data?.test ?? []).join(',')));
const far = list(arg('far', 'z040,z048,z056,z110,z130'));
const paperOn = list(arg('paper', near[0] ?? ''));
const limit = Number(arg('limit', '60'));
const until = Number(arg('until', '40'));
const out = arg('out', join(REPO_ROOT, 'bench', 'ttq-web.md'));
if (!(limit > 0) || !(until > 0)) {
  console.error('strainer: --limit and --until must be positive numbers');
  process.exit(2);
}

interface Run {
  slice: string;
  group: 'near' | 'far';
  recipe: FitRecipe;
  /** Seconds to each milestone (RunSummary.milestones); null: not reached. */
  reached: Record<string, number | null>;
  /** The same from the step events alone (the first event whose whole PSNR reaches it). */
  fromEvents: Record<string, number | null>;
  finalPsnr: number;
  steps: number;
  /** The fit's seconds (RunSummary.seconds), and the wall time from the request to its end. */
  fitSeconds: number;
  wallSeconds: number;
  stop: string;
  load: number;
}

const cpu = (() => {
  try {
    return /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1].trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
const pkg = (p: string): string =>
  (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;

interface Saved {
  date: string;
  machine: string;
  until: number;
  limit: number;
  runs: Run[];
  [k: string]: unknown;
}

/** Every fit of this run, one after the other in one page; what the JSON file keeps. */
async function measure(): Promise<Saved> {
  // Slices read as `strainer pretrain --data data/ch2bet.nii.gz --res 178` reads them.
  const src = await loadDataSource(join(REPO_ROOT, 'data', 'ch2bet.nii.gz'), { res: RES });
  const slice = (id: string): PlainImage => {
    const s = src.images.find((x) => x.id === id);
    if (!s) throw new Error(`no slice ${id} in data/ch2bet.nii.gz`);
    return { width: s.image.width, height: s.image.height, channels: s.image.channels, data: Array.from(s.image.data) };
  };

  const loadAtStart = loadavg();
  const runs: Run[] = [];
  const web = await startWebServer({ port: 0, modelsDir: join(REPO_ROOT, 'models'), watch: false });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  const chromiumVersion = browser.version();
  let isolated = false;
  try {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (e) => console.error(`[pageerror] ${e.message}`));
    await page.goto(`${web.url}harness.html`);
    const request = (recipe: FitRecipe, seconds: number) => ({
      priorUrl: `${web.url}models/${PRIOR}/`,
      iters: 1_000_000,
      lr: 1e-4,
      recipe,
      untilPsnr: until,
      timeLimit: seconds,
      milestones: MILESTONES,
      provider: 'wasm' as const,
      seed: 0,
      previewEvery: 1_000_000,
    });
    // Untimed warm-up: the worker, onnxruntime-web's wasm and the prior's download (then cached).
    const first = near[0] ?? far[0];
    if (first) await callHarness(page, 'fitInWorker', slice(first), request('fast', 1));
    const jobs: { id: string; group: 'near' | 'far'; recipe: FitRecipe }[] = [
      ...near.map((id) => ({ id, group: 'near' as const, recipe: 'fast' as const })),
      ...far.map((id) => ({ id, group: 'far' as const, recipe: 'fast' as const })),
      ...paperOn.map((id) => ({
        id,
        group: near.includes(id) ? ('near' as const) : ('far' as const),
        recipe: 'paper' as const,
      })),
    ];
    for (const j of jobs) {
      const load = loadavg()[0];
      const r = await callHarness<Awaited<ReturnType<typeof fitInWorker>>>(
        page,
        'fitInWorker',
        slice(j.id),
        request(j.recipe, limit),
      );
      isolated = r.isolated;
      const reached: Record<string, number | null> = {},
        fromEvents: Record<string, number | null> = {};
      for (const m of MILESTONES) {
        fromEvents[m] = r.wholes.find((w) => w.whole >= m)?.seconds ?? null;
        reached[m] = r.summary.milestones?.[String(m)]?.seconds ?? fromEvents[m];
      }
      const run: Run = {
        slice: j.id,
        group: j.group,
        recipe: j.recipe,
        reached,
        fromEvents,
        finalPsnr: r.summary.finalPsnr,
        steps: r.steps,
        fitSeconds: r.summary.seconds,
        wallSeconds: r.wallSeconds,
        stop: r.summary.reached ? 'psnr' : r.summary.stopped ? 'user' : 'limit',
        load,
      };
      runs.push(run);
      const f = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
      console.error(
        `${j.group} ${j.id} ${j.recipe}: ${MILESTONES.map((m) => `${m} dB ${f(reached[m])} s`).join(', ')}; final ${run.finalPsnr.toFixed(2)} dB, ${run.steps} steps, wall ${run.wallSeconds.toFixed(1)} s, load ${load.toFixed(2)}`,
      );
    }
  } finally {
    await browser.close();
    await web.close();
  }

  const loadAtEnd = loadavg();
  const date = new Date().toISOString();
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  const machine = `${cpu}, ${availableParallelism()} cores; load average (1 / 5 / 15 min) ${la(loadAtStart)} at the start, ${la(loadAtEnd)} at the end; Chromium ${chromiumVersion} headless, onnxruntime-web ${pkg('onnxruntime-web')} wasm (page ${isolated ? 'cross-origin isolated: threaded wasm' : 'NOT cross-origin isolated: one wasm thread'}), Node ${process.version}; ${date.slice(0, 16).replace('T', ' ')} UTC`;
  return {
    date,
    machine,
    prior: PRIOR,
    res: RES,
    until,
    limit,
    milestones: MILESTONES,
    loadAtStart,
    loadAtEnd,
    chromium: chromiumVersion,
    runs,
  };
}

const jsonPath = out.replace(/\.md$/, '.json');
const saved: Saved = process.argv.includes('--report')
  ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as Saved)
  : await measure();
const { machine, runs } = saved;

// ---- the report ----
// A step event reports its step's end, before the evaluation it carries; the fit records the evaluation's
// end. So a first crossing the step events show later than the fit's record was measured by an evaluation
// no step event carries: the first, before any step (marked *).
const beforeSteps = (r: Run, m: number): boolean =>
  r.reached[m] !== null && (r.fromEvents[m] === null || r.fromEvents[m] > r.reached[m]);
const fmt = (r: Run, m: number): string =>
  r.reached[m] === null ? '-' : `${r.reached[m].toFixed(2)}${beforeSteps(r, m) ? '*' : ''}`;
const summary = (group: 'near' | 'far', recipe: FitRecipe): string => {
  const g = runs.filter((r) => r.group === group && r.recipe === recipe);
  const t = g.map((r) => r.reached[saved.until]).filter((x): x is number => x !== null);
  const med = t.length ? median(t) : null;
  return `${recipe} recipe, ${group} (${g.length} slices): ${saved.until} dB reached on ${t.length}; median ${med === null ? '-' : med.toFixed(2)} s, max ${t.length ? Math.max(...t).toFixed(2) : '-'} s`;
};
const ratios = runs
  .filter((r) => r.recipe === 'paper')
  .map((p) => {
    const f = runs.find((r) => r.recipe === 'fast' && r.slice === p.slice);
    const fastAt = f?.reached[saved.until] ?? null;
    const m = MILESTONES.filter((x) => p.reached[x] !== null && f?.reached[x] !== null && f?.reached[x] !== undefined);
    return m.length === 0
      ? `${p.slice}: the paper recipe reached none of ${MILESTONES.join(' / ')} dB within ${saved.limit} s (${p.steps} full-grid steps, ${p.finalPsnr.toFixed(2)} dB)${fastAt ? `; the fast recipe reached ${saved.until} dB in ${fastAt.toFixed(2)} s: paper / fast > ${(saved.limit / fastAt).toFixed(1)}x` : ''}`
      : `${p.slice}: paper / fast ${m.map((x) => `${(p.reached[x]! / f!.reached[x]!).toFixed(1)}x at ${x} dB`).join(', ')}`;
  });
const block = [
  `Machine: ${machine}.`,
  '',
  `Prior models/${PRIOR} (width 256, depth 6), ${RES}x${RES} slices of data/ch2bet.nii.gz read as \`strainer pretrain --data data/ch2bet.nii.gz --res ${RES}\` reads them; near: the prior's held-out slices (manifest data.test, 1 mm from a training slice), far: >= 16 mm from its training window z072..z090. Each fit: the demo's fit worker on onnxruntime-web wasm, untilPsnr ${saved.until}, time limit ${saved.limit} s, milestones ${MILESTONES.join(' / ')} dB, seed 0, lr 1e-4; one slice after the other in one page.`,
  "Seconds to a PSNR: when the first whole-signal measurement at or above it ended, as the worker reports it at the end of the run (RunSummary.milestones) and the demo's table shows it; the step event that carries that measurement reports its step's end, just before it (bench/ttq-web.json has both). *: measured by the fast recipe's first evaluation (closed-form decoder, before any step), which no step event carries. The fast recipe counts from the fit call (graph building, session creation, feature cache and every whole-signal evaluation included); the paper recipe from its first step (its session creation not included), its `whole` the full-grid PSNR before each update. Fit s: the run's seconds (RunSummary.seconds); wall: from the request to the summary (prior load, final rendering included). An untimed warm-up fit runs first.",
  '',
  `| slice | group | recipe | s to ${MILESTONES.join(' dB | s to ')} dB | final PSNR (dB) | steps | fit s | wall s | load (1 min) |`,
  `|---|---|---|${MILESTONES.map(() => '---:|').join('')}---:|---:|---:|---:|---:|`,
  ...runs.map(
    (r) =>
      `| ${r.slice} | ${r.group} | ${r.recipe} | ${MILESTONES.map((m) => fmt(r, m)).join(' | ')} | ${r.finalPsnr.toFixed(2)} | ${r.steps} | ${r.fitSeconds.toFixed(2)} | ${r.wallSeconds.toFixed(2)} | ${r.load.toFixed(2)} |`,
  ),
  '',
  ...[
    summary('near', 'fast'),
    summary('far', 'fast'),
    ...(runs.some((r) => r.recipe === 'paper') ? [summary('near', 'paper')] : []),
  ].map((s) => `- ${s}`),
  ...ratios.map((s) => `- ${s}`),
  `- goal (issue 18): ${saved.until} dB within ${GOAL_S} s on the near slices in wasm: met on ${runs.filter((r) => r.group === 'near' && r.recipe === 'fast' && (r.reached[saved.until] ?? Infinity) <= GOAL_S).length} of ${runs.filter((r) => r.group === 'near' && r.recipe === 'fast').length} (under the load shown)`,
  '',
  'Regenerate: `npm run bench:ttq-web` (a few minutes; run it alone: the times are wall-clock seconds).',
  '',
].join('\n');
const BEGIN = '<!-- bench-ttq-web: begin -->',
  END = '<!-- bench-ttq-web: end -->';
const old = existsSync(out) ? readFileSync(out, 'utf8') : '';
const wrapped = `${BEGIN}\n${block}${END}`;
writeFileAtomic(
  out,
  old.includes(BEGIN) && old.includes(END)
    ? old.slice(0, old.indexOf(BEGIN)) + wrapped + old.slice(old.indexOf(END) + END.length)
    : `# Time to quality in the browser: onnxruntime-web wasm, the fast recipe against the paper's\n\n${wrapped}\n`,
);
writeFileSync(jsonPath, JSON.stringify(saved, null, 2) + '\n');
console.log(block);
