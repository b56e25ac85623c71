// Picks the TensorFlow.js backend for pretraining: the best one present, in the order
// @tensorflow/tfjs-node-gpu (CUDA), @tensorflow/tfjs-node (native CPU), @tensorflow/tfjs-backend-wasm,
// then tfjs's pure-JS cpu backend. The native packages are optional: their postinstall downloads
// libtensorflow (REFERENCE.md), so they are loaded only if installed, by dynamic import in try/catch.
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../util/errors.ts';

/** What a caller may ask for: 'auto' = the best present; the others force one backend. */
export type TfjsBackendChoice = 'auto' | 'node-gpu' | 'node' | 'wasm' | 'cpu';
export const TFJS_BACKEND_CHOICES: readonly TfjsBackendChoice[] = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'];

export interface TfjsBackendInfo {
  /** tf.getBackend() after selection: 'tensorflow' (tfjs-node / -node-gpu), 'wasm' or 'cpu'. */
  backend: string;
  /** Human-readable, e.g. 'tfjs-node-gpu (tensorflow)' or 'wasm'. */
  label: string;
  /** Why better candidates were skipped, one entry per candidate tried. */
  skipped: string[];
}

interface Candidate {
  choice: Exclude<TfjsBackendChoice, 'auto'>;
  pkg: string | null;
  backend: string;
  label: string;
}

// Both native packages register the backend name 'tensorflow' (tfjs-node README).
const CANDIDATES: readonly Candidate[] = [
  { choice: 'node-gpu', pkg: '@tensorflow/tfjs-node-gpu', backend: 'tensorflow', label: 'tfjs-node-gpu (tensorflow)' },
  { choice: 'node', pkg: '@tensorflow/tfjs-node', backend: 'tensorflow', label: 'tfjs-node (tensorflow)' },
  { choice: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm', backend: 'wasm', label: 'wasm' },
  { choice: 'cpu', pkg: null, backend: 'cpu', label: 'cpu' },
];

/** Imports a package by a runtime string, so a missing optional package is a catchable error, not a type error. */
async function importOptional(pkg: string): Promise<string | null> {
  try {
    await import(/* @vite-ignore */ pkg);
    return null;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    return /Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(msg) ? 'not installed' : `failed to load: ${msg}`;
  }
}

async function tryCandidate(c: Candidate): Promise<string | null> {
  if (c.pkg) {
    const why = await importOptional(c.pkg);
    if (why) return why;
  }
  // A native package that bundles its own copy of @tensorflow/tfjs registers into that copy, not ours.
  if (!tf.findBackendFactory(c.backend))
    return `loaded, but did not register backend '${c.backend}' with this @tensorflow/tfjs (duplicate install?)`;
  try {
    if (!(await tf.setBackend(c.backend))) return 'failed to initialize';
    await tf.ready();
  } catch (e) {
    return `failed to initialize: ${(e as Error).message.split('\n')[0]}`;
  }
  return null;
}

/** Selects and initializes a tfjs backend; throws a UserError if a forced one is unavailable. */
export async function selectTfjsBackend(choice: TfjsBackendChoice = 'auto'): Promise<TfjsBackendInfo> {
  if (!TFJS_BACKEND_CHOICES.includes(choice))
    throw new UserError(`unknown tfjs backend '${String(choice)}' (choose from ${TFJS_BACKEND_CHOICES.join(', ')})`);
  const skipped: string[] = [];
  for (const c of CANDIDATES) {
    if (choice !== 'auto' && c.choice !== choice) continue;
    const why = await tryCandidate(c);
    if (why === null) return { backend: tf.getBackend(), label: c.label, skipped };
    skipped.push(`${c.pkg ?? c.backend}: ${why}`);
  }
  throw new UserError(`tfjs backend '${choice}' is not available (${skipped.join('; ')})`);
}

/** The backend asked for by the environment: STRAINER_TFJS_BACKEND=auto|node-gpu|node|wasm|cpu. */
export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): TfjsBackendChoice {
  const v = env.STRAINER_TFJS_BACKEND;
  if (v === undefined || v === '') return 'auto';
  if (!(TFJS_BACKEND_CHOICES as readonly string[]).includes(v))
    throw new UserError(`STRAINER_TFJS_BACKEND must be one of ${TFJS_BACKEND_CHOICES.join(', ')}, got '${v}'`);
  return v as TfjsBackendChoice;
}
