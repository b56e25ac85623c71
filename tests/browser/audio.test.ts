// The demo page's audio mode in headless Chromium, with the shipped speech prior (models/speech-10) and
// the held-out speech clips the page offers as samples: choosing a clip switches the page to audio and
// to the audio prior; a fit from the prior and from a random SIREN shows PSNR and SNR, the prior ahead;
// target and reconstructions play through Web Audio to their end; the download is a clip's fit bundle;
// a clip at another rate is resampled to the prior's; a broken WAV ends as a message on the page.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Page } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEnv, callHarness, settle, downloadBundle, type BrowserEnv } from './env.ts';
import { REPO_ROOT } from '../../web/server.ts';
import { cachedDataset, missingDatasetMessage } from '../../src/node/datasets.ts';
import { encodeWav, parseWav, wavSignal, SILENCE } from '../../src/data/wav.ts';
import { psnrBetween } from '../../src/util/stats.ts';

const SHOTS = join(REPO_ROOT, 'test-results');
const speech = cachedDataset('speech');
if (!speech) console.warn(`tests/browser/audio: skipped: ${missingDatasetMessage('speech')}`);

const text = async (page: Page, sel: string): Promise<string> => (await page.locator(sel).textContent()) ?? '';

describe.skipIf(!speech)('demo page, audio mode', () => {
  let env: BrowserEnv;
  let page: Page;

  beforeAll(async () => {
    env = await startEnv(join(REPO_ROOT, 'models'));
    page = await env.page('');
    await page.waitForFunction(() => document.body.dataset.state === 'idle', undefined, { timeout: 60_000 });
  }, 180_000);
  afterAll(async () => {
    await env?.close();
  });

  it('offers the held-out speech clips; picking one switches to audio and to the speech prior', async () => {
    const labels = await page.locator('#sample option').allTextContents();
    expect(labels.filter((l) => l.startsWith('speech:'))).toHaveLength(3);
    expect(await page.evaluate(() => document.body.dataset.mode)).toBe('image');
    expect(await page.locator('#prior option').allTextContents()).not.toContain('speech-10 (width 256, depth 6)');
    await page.selectOption('#sample', 'speech-ten.wav');
    await page.waitForFunction(
      () => document.body.dataset.mode === 'audio' && document.body.dataset.state === 'idle',
      undefined,
      { timeout: 30_000 },
    );
    expect(await text(page, '#status')).toMatch(/^Clip: speech-ten\.wav \(\d+ samples at 8000 Hz, \d\.\d\d s\)$/);
    expect(await page.locator('#prior option').allTextContents()).toEqual([
      'none (random SIREN)',
      'speech-10 (width 256, depth 6)',
    ]);
    expect(await page.inputValue('#prior')).toBe('speech-10');
    expect(await page.locator('#size').isVisible()).toBe(false);
    expect(await page.locator('#play-target').isVisible()).toBe(true);
  }, 60_000);

  it('fits the clip from the prior and from a random SIREN, shows PSNR and SNR, the prior ahead', async () => {
    await page.fill('#iters', '20');
    await page.selectOption('#recipe', 'paper'); // 20 full-clip steps each: the prior ahead at equal steps
    await page.fill('#lr', '0.0001');
    await page.check('#compare');
    await page.selectOption('#backend', 'auto');
    await page.click('#fit');
    expect(await settle(page), await text(page, '#error')).toBe('done');
    const db = (s: string, what: string): number =>
      Number((new RegExp(`${what} (-?\\d+\\.\\d\\d) dB`).exec(s) ?? [])[1]);
    const prior = await text(page, '#caption-prior'),
      siren = await text(page, '#caption-siren');
    expect(prior).toMatch(/^prior speech-10: \d+\.\d\d dB, SNR -?\d+\.\d\d dB after 20 iterations$/);
    expect(siren).toMatch(/^random SIREN: \d+\.\d\d dB, SNR -?\d+\.\d\d dB after 20 iterations$/);
    // bench/audio.md: the prior is far ahead early on (+16 dB at iteration 100 on held-out clips).
    expect(db(prior, ':')).toBeGreaterThan(db(siren, ':') + 5);
    expect(db(prior, 'SNR')).toBeGreaterThan(db(siren, 'SNR') + 5);
    expect(await text(page, '#backend-used')).toBe('onnxruntime-web (wasm)');
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'demo-audio.png'), fullPage: true });
  }, 300_000);

  it('plays the target and each reconstruction to the end', async () => {
    for (const what of ['target', 'prior', 'siren']) {
      await page.click(`#play-${what}`);
      await page.waitForFunction((w) => document.body.dataset.played === w, what, { timeout: 20_000 });
      expect(await page.locator('#error').isHidden(), await text(page, '#error')).toBe(true);
    }
  }, 90_000);

  it('downloads the fit as a clip bundle', async () => {
    const b = await downloadBundle(page, SHOTS);
    expect(b.manifest.kind).toBe('fit');
    expect(b.manifest.config.inDim).toBe(1);
    expect(b.manifest.signal?.rate).toBe(8000);
    // The last fit of the two is the random SIREN's: SIREN's audio recipe, on the clip's own samples.
    const frames = parseWav(new Uint8Array(readFileSync(join(speech!, 'digits', '10.wav'))), '10.wav').frames;
    expect(b.manifest.signal?.dims).toEqual([frames]);
    expect(b.manifest.config.omega0).toBe(3000);
    expect(b.manifest.signal?.lattice).toBeUndefined();
  }, 60_000);

  it("resamples a clip at another rate to the prior's", async () => {
    // A real clip written at 16 kHz (every sample twice: the same sound at twice the rate).
    const w = parseWav(new Uint8Array(readFileSync(join(speech!, 'letters', 'c.wav'))), 'c.wav');
    const up = new Float32Array(w.frames * 2).map((_, i) => w.samples[i >> 1]);
    const wav = encodeWav({ rate: 16000, channels: 1, samples: up });
    await page.setInputFiles('#file', { name: 'c-16k.wav', mimeType: 'audio/wav', buffer: Buffer.from(wav) });
    await page.waitForFunction(
      () => /c-16k\.wav .* at 16000 Hz/.test(document.getElementById('status')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    await page.uncheck('#compare');
    await page.fill('#iters', '2');
    await page.click('#fit');
    await page.waitForFunction(
      () =>
        /Resampled c-16k\.wav from 16000 to 8000 Hz/.test(document.getElementById('status')?.textContent ?? '') ||
        document.body.dataset.state !== 'running',
      undefined,
      { timeout: 60_000 },
    );
    expect(await settle(page), await text(page, '#error')).toBe('done');
    expect(await text(page, '#caption-prior')).toMatch(
      /^prior speech-10: \d+\.\d\d dB, SNR -?\d+\.\d\d dB after 2 iterations$/,
    );
  }, 120_000);

  it('the library: the README clip example fits a clip from the speech prior and makes a Web Audio buffer', async () => {
    const lib = await env.page('harness.html');
    const r = await callHarness<{
      frames: number;
      rate: number;
      finalPsnr: number;
      backend: string;
      bufferSeconds: number;
      upFrames: number;
      outputDims: number[];
    }>(lib, 'fitClipFromUrl', `${env.url}samples/speech-a.wav`, `${env.url}models/speech-10/`, 20);
    const w = parseWav(new Uint8Array(readFileSync(join(speech!, 'letters', 'a.wav'))), 'a.wav');
    expect(r).toMatchObject({
      frames: w.frames,
      rate: 8000,
      backend: 'onnxruntime-web (wasm)',
      upFrames: 2 * w.frames,
      outputDims: [w.frames],
    });
    expect(r.bufferSeconds).toBeCloseTo(w.frames / 8000, 6);
    // Beats the trivial baseline, silence (every sample 0, i.e. 0.5 on the [0, 1] scale), by far.
    expect(r.finalPsnr).toBeGreaterThan(psnrBetween(new Float32Array(w.frames).fill(SILENCE), wavSignal(w).data) + 5);
    await lib.close();
  }, 120_000);

  it('says so on the page for a broken WAV, and goes back to images for an image', async () => {
    const good = readFileSync(join(speech!, 'letters', 'a.wav'));
    await page.setInputFiles('#file', { name: 'cut.wav', mimeType: 'audio/wav', buffer: good.subarray(0, 30) });
    await page.waitForFunction(() => document.body.dataset.state === 'error', undefined, { timeout: 30_000 });
    expect(await text(page, '#error')).toMatch(/^cut\.wav/);
    await page.setInputFiles('#file', {
      name: 'song.mp3',
      mimeType: 'audio/mpeg',
      buffer: Buffer.from('ID3\x03\x00\x00\x00 not a wav'),
    });
    await page.waitForFunction(
      () => /song\.mp3 is not a WAV file/.test(document.getElementById('error')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    await page.selectOption('#sample', 'mri-z073.png');
    await page.waitForFunction(
      () => document.body.dataset.mode === 'image' && document.body.dataset.state === 'idle',
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.locator('#prior option').allTextContents()).not.toContain('speech-10 (width 256, depth 6)');
    expect(await page.inputValue('#prior')).toMatch(/^mri-/);
  }, 60_000);
});
