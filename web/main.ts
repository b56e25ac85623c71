// The demo page: pick or drop an image (or a bundled sample), pick a prior, fit in a Web Worker and
// watch the reconstruction and the PSNR curve live; download the fitted bundle. Or pick a restoration
// task: the worker degrades the image (4x downsampling or noise) and restores it, with PSNR and SSIM
// against the original. A WAV file (or a bundled speech clip) switches the page to audio: the clip is
// fitted from an audio prior and from a random SIREN side by side, drawn as waveforms, and each can be
// played (Web Audio). Every failure ends as a message on the page (#error), never a silent stop.
// A fit trains by the fast recipe (the default) or the paper's (Recipe menu); a table beside the chart
// gives each run's time to 30 / 35 / 40 dB, read from the step events' whole-signal PSNRs.
/// <reference types="vite/client" />
import {
  FitWorker,
  FitError,
  decodeBlob,
  toImage,
  toImageData,
  decodeWav,
  isWav,
  resampleClip,
  toAudioBuffer,
  signals,
  train,
  checkSetting,
  type SettingName,
  type Clip,
  type Image,
  type Signal,
  type RunSummary,
  type FitRequest,
  type FitRecipe,
  type ProviderChoice,
  type WebTask,
} from '../src/web/index.ts';
import { drawWaveform } from './waveform.ts';
import { PsnrChart } from './chart.ts';
// The provider decision without onnxruntime itself (that loads in the worker only).
import { decideProvider, type ProviderDecision } from '../src/runtime/webgpu-adapter.ts';
import { bestPrior, domainOf, type PriorFacts } from './prior-match.ts';

interface PriorEntry {
  name: string;
  kind: string;
  config: { kind: string; inDim: number; width: number; depth: number; omega: number; omega0?: number } | null;
  description?: string;
  bytes: number;
}
/** What the page fits: an image (fitted at the Size menu's resolution) or a clip (at its own rate, or a prior's). */
type Source = { kind: 'image'; bitmap: ImageBitmap; name: string } | { kind: 'audio'; clip: Clip; name: string };
type Mode = Source['kind'];
interface Sample {
  file: string;
  label: string;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
};
const ui = {
  task: $<HTMLSelectElement>('task'),
  observation: $<HTMLCanvasElement>('observation'),
  panelObs: $('panel-obs'),
  captionObs: $('caption-obs'),
  captionTarget: $('caption-target'),
  psnrLabel: $('psnr-label'),
  ssim: $('ssim'),
  ssimWrap: $('ssim-wrap'),
  file: $<HTMLInputElement>('file'),
  sample: $<HTMLSelectElement>('sample'),
  prior: $<HTMLSelectElement>('prior'),
  compare: $<HTMLInputElement>('compare'),
  freeze: $<HTMLInputElement>('freeze'),
  size: $<HTMLSelectElement>('size'),
  iters: $<HTMLInputElement>('iters'),
  recipe: $<HTMLSelectElement>('recipe'),
  until: $<HTMLInputElement>('until'),
  ttq: $<HTMLTableElement>('ttq'),
  ttqRecipe: $('ttq-recipe'),
  lr: $<HTMLInputElement>('lr'),
  backend: $<HTMLSelectElement>('backend'),
  width: $<HTMLInputElement>('width'),
  depth: $<HTMLInputElement>('depth'),
  omega0: $<HTMLInputElement>('omega0'),
  sirenConfig: $('siren-config'),
  fit: $<HTMLButtonElement>('fit'),
  stop: $<HTMLButtonElement>('stop'),
  download: $<HTMLButtonElement>('download'),
  drop: $('drop'),
  target: $<HTMLCanvasElement>('target'),
  reconPrior: $<HTMLCanvasElement>('recon-prior'),
  reconSiren: $<HTMLCanvasElement>('recon-siren'),
  panelPrior: $('panel-prior'),
  panelSiren: $('panel-siren'),
  captionPrior: $('caption-prior'),
  captionSiren: $('caption-siren'),
  error: $('error'),
  status: $('status'),
  psnr: $('psnr'),
  speed: $('speed'),
  backendUsed: $('backend-used'),
  backendReason: $('backend-reason'),
  waveTarget: $<HTMLCanvasElement>('wave-target'),
  wavePrior: $<HTMLCanvasElement>('wave-prior'),
  waveSiren: $<HTMLCanvasElement>('wave-siren'),
  playTarget: $<HTMLButtonElement>('play-target'),
  playPrior: $<HTMLButtonElement>('play-prior'),
  playSiren: $<HTMLButtonElement>('play-siren'),
};
const chart = new PsnrChart($<HTMLCanvasElement>('chart'));
const base = import.meta.env.BASE_URL;
const COLORS = { prior: '#d9480f', siren: '#1c7ed6' } as const;
/** The PSNRs whose time the table beside the chart gives (the fits evaluate the whole signal near each). */
const TTQ_DB = [30, 35, 40] as const;
type RunKey = keyof typeof COLORS;

let source: Source | null = null;
/** What the Play buttons play: the clip as loaded, or as last fitted (resampled to the prior's rate
 *  where needed), and each run's latest reconstruction of it. */
let playable: { target: Signal; rate: number; recon: Partial<Record<'prior' | 'siren', Signal>> } | null = null;
/** The mode whose priors the prior menu lists. */
let listed: Mode | null = null;
let priors: PriorEntry[] = [];
/** What the manifests say about each prior (domain, size), for preselecting the best matching one. */
let priorFacts: PriorFacts[] = [];
/** Once the user picks a prior, the page stops choosing one for them. */
let priorTouched = false;
let worker = newWorker();
let current: { id: number; cancelled: boolean } | null = null;
let lastFinished: number | null = null;

function newWorker(): FitWorker {
  return new FitWorker(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'strainer-fit' }));
}

function setState(s: 'idle' | 'running' | 'done' | 'error'): void {
  document.body.dataset.state = s;
  ui.fit.disabled = s === 'running' || source === null;
  ui.stop.disabled = s !== 'running';
  ui.download.disabled = s === 'running' || lastFinished === null;
}

function showError(message: string): void {
  ui.error.textContent = message;
  ui.error.hidden = false;
  setState('error');
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function draw(canvas: HTMLCanvasElement, img: Image): void {
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d')?.putImageData(toImageData(img), 0, 0);
}

function targetImage(): Image {
  if (source?.kind !== 'image') throw new FitError('user', 'choose an image first');
  return toImage(source.bitmap, Number(ui.size.value));
}

const mode = (): Mode => source?.kind ?? 'image';

/** A WAV by its name, type or first bytes; other audio files are refused by decodeWav with a message. */
async function looksLikeAudio(blob: Blob, name: string): Promise<boolean> {
  if (/\.wav$/i.test(name) || blob.type.startsWith('audio/')) return true;
  return isWav(new Uint8Array(await blob.slice(0, 12).arrayBuffer()));
}

/** Shows the page's image or audio controls and lists the priors of that dimension. */
function setMode(m: Mode): void {
  if (listed === m) return;
  listed = m;
  document.body.dataset.mode = m;
  if (m === 'audio') ui.task.value = document.body.dataset.task = 'fit'; // restorations take images
  const keep = ui.prior.value;
  ui.prior.length = 1; // keeps 'none (random SIREN)'
  for (const x of priors.filter((p) => !p.config || p.config.inDim === (m === 'audio' ? 1 : 2))) {
    ui.prior.add(
      new Option(
        x.config ? `${x.name} (width ${x.config.width}, depth ${x.config.depth})` : `${x.name} (unreadable manifest)`,
        x.name,
      ),
    );
  }
  ui.prior.value = [...ui.prior.options].some((o) => o.value === keep) ? keep : '';
  priorTouched = false; // a prior chosen for images says nothing about clips
  updateConfigVisibility();
}

async function setSource(blob: Blob, name: string): Promise<void> {
  clearError();
  try {
    if (await looksLikeAudio(blob, name)) {
      const clip = await decodeWav(blob, name);
      source = { kind: 'audio', clip, name };
      setMode('audio');
      playable = { target: clip.signal, rate: clip.rate, recon: {} };
      drawWaveform(ui.waveTarget, clip.signal, clip.rate);
      pickPrior();
      const mixed = clip.fileChannels > 1 ? `, ${clip.fileChannels} channels mixed to mono` : '';
      const batched =
        clip.signal.dims[0] > train.MAX_STEP_ROWS
          ? `; longer than one step takes, so each step fits ${train.MAX_STEP_ROWS} random samples`
          : '';
      ui.status.textContent = `Clip: ${name} (${clip.signal.dims[0]} samples at ${clip.rate} Hz, ${(clip.signal.dims[0] / clip.rate).toFixed(2)} s${mixed}${batched})`;
    } else {
      source = { kind: 'image', bitmap: await decodeBlob(blob, name), name };
      setMode('image');
      draw(ui.target, targetImage());
      pickPrior();
      ui.status.textContent = `Image: ${name} (${source.bitmap.width}x${source.bitmap.height}, fitted at ${ui.size.value}x${ui.size.value})`;
    }
    setState('idle');
  } catch (e) {
    showError((e as Error).message);
  }
}

let audio: AudioContext | null = null;
let playing: AudioBufferSourceNode | null = null;

/** Plays a clip through Web Audio (one at a time); the page's body says what plays and what last finished. */
async function play(what: 'target' | 'prior' | 'siren'): Promise<void> {
  try {
    const clip = what === 'target' ? playable?.target : playable?.recon[what];
    if (!playable || !clip)
      throw new FitError(
        'user',
        what === 'target'
          ? 'choose a clip first'
          : `no ${what === 'prior' ? 'prior' : 'SIREN'} fit to play yet: press Fit`,
      );
    audio ??= new AudioContext();
    await audio.resume();
    playing?.stop();
    const node = audio.createBufferSource();
    node.buffer = toAudioBuffer(audio, clip, playable.rate);
    node.connect(audio.destination);
    node.onended = () => {
      if (playing !== node) return;
      playing = null;
      delete document.body.dataset.playing;
      document.body.dataset.played = what;
    };
    playing = node;
    document.body.dataset.playing = what;
    node.start();
  } catch (e) {
    showError(`cannot play the ${what}: ${(e as Error).message}`);
  }
}

async function loadSample(file: string): Promise<void> {
  const r = await fetch(`${base}samples/${file}`);
  if (!r.ok) return showError(`sample ${file} could not be loaded (HTTP ${r.status})`);
  await setSource(await r.blob(), file);
}

/** A number field checked by the library's own rule for that setting (src/train/plan.ts SETTINGS), so
 *  the page refuses exactly what fit() would. */
function setting(input: HTMLInputElement, name: SettingName): number {
  const v = input.value.trim() === '' ? NaN : Number(input.value);
  try {
    return checkSetting(name, v);
  } catch (e) {
    throw new FitError('user', (e as Error).message);
  }
}

function updateConfigVisibility(): void {
  const p = priors.find((e) => e.name === ui.prior.value);
  ui.omega0.parentElement!.hidden = mode() !== 'audio';
  ui.sirenConfig.hidden = Boolean(p);
  ui.compare.parentElement!.hidden = !p;
  ui.freeze.parentElement!.hidden = !p;
}

/** Empties the time-to-quality table and shows a column per run of this fit. */
function resetTtq(keys: RunKey[], recipes: Partial<Record<RunKey, FitRecipe>>): void {
  for (const el of ui.ttq.querySelectorAll<HTMLElement>('[data-run]')) {
    const key = el.dataset.run as RunKey;
    el.hidden = !keys.includes(key);
    if (el.tagName === 'TD') {
      el.textContent = '—';
      delete el.dataset.seconds;
      delete el.dataset.psnr;
      delete el.dataset.it;
    }
  }
  const used = [...new Set(keys.map((k) => recipes[k] ?? 'fast'))];
  ui.ttq.dataset.recipe = used.join(' ');
  const named = used.length > 1 ? keys.map((k) => `${k === 'prior' ? 'prior' : 'SIREN'} ${recipes[k]}`) : used;
  ui.ttqRecipe.textContent =
    `Recipe: ${named.join(', ')}` +
    (used.includes('fast') ? ' (random subsets per step; the whole signal measured near each threshold)' : '');
}

/** Fills the table's cells that this step's whole-signal PSNR reaches for the first time. */
function recordTtq(key: RunKey, it: number, whole: number, seconds: number): void {
  for (const db of TTQ_DB) {
    const cell = document.getElementById(`ttq-${key}-${db}`);
    if (!cell || cell.dataset.seconds !== undefined || !(whole >= db)) continue;
    cell.dataset.seconds = String(seconds);
    cell.dataset.psnr = whole.toFixed(2);
    cell.dataset.it = String(it);
    cell.textContent = `${seconds.toFixed(2)} s`;
    cell.title = `${whole.toFixed(2)} dB, measured at step ${it + 1}`;
  }
}

/** At the end of a run: each threshold's first whole-signal measurement as the fit recorded it
 *  (RunSummary.milestones: when that measurement ended; the step event carrying it gave its step's end,
 *  just before), which also holds what no step event carries (the fast recipe's first evaluation, before
 *  any step, may already pass 30 dB). What bench/ttq-web.md reports. */
function finishTtq(key: RunKey, passed: RunSummary['milestones']): void {
  for (const db of TTQ_DB) {
    const cell = document.getElementById(`ttq-${key}-${db}`);
    const m = passed?.[String(db)];
    if (!cell || !m) continue;
    cell.dataset.seconds = String(m.seconds);
    cell.dataset.psnr = m.psnr.toFixed(2);
    cell.dataset.it = String(m.iteration);
    cell.textContent = `${m.seconds.toFixed(2)} s`;
    cell.title = `${m.psnr.toFixed(2)} dB after ${m.iteration} steps`;
  }
}

/** Selects the prior that best matches the source (its dimension and domain, an image's fitting size), unless the user chose. */
function pickPrior(): void {
  if (priorTouched || !source) return;
  const inDim = source.kind === 'audio' ? 1 : 2;
  const size = source.kind === 'image' ? Number(ui.size.value) : undefined;
  ui.prior.value =
    bestPrior(
      priorFacts.filter((p) => p.inDim === inDim),
      domainOf(source.name),
      size,
    )?.name ?? '';
  updateConfigVisibility();
}

/** Resolves the Backend menu (auto: WebGPU only on a hardware adapter) and shows which and why. */
async function showBackendChoice(): Promise<ProviderDecision> {
  const d = await decideProvider(ui.backend.value as ProviderChoice);
  ui.backendReason.textContent = d.reason;
  return d;
}

async function fitAll(): Promise<void> {
  clearError();
  let decision: ProviderDecision;
  try {
    decision = await showBackendChoice();
  } catch (e) {
    return showError((e as Error).message);
  }
  let target: { image: Image } | { signal: Signal; rate: number };
  let task: WebTask = 'fit';
  const runs: { key: RunKey; label: string; req: Omit<FitRequest, 'image' | 'signal' | 'rate'> }[] = [];
  const prior = priors.find((e) => e.name === ui.prior.value);
  try {
    if (source?.kind === 'audio') {
      // A clip is fitted at its prior's sample rate (the browser resamples it); both runs fit the same samples.
      const want = priorFacts.find((p) => p.name === prior?.name)?.rate;
      const clip = want && want !== source.clip.rate ? await resampleClip(source.clip, want) : source.clip;
      if (clip !== source.clip)
        ui.status.textContent = `Resampled ${source.name} from ${source.clip.rate} to ${clip.rate} Hz (prior ${prior?.name}'s rate)`;
      target = { signal: clip.signal, rate: clip.rate };
      playable = { target: clip.signal, rate: clip.rate, recon: {} };
    } else {
      target = { image: targetImage() };
    }
    const iters = setting(ui.iters, 'iters');
    const lr = setting(ui.lr, 'lr');
    const provider = decision.provider;
    task = ui.task.value as WebTask;
    const until = ui.until.value.trim() === '' ? undefined : setting(ui.until, 'untilPsnr');
    const recipe = ui.recipe.value as FitRecipe;
    const common = {
      iters,
      lr,
      provider,
      previewEvery: Math.max(1, Math.round(iters / 30)),
      ...(task === 'fit'
        ? { recipe, milestones: [...TTQ_DB], ...(until !== undefined ? { untilPsnr: until } : {}) }
        : { task, scale: 4, sigma: 0.1 }),
    };
    // What only the paper's recipe fits: a fixed encoder (its own learning rate), a whole-network prior.
    const priorOnlyPaper =
      task === 'fit' && (ui.freeze.checked || priorFacts.some((p) => p.name === prior?.name && p.wholeNetwork));
    // Frozen encoder: a linear fit of the decoder over the prior's features, which takes a larger rate.
    const frozen = ui.freeze.checked ? { lr: 1e-2, encoderLr: 0 } : {};
    if (prior)
      runs.push({
        key: 'prior',
        label: `prior ${prior.name}${ui.freeze.checked ? ' (encoder fixed)' : ''}`,
        req: {
          ...common,
          ...frozen,
          ...(priorOnlyPaper ? { recipe: 'paper' as const } : {}),
          priorUrl: `${base}models/${prior.name}/`,
          label: `${source?.name}-${prior.name}`,
        },
      });
    if (!prior || ui.compare.checked) {
      const config = prior?.config
        ? {
            kind: 'siren' as const,
            width: prior.config.width,
            depth: prior.config.depth,
            omega: prior.config.omega,
            ...(prior.config.omega0 !== undefined ? { omega0: prior.config.omega0 } : {}),
          }
        : {
            width: setting(ui.width, 'width'),
            depth: setting(ui.depth, 'depth'),
            ...(mode() === 'audio' ? { omega0: setting(ui.omega0, 'omega0') } : {}),
          };
      runs.push({
        key: 'siren',
        label: 'random SIREN',
        req: { ...common, priorUrl: null, model: config, label: `${source?.name}-siren` },
      });
    }
    chart.reset(iters);
  } catch (e) {
    return showError((e as Error).message);
  }
  if (task === 'fit')
    resetTtq(
      runs.map((r) => r.key),
      Object.fromEntries(runs.map((r) => [r.key, r.req.recipe])),
    );
  ui.panelPrior.hidden = !runs.some((r) => r.key === 'prior');
  ui.panelSiren.hidden = !runs.some((r) => r.key === 'siren');
  const restoring = task !== 'fit';
  ui.panelObs.hidden = ui.ssimWrap.hidden = !restoring;
  ui.captionTarget.textContent = restoring ? 'Truth' : 'Target';
  ui.psnrLabel.textContent = restoring ? 'PSNR vs truth' : 'PSNR';
  ui.psnr.textContent = ui.ssim.textContent = '–';
  lastFinished = null;
  setState('running');
  for (const run of runs) {
    const canvas = run.key === 'prior' ? ui.reconPrior : ui.reconSiren;
    const wave = run.key === 'prior' ? ui.wavePrior : ui.waveSiren;
    const caption = run.key === 'prior' ? ui.captionPrior : ui.captionSiren;
    caption.textContent = `${run.label}: starting…`;
    const own =
      'image' in target
        ? { image: { ...target.image, data: target.image.data.slice() } }
        : { signal: { ...target.signal, data: target.signal.data.slice() }, rate: target.rate };
    if ('signal' in target) drawWaveform(wave, target.signal, target.rate);
    const job = worker.fit(
      { ...run.req, ...own },
      {
        onStart: ({ backend, config, prior }) => {
          ui.backendUsed.textContent = backend;
          ui.status.textContent =
            `${run.label}: ${config.kind} width ${config.width} depth ${config.depth}` +
            (prior ? `, prior ${prior.name}${prior.fromCache.length ? ' (from cache)' : ''}` : '');
        },
        onStep: (e) => {
          if (!restoring) {
            chart.add(run.key, run.label, COLORS[run.key], e.it, e.psnr);
            ui.psnr.textContent = `${e.psnr.toFixed(2)} dB`;
            if (e.whole !== undefined) {
              // A full-grid step measures the model before its update; an evaluation, the one after it.
              if (e.whole !== e.psnr) chart.addWhole(run.key, run.label, COLORS[run.key], e.it + 1, e.whole);
              recordTtq(run.key, e.it, e.whole, e.seconds);
            }
          }
          ui.speed.textContent = `${((e.it + 1) / Math.max(e.seconds, 1e-9)).toFixed(1)} it/s`;
          caption.textContent = `${run.label}: iteration ${e.it + 1}/${e.iters}`;
        },
        onSignal: (s) => {
          if (!playable || !('signal' in target)) return;
          playable.recon[run.key] = s;
          drawWaveform(wave, target.signal, target.rate, { signal: s, color: COLORS[run.key] });
        },
        onPreview: (img, it, truth) => {
          draw(canvas, img);
          if (!truth) return;
          chart.add(run.key, run.label, COLORS[run.key], it, truth.psnr);
          ui.psnr.textContent = `${truth.psnr.toFixed(2)} dB`;
          ui.ssim.textContent = truth.ssim.toFixed(3);
        },
        onObservation: (img) => {
          draw(ui.observation, img);
          ui.captionObs.textContent =
            task === 'superres'
              ? `Observation: ${img.width}x${img.height} (4x downsampled)`
              : 'Observation: Gaussian noise, sigma 0.1';
        },
      },
    );
    current = { id: job.id, cancelled: false };
    let summary: RunSummary;
    try {
      summary = await job.done;
    } catch (e) {
      const err = e as FitError;
      if (err.kind === 'device-lost') {
        worker.terminate();
        worker = newWorker(); // a lost device cannot be reused; the next fit gets a fresh runtime
      }
      current = null;
      return showError(err.kind === 'internal' ? `unexpected error: ${err.message}` : err.message);
    }
    if (!restoring) {
      lastFinished = job.id; // a restoration has no bundle to download
      finishTtq(run.key, summary.milestones);
    }
    const recon = playable?.recon[run.key];
    const snr =
      recon && 'signal' in target ? `, SNR ${signals.snrDb(recon.data, target.signal.data).toFixed(2)} dB` : '';
    const quality = restoring
      ? `${summary.finalPsnr.toFixed(2)} dB, SSIM ${(summary.ssim ?? NaN).toFixed(3)} vs truth`
      : `${summary.finalPsnr.toFixed(2)} dB${snr}`;
    caption.textContent = `${run.label}: ${quality} after ${summary.iters} iterations${summary.stopped ? ' (stopped)' : ''}`;
    ui.psnr.textContent = `${summary.finalPsnr.toFixed(2)} dB`;
    if (restoring) ui.ssim.textContent = (summary.ssim ?? NaN).toFixed(3);
    ui.speed.textContent = `${(summary.iters / Math.max(summary.seconds, 1e-9)).toFixed(1)} it/s`;
    if (current?.cancelled) break;
  }
  current = null;
  ui.status.textContent = 'Done.';
  setState('done');
}

async function download(): Promise<void> {
  if (lastFinished === null) return;
  try {
    const { zip, fileName } = await worker.bundle(lastFinished);
    const url = URL.createObjectURL(new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: fileName });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    showError((e as Error).message);
  }
}

function wire(): void {
  ui.fit.onclick = () => void fitAll();
  ui.stop.onclick = () => {
    if (!current) return;
    current.cancelled = true;
    worker.stop(current.id);
  };
  ui.download.onclick = () => void download();
  ui.file.onchange = () => {
    const f = ui.file.files?.[0];
    if (f) void setSource(f, f.name);
  };
  ui.sample.onchange = () => void loadSample(ui.sample.value);
  ui.task.onchange = () => {
    document.body.dataset.task = ui.task.value;
  };
  ui.size.onchange = () => {
    if (source?.kind === 'image') {
      draw(ui.target, targetImage());
      pickPrior();
    }
  };
  ui.playTarget.onclick = () => void play('target');
  ui.playPrior.onclick = () => void play('prior');
  ui.playSiren.onclick = () => void play('siren');
  ui.prior.onchange = () => {
    priorTouched = true;
    updateConfigVisibility();
  };
  ui.backend.onchange = () =>
    void showBackendChoice().catch((e: Error) => {
      ui.backendReason.textContent = e.message;
    });
  ui.drop.ondragover = (e) => {
    e.preventDefault();
    ui.drop.classList.add('dragging');
  };
  ui.drop.ondragleave = () => ui.drop.classList.remove('dragging');
  ui.drop.ondrop = (e) => {
    e.preventDefault();
    ui.drop.classList.remove('dragging');
    const f = e.dataTransfer?.files[0];
    if (f) void setSource(f, f.name);
    else showError('nothing to use in the dropped item: drop an image or a WAV file');
  };
  window.addEventListener('unhandledrejection', (e) =>
    showError(`unexpected error: ${String((e.reason as Error)?.message ?? e.reason)}`),
  );
}

async function readPriorFacts(x: PriorEntry): Promise<PriorFacts> {
  try {
    const m = (await (await fetch(`${base}models/${x.name}/manifest.json`)).json()) as {
      method?: string;
      signal?: { height?: number; rate?: number };
      data?: { description?: string };
      quantization?: unknown;
    };
    const inDim = x.config?.inDim ?? 2;
    return {
      name: x.name,
      inDim,
      description: m.data?.description ?? x.description,
      ...(inDim === 2 ? { res: m.signal?.height } : {}),
      ...(m.signal?.rate ? { rate: m.signal.rate } : {}),
      quantized: m.quantization !== undefined,
      ...(m.method && m.method !== 'strainer' ? { wholeNetwork: true } : {}),
    };
  } catch {
    return { name: x.name, inDim: x.config?.inDim ?? 2, description: x.description }; // listed without a size; still selectable
  }
}

async function init(): Promise<void> {
  wire();
  try {
    const [s, p] = await Promise.all([fetch(`${base}samples/index.json`), fetch(`${base}models/index.json`)]);
    const samples = s.ok ? ((await s.json()) as Sample[]) : [];
    priors = p.ok ? ((await p.json()) as PriorEntry[]) : [];
    for (const x of samples) ui.sample.add(new Option(x.label, x.file));
    setMode('image');
    priorFacts = await Promise.all(priors.filter((x) => x.config).map(readPriorFacts));
    void showBackendChoice().catch((e: Error) => {
      ui.backendReason.textContent = e.message;
    });
    updateConfigVisibility();
    ui.status.textContent = priors.length
      ? 'Choose an image or a WAV clip and a prior, then Fit.'
      : 'No priors found under models/; fitting a random SIREN.';
    // 'idle' once the first sample is shown (setSource), so the page never reads as ready before it.
    if (samples.length) await loadSample(samples[0].file);
    else setState('idle');
  } catch (e) {
    showError(`could not load the sample and prior lists: ${(e as Error).message}`);
  }
}

// Hook for tests/browser/demo.test.ts: simulates a lost GPU (a driver reset) in the fit worker.
(window as unknown as { strainerDemo: { loseDevice(): void } }).strainerDemo = {
  loseDevice: () => worker.loseDeviceForTesting(),
};

void init();

// Built pages work offline after one visit: the service worker precaches the page and its files
// (web/sw.js); the prior the page fitted from is in the library's own verified cache. Not under the dev
// server (import.meta.hot exists there), whose modules change with every edit.
if (!import.meta.hot && 'serviceWorker' in navigator) {
  navigator.serviceWorker
    .register('./sw.js')
    .catch((e: Error) => console.warn(`offline support unavailable: ${e.message}`));
}
