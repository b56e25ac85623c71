// The `signals` namespace of the core entry: codec-free operations on signals and images (resampling,
// padding, channels) and the WAV and NIfTI codecs that need no platform. Image files (PNG/JPEG) are
// decoded by the platform entries ('strainer/node' readImage, 'strainer/web' decodeBlob).
export { resizeArea, cropCenterSquare, padToSquare, toGray, toChannels, type ChannelMode } from './pixels.ts';
export { sampleCount, describeSignal, resampleArea, padCentered, padEnd, middleSlices } from './signal.ts';
export { parseWav, encodeWav, wavSignal, signalWav, mixDown, snrDb, SILENCE, type Wav, type WavEncoding } from './wav.ts';
export { encodeNifti, niftiSignal, npySignal, cubeAt, type VolumeSignal, type VoxelSize } from './volume.ts';
