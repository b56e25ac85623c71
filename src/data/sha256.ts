// Reading data files and hashing them: `readDataFile` turns every fs failure into a one-line
// UserError naming the path, and `sha256HexSync` pins inputs (scripts/fetch-data.sh, data/README.md) and
// records exactly which bytes a run saw. Node-only (node:fs, node:crypto); browser code must not
// import this file.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';

/** Lowercase hex SHA-256 digest of `bytes`, synchronously (Node); bundles use the async WebCrypto `sha256Hex` of src/export/artifacts.ts. */
export function sha256HexSync(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

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
