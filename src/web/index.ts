// strainer for web apps (the package's "browser" export): fit an INR to an image in the browser on
// WebGPU (wasm fallback), starting from a STRAINER prior fetched, verified and cached over HTTP.
//   const prior = await loadPriorFromUrl('/models/mri-10/');
//   const img = toImage(await decodeBlob(file, file.name), 128);
//   const r = await fit(img, { prior, iters: 300, onStep: (s) => console.log(s.it, s.psnr) });
export { fit, fitConfig, type WebFitOptions, type WebFitResult, type StepInfo } from './fit.ts';
export { renderProgram } from '../train/programs.ts';
export { createRenderer, type Renderer } from '../train/render.ts';
export { loadPriorFromUrl, clearPriorCache, checkWebSupport, PRIOR_CACHE, type LoadedPrior, type PriorLoadOptions } from './prior.ts';
export { decodeBlob, toImage, toImageData, checkImage, type Image } from './image.ts';
export { fitBundle, zipBundle } from './bundle.ts';
export { zipStore } from './zip.ts';
export { FitWorker, FitError, type FitHandlers } from './client.ts';
export type { FitRequest, RunSummary, WebTask } from './protocol.ts';
export { ortWebBackend, autoBackend, chooseProvider, webgpuAvailable, onDeviceLost, DeviceLostError, type WebProvider, type ProviderChoice, type OrtWebOptions } from '../runtime/ort-web.ts';
export type { Prior } from '../train/prior.ts';
export type { InrConfig } from '../model/config.ts';
export { PAPER_CONFIG } from '../model/config.ts';
export { UserError } from '../util/errors.ts';
