// Node file-system side of bundles: atomic writes (temp file + fsync + rename, so a killed process
// never leaves a half-written file) and refusal to overwrite an existing result unless asked.
import {
  mkdirSync,
  writeFileSync,
  renameSync,
  rmSync,
  existsSync,
  readdirSync,
  openSync,
  fsyncSync,
  closeSync,
  readFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../util/errors.ts';
import { manifestBytes, type BuiltBundle, type FileSource } from '../export/bundle.ts';

export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Refuses a non-empty output folder unless `force`. */
export function checkOutDir(dir: string, force: boolean): void {
  if (existsSync(dir) && readdirSync(dir).length > 0 && !force) {
    throw new UserError(`output folder ${dir} already exists and is not empty (pass --force to overwrite)`);
  }
}

/** Writes a whole bundle into `dir` atomically: built in a sibling temp folder, then renamed in place. */
export function writeBundleDir(dir: string, bundle: BuiltBundle, force: boolean): void {
  const abs = resolve(dir);
  checkOutDir(abs, force);
  const tmp = `${abs}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, bytes] of Object.entries(bundle.files)) writeFileAtomic(join(tmp, name), bytes);
  writeFileAtomic(join(tmp, 'manifest.json'), manifestBytes(bundle.manifest));
  if (existsSync(abs)) {
    // Keep whatever else the user had in the folder; replace only the bundle's files.
    for (const name of readdirSync(tmp)) renameSync(join(tmp, name), join(abs, name));
    rmSync(tmp, { recursive: true, force: true });
  } else {
    mkdirSync(dirname(abs), { recursive: true });
    renameSync(tmp, abs);
  }
}

export function dirSource(dir: string): FileSource {
  return {
    where: dir,
    read: async (name) => {
      const p = join(dir, name);
      if (!existsSync(p)) throw new Error(`${name} not found`);
      return new Uint8Array(readFileSync(p));
    },
  };
}
