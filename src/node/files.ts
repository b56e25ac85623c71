// Reading data files: `readDataFile` turns every fs failure into a one-line UserError naming the
// path. Node-only (node:fs); browser code must not import this file. Hashing is util/sha256.ts.

import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';

/** Read a whole file; a missing, unreadable or directory path throws a UserError naming it. */
export function readDataFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: file not found`);
    if (code === 'EISDIR') throw new UserError(`${path}: is a directory, expected a file`);
    if (code === 'EACCES') throw new UserError(`${path}: permission denied`);
    throw new UserError(`${path}: cannot read (${code ?? String(e)})`);
  }
}
