// `strainer keygen --out NAME`: a new Ed25519 signing key for bundles. NAME.pem is the private key
// (PKCS#8 PEM, created with mode 0600 and never put in place over an existing file: temp file, then a
// hard link that fails if the name exists), NAME.pub the public key (PEM SPKI) to commit and pin.
import type { Command } from 'commander';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { generateKeyPair } from '../export/signature.ts';
import { UserError } from '../util/errors.ts';

export interface KeygenCliOptions {
  out: string;
  force?: boolean;
}

/** NAME (with or without .pem/.pub) -> the two key file paths. */
export function keyPaths(name: string): { privateKey: string; publicKey: string } {
  const base = resolve(name.replace(/\.(pem|pub)$/, ''));
  return { privateKey: `${base}.pem`, publicKey: `${base}.pub` };
}

/** Writes `text` to `path` with `mode`, atomically; without `force` it fails if `path` exists (O_EXCL semantics). */
function writeKeyFile(path: string, text: string, mode: number, force: boolean): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (force) renameSync(tmp, path);
    else linkSync(tmp, path); // atomic, and refuses an existing name
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UserError(`${path} already exists (pass --force to overwrite)`);
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export async function runKeygen(o: KeygenCliOptions): Promise<void> {
  const p = keyPaths(o.out);
  for (const f of [p.privateKey, p.publicKey])
    if (existsSync(f) && !o.force) throw new UserError(`${f} already exists (pass --force to overwrite)`);
  const k = await generateKeyPair();
  mkdirSync(dirname(p.privateKey), { recursive: true, mode: 0o700 });
  writeKeyFile(p.privateKey, k.privatePem, 0o600, o.force ?? false);
  writeKeyFile(p.publicKey, k.publicPem, 0o644, o.force ?? false);
  process.stdout.write(
    `wrote private key ${p.privateKey} (mode 0600: keep it secret and out of the repository)\n` +
      `wrote public key ${p.publicKey} (key id ${k.keyId}; raw base64 ${k.publicRaw})\n`,
  );
}

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('create an Ed25519 key pair for signing bundles: NAME.pem (private, mode 0600) and NAME.pub')
    .requiredOption('--out <name>', 'path prefix of the two key files')
    .option('--force', 'overwrite existing key files')
    .action(async (opts: KeygenCliOptions) => runKeygen(opts));
}
