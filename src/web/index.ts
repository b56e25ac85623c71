// strainer for web apps (package export "strainer/web"): the core (re-exported) plus fitting on
// onnxruntime-web (WebGPU, wasm fallback) of images and any other signal (a WAV clip: decodeWav,
// resampleClip, toAudioBuffer for Web Audio), priors fetched over HTTP, verified and cached, image
// decoding with the browser's own codecs, and the client of the fit worker ("strainer/web/worker").
//   const prior = await loadPriorFromUrl('/models/mri-64/', { publicKey: PROJECT_KEY });
//   const img = toImage(await decodeBlob(file, file.name), 64);
//   const r = await fit(img, { prior, iters: 300, onStep: (e) => console.log(e.it, e.psnr) });
export * from '../index.ts';
export { fit, checkSignal, type FitTarget, type WebFitOptions } from './fit.ts';
export { decodeWav, isWav, clipChannels, toAudioBuffer, resampleClip, MAX_WAV_BYTES, type Clip } from './audio.ts';
export {
  loadPriorFromUrl,
  clearPriorCache,
  checkWebSupport,
  PRIOR_CACHE,
  type LoadedPrior,
  type UrlPriorOptions,
} from './prior.ts';
export { decodeBlob, toImage, toImageData, checkImage } from './image.ts';
export { zipBundle } from './bundle.ts';
export { FitWorker, FitError, type FitHandlers } from './client.ts';
export type { FitRequest, RunSummary, WebTask } from './protocol.ts';
export {
  ortWebBackend,
  autoBackend,
  chooseProvider,
  webgpuAvailable,
  onDeviceLost,
  DeviceLostError,
  type WebProvider,
  type ProviderChoice,
  type OrtWebOptions,
} from '../runtime/ort-web.ts';
export { decideProvider, webgpuAdapter, type AdapterInfo, type ProviderDecision } from '../runtime/webgpu-adapter.ts';
