// `strainer eval`: the paper's Table 1/2 protocol on held-out images. For each image, PSNR against
// iteration for SIREN (random init), SIREN fine-tuned (all weights from a SIREN fitted to another
// image of the domain), STRAINER-1 (a prior pretrained on one image), STRAINER-10 (the prior) and, with
// --meta-prior, a meta-learned init under both protocols (./eval-meta.ts); mean and spread over images
// as a markdown table and an SVG plot.
import type { Command } from 'commander';
import { basename, join, resolve } from 'node:path';
import { intArg, settingArg } from './args.ts';
import { splitSource, parseSelect, type SourceImage } from '../node/datasets.ts';
import { REPORT_ITERS } from '../train/fit.ts';
import type { Prior } from '../train/prior.ts';
import { DEFAULT_LR, type FitSettings } from '../train/plan.ts';
import { baselineOf } from '../train/transfer.ts';
import { isEncoderParam } from '../model/inr.ts';
import { pretrainPrior } from '../pipeline/pretrain.ts';
import { fit } from '../node/api.ts';
import { startPool } from '../node/pool.ts';
import { siblingModule } from '../node/worker-start.ts';
import { JOBS_FLAG, jobPlan } from './jobs.ts';
import type { EvalFit, EvalInit, EvalJob } from './eval-task.ts';
import { cliPrior } from './prior.ts';
import type { Ep } from '../node/backend.ts';
import { cliBackend, EP_FLAG, THREADS_FLAG } from './backend-choice.ts';
import { checkOutDir, writeFileAtomic } from '../node/fs.ts';
import { lineChartSvg } from '../util/plot.ts';
import { UserError } from '../util/errors.ts';
import { META_ROWS, META_LABEL, cliMetaPrior, metaCols, metaNote, requireStrainerPrior } from './eval-meta.ts';

export const METHODS = ['siren', 'finetuned', 'strainer1', 'strainer10', ...META_ROWS] as const;
export type Method = (typeof METHODS)[number];
const LABEL: Record<Method, string> = {
  siren: 'SIREN',
  finetuned: 'SIREN fine-tuned',
  strainer1: 'STRAINER-1',
  strainer10: 'STRAINER-10',
  ...META_LABEL,
};

interface EvalCli {
  prior: string;
  prior1?: string;
  metaPrior?: string;
  data: string;
  iters: number;
  images: number;
  res?: number;
  select?: [number, number];
  methods?: string;
  lr: number;
  seed: number;
  out?: string;
  json?: boolean;
  force?: boolean;
  threads?: number;
  ep?: Ep;
  strainer1Iters?: number;
  jobs: number | 'auto';
}

/** A prior as plain data, to be copied to the fit workers. */
const plainPrior = (p: Prior): Prior => ({
  name: p.name,
  config: p.config,
  range: p.range,
  encoder: p.encoder,
  decoder: p.decoder,
  dims: p.dims,
  rate: p.rate,
  method: p.method,
  meta: p.meta,
});

const meanStd = (xs: number[]): [number, number] => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [m, Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length)];
};

export async function runEval(o: EvalCli): Promise<void> {
  if (o.out) checkOutDir(o.out, o.force ?? false);
  const methods = (o.methods ?? METHODS.filter((m) => o.metaPrior || !META_ROWS.includes(m as never)).join(','))
    .split(',')
    .map((m) => m.trim());
  for (const m of methods)
    if (!(METHODS as readonly string[]).includes(m))
      throw new UserError(`--methods: unknown method '${m}' (choose from ${METHODS.join(', ')})`);
  const prior = requireStrainerPrior(await cliPrior(o.prior), '--prior');
  const metaPrior = await cliMetaPrior(o.metaPrior, methods);
  const res = o.res ?? prior.manifest.signal?.height ?? 64;
  const lr = o.lr;
  const chosen = await cliBackend(o);
  const backend = chosen.backend;
  const config = prior.config;
  const range = prior.range;

  // Held-out images: the prior's own test split when the data is what it was trained on (in-domain),
  // else the source's held-out split (out-of-domain); "another image" for fine-tuning/STRAINER-1
  // comes from the source's training split, never from the evaluated images.
  const split = await splitSource(o.data, {
    res,
    n: 1,
    test: o.images,
    select: o.select,
    channels: config.outDim === 1 ? 1 : 3,
  });
  const sameData =
    prior.manifest.data?.files.map((f) => f.sha256).join() === split.source.files.map((f) => f.sha256).join();
  let test: SourceImage[] = split.test;
  if (sameData && prior.manifest.data) {
    const all = new Map(split.source.images.map((s) => [s.id, s]));
    const wanted = prior.manifest.data.test.filter((id) => all.has(id)).map((id) => all.get(id)!);
    if (wanted.length > 0) test = wanted;
  }
  if (test.length === 0) throw new UserError(`${o.data}: no held-out images to evaluate`);
  // "Another image of the domain" for fine-tuning and STRAINER-1: in-domain, the prior's first training
  // image; otherwise the first image of the source that is not evaluated.
  const testIds = new Set(test.map((t) => t.id));
  const trainId = sameData ? prior.manifest.data?.train[0] : undefined;
  const other =
    split.source.images.find((s) => s.id === trainId) ?? split.source.images.find((s) => !testIds.has(s.id));
  if (!other) throw new UserError(`${o.data}: needs one more image besides the evaluated ones`);
  const domain = sameData ? 'in-domain' : 'out-of-domain';
  process.stderr.write(
    `eval ${prior.name} on ${test.length} ${domain} images (${test.map((t) => t.id).join(' ')}) at ${res}x${res}, ${o.iters} iterations; other image: ${other.id}\n`,
  );

  const opts = { recipe: 'paper' as const, iters: o.iters, lr, seed: o.seed, backend };
  const starts: Partial<Record<Method, FitSettings>> = { siren: baselineOf(prior), strainer10: { prior } };
  if (methods.includes('finetuned')) {
    process.stderr.write(`fitting a SIREN to ${other.id} for the fine-tuned baseline...\n`);
    const p = (await fit(other.image, { ...opts, ...baselineOf(prior) })).params;
    const part = (enc: boolean): Prior['encoder'] =>
      Object.fromEntries(Object.entries(p).filter(([k]) => isEncoderParam(k) === enc));
    starts.finetuned = {
      prior: {
        name: `SIREN fitted to ${other.id}`,
        config: { ...config, outDim: other.image.channels },
        range,
        encoder: part(true),
        decoder: part(false),
      },
    };
  }
  if (methods.includes('strainer1')) {
    if (o.prior1) starts.strainer1 = { prior: requireStrainerPrior(await cliPrior(o.prior1), '--prior1') };
    else {
      const iters = o.strainer1Iters ?? prior.manifest.train.iters;
      process.stderr.write(`pretraining STRAINER-1 on ${other.id} for ${iters} iterations...\n`);
      const { model } = baselineOf(prior);
      const r = await pretrainPrior(
        { train: [{ id: other.id, signal: other.image }] },
        { name: `STRAINER-1 (${other.id})`, model, range, iters, lr, seed: o.seed, backend, gainIters: 0 },
      );
      starts.strainer1 = { prior: r.prior };
    }
  }

  if (metaPrior) starts.meta = starts['meta-sgd'] = { prior: metaPrior };
  // The methods x images fits, on --jobs worker threads (src/node/pool.ts); reported in this order.
  const runs = (methods as Method[]).flatMap((m) => test.map((t) => ({ m, t })));
  const plan = jobPlan(o.jobs, { ep: chosen.ep ?? 'cpu', count: runs.length, threads: o.threads });
  const plain = (s: FitSettings): FitSettings => (s.prior ? { ...s, prior: plainPrior(s.prior) } : s);
  const init: EvalInit = {
    starts: Object.fromEntries(Object.entries(starts).map(([m, s]) => [m, plain(s)])),
    opts: { recipe: 'paper', iters: o.iters, lr, seed: o.seed },
    runtime: { engine: 'ort', ep: chosen.ep ?? 'cpu', threads: plan.threads },
  };
  if (plan.jobs > 1) chosen.announce();
  const taskUrl = siblingModule(import.meta.url, 'eval-task');
  const pool = await startPool<EvalInit, EvalJob, EvalFit>({
    module: taskUrl,
    init,
    jobs: plan.jobs,
    local: { backend },
  });
  const fits = runs.map(({ m, t }) => pool.run({ method: m, image: t.image }));
  for (const f of fits) f.catch(() => {}); // each is awaited below, in order
  const curves: Record<string, number[][]> = {};
  try {
    for (const [k, { m, t }] of runs.entries()) {
      const r = await fits[k];
      (curves[m] ??= []).push(r.curve);
      process.stderr.write(
        `  ${LABEL[m]} ${t.id}: ${r.finalPsnr.toFixed(2)} dB after ${r.iters} it (${r.seconds.toFixed(1)} s)\n`,
      );
    }
  } finally {
    await pool.close();
  }

  const cols = [...new Set([...REPORT_ITERS, ...metaCols(metaPrior)])]
    .filter((i) => i <= o.iters)
    .sort((a, b) => a - b);
  const table =
    [
      `PSNR (dB, mean ± std over ${test.length} ${domain} images: ${test.map((t) => t.id).join(', ')}) — prior \`${prior.name}\`, data \`${basename(o.data)}\`, ${res}x${res}, width ${config.width}, lr ${lr}, seed ${o.seed}`,
      '',
      `| method | ${cols.map((c) => `it ${c}`).join(' | ')} |`,
      `|---|${cols.map(() => '---').join('|')}|`,
      ...(methods as Method[]).map(
        (m) =>
          `| ${LABEL[m]} | ${cols
            .map((c) => {
              const [mu, sd] = meanStd(curves[m].map((cv) => cv[c]));
              return `${mu.toFixed(2)} ± ${sd.toFixed(2)}`;
            })
            .join(' | ')} |`,
      ),
      ...metaNote(metaPrior, methods, lr),
    ].join('\n') + '\n';
  const summary = {
    prior: prior.name,
    data: o.data,
    domain,
    res,
    iters: o.iters,
    images: test.map((t) => t.id),
    backend: backend.name,
    ...(metaPrior ? { meta_prior: { name: metaPrior.name, method: metaPrior.method, meta: metaPrior.meta } } : {}),
    psnr: Object.fromEntries(
      (methods as Method[]).map((m) => [
        m,
        Object.fromEntries(cols.map((c) => [String(c), +meanStd(curves[m].map((cv) => cv[c]))[0].toFixed(3)])),
      ]),
    ),
  };
  if (o.out) {
    const dir = resolve(o.out);
    writeFileAtomic(join(dir, 'table.md'), table);
    writeFileAtomic(join(dir, 'results.json'), JSON.stringify({ ...summary, curves }, null, 1) + '\n');
    writeFileAtomic(
      join(dir, 'psnr.svg'),
      lineChartSvg(
        (methods as Method[]).map((m) => ({
          name: LABEL[m],
          points: curves[m][0].map((_, i) => [i, meanStd(curves[m].map((cv) => cv[i]))[0]] as const),
        })),
        {
          title: `${prior.name} on ${basename(o.data)} (${domain}, mean of ${test.length})`,
          xlabel: 'iteration',
          ylabel: 'PSNR (dB)',
        },
      ),
    );
  }
  process.stdout.write(o.json ? JSON.stringify(summary) + '\n' : table);
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .requiredOption('--prior <dir>', 'the STRAINER-10 prior (models/NAME)')
    .requiredOption('--data <source>', 'folder, NIfTI volume or .npy stack to evaluate on')
    .option('--prior1 <dir>', 'a STRAINER-1 prior (default: pretrain one on another image of the data)')
    .option(
      '--meta-prior <dir>',
      'a meta-learned prior (strainer pretrain --method maml): adds its rows, fitted with Adam as the others and with its own inner SGD first',
    )
    .option('--iters <n>', 'fitting iterations per image', settingArg('--iters', 'iters'), 2000)
    .option('--images <n>', 'held-out images (out-of-domain data)', intArg('--images', 1, 1000), 5)
    .option('--res <r>', "resolution (default: the prior's)", settingArg('--res', 'res'))
    .option('--select <a:b>', 'half-open z or index range of the data', parseSelect)
    .option(
      '--methods <list>',
      `comma-separated, from ${METHODS.join(',')} (default: all; the meta rows with --meta-prior)`,
    )
    .option('--lr <lr>', 'Adam learning rate', settingArg('--lr', 'lr'), DEFAULT_LR)
    .option(
      '--strainer1-iters <n>',
      "pretraining iterations of the on-the-fly STRAINER-1 (default: the prior's)",
      settingArg('--strainer1-iters', 'iters'),
    )
    .option('--seed <s>', 'random seed', settingArg('--seed', 'seed'), 0)
    .option(...THREADS_FLAG)
    .option(...JOBS_FLAG)
    .option(...EP_FLAG)
    .option('--out <dir>', 'write table.md, results.json and psnr.svg here')
    .option('--force', 'overwrite a non-empty --out folder')
    .option('--json', 'print a JSON summary as the last line of stdout')
    .action(async (opts: EvalCli) => runEval(opts));
}
