// Where scripts/fetch-data.sh puts the datasets that are fetched rather than bundled (REFERENCE.md:
// LFW subset and skimage test images from python3-skimage, nature photos from mate-backgrounds, speech
// clips from asterisk-core-sounds-en-wav), and
// lookups that return null when a dataset is absent so tests can skip with a clear message.
// Node-only (node:fs, node:os).

import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type CachedDatasetName = 'lfw' | 'skimage' | 'nature' | 'speech';

/** $STRAINER_DATA, else ~/.cache/strainer (the default of scripts/fetch-data.sh). */
export function dataCacheDir(): string {
  const env = process.env.STRAINER_DATA;
  return env !== undefined && env !== '' ? env : join(homedir(), '.cache', 'strainer');
}

/** Path to load the dataset from (a data-source spec), or null when it has not been fetched. */
export function cachedDataset(name: CachedDatasetName): string | null {
  const dir = dataCacheDir();
  switch (name) {
    case 'lfw': {
      const file = join(dir, 'lfw', 'lfw_subset.npy');
      return existsSync(file) && statSync(file).size > 0 ? file : null;
    }
    case 'skimage':
    case 'nature':
    case 'speech': {
      const folder = join(dir, name);
      return existsSync(folder) && readdirSync(folder).length > 0 ? folder : null;
    }
    default:
      return name satisfies never;
  }
}

/** The line tests print when they skip for lack of a dataset. */
export function missingDatasetMessage(name: CachedDatasetName): string {
  return `dataset '${name}' not found under ${dataCacheDir()}; run scripts/fetch-data.sh to fetch it`;
}
