// The reference MRI split used across the project. One subject (ch2bet) stands in for OASIS-MRI, so
// the split is by axial slice: the 20 usable slices around the middle of the usable range, training
// on every second one (10 slices) and testing on 5 of the slices in between.
// For data/ch2bet.nii.gz this gives train z072, z074, ..., z090 and test z073, z075, ..., z081.

import { check } from '../util/errors.ts';
import { type Image, padToSquare, resizeArea } from './pixels.ts';
import { type Volume, axialSlice, usableSlices } from './nifti.ts';

// Project conventions (not from the paper): STRAINER-10 pretrains on 10 images (REFERENCE.md), and a
// window of 20 consecutive usable slices holds 10 training slices interleaved with 10 held-out ones,
// of which the first 5 are the test set.
export const SPLIT_WINDOW = 20;
export const SPLIT_TEST_COUNT = 5;

export interface MriSplit {
  train: number[];
  test: number[];
}

/** The split of an ascending list of usable z indices (see the file header). */
export function splitUsableSlices(usable: number[]): MriSplit {
  const len = usable.length;
  check(len >= SPLIT_WINDOW, `the volume has only ${len} usable axial slices; the MRI split needs ${SPLIT_WINDOW}`);
  const start = Math.floor(len / 2) - SPLIT_WINDOW / 2;
  const window = usable.slice(start, start + SPLIT_WINDOW);
  return {
    train: window.filter((_, i) => i % 2 === 0),
    test: window.filter((_, i) => i % 2 === 1).slice(0, SPLIT_TEST_COUNT),
  };
}

/** The reference split of a volume: z indices (0-based, third axis) of training and test slices. */
export function referenceSplit(vol: Volume): MriSplit {
  return splitUsableSlices(usableSlices(vol));
}

/**
 * Axial slice z as a res x res gray image in [0, 1]: values divided by the volume maximum, zero-padded
 * to a centred square (181x217 -> 217x217 for ch2bet; background is 0 so the padding is invisible),
 * then area-resized. Orientation as in axialSlice (anterior at the top).
 */
export function mriSliceImage(vol: Volume, z: number, res: number): Image {
  return resizeArea(padToSquare(axialSlice(vol, z)), res, res);
}

/** Slice ids as used in file names and reports: z072. */
export function sliceId(z: number): string {
  return `z${String(z).padStart(3, '0')}`;
}
