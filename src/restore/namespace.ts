// The `restoration` namespace of the core entry: the inverse problems' geometry and degradations, and
// the image quality measures (PSNR, SSIM) restoreImage reports.
export { taskGeometry, RESTORE_TASKS, type RestoreTask, type RestorePoint } from './restore.ts';
export { downsample, addNoise, clamp01 } from './degrade.ts';
export { ssim, psnr } from './ssim.ts';
