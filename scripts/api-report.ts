// The public API of each package entry, recorded in api/*.api.md by API Extractor from the built
// .d.ts (npm run build first), so any change to what users can import is a visible diff in review.
//   npm run api          rewrite the reports after an intended change (and say it in CHANGELOG.md)
//   npm run lint:api     fail if the built surface differs from the committed reports (CI, via npm run lint)
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');
/** Package export -> its built declaration file and report name. */
const ENTRIES = [
  { name: 'strainer', dts: 'dist/index.d.ts' },
  { name: 'strainer-node', dts: 'dist/node/index.d.ts' },
  { name: 'strainer-web', dts: 'dist/web/index.d.ts' },
];

mkdirSync(join(ROOT, 'api'), { recursive: true });
let failed = false;
for (const e of ENTRIES) {
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: ROOT,
      mainEntryPointFilePath: join(ROOT, e.dts),
      compiler: { tsconfigFilePath: join(ROOT, 'tsconfig.build.json') },
      apiReport: {
        enabled: true,
        reportFileName: `${e.name}.api.md`,
        reportFolder: join(ROOT, 'api'),
        reportTempFolder: join(ROOT, 'node_modules/.cache/api-extractor'),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // The report records the surface; doc-comment style (TSDoc tags, release tags) is not checked.
        extractorMessageReporting: {
          default: { logLevel: 'none' as never },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' as never } },
        compilerMessageReporting: { default: { logLevel: 'warning' as never } },
      },
    },
    configObjectFullPath: join(ROOT, 'api', `${e.name}.api-extractor.json`),
    packageJsonFullPath: join(ROOT, 'package.json'),
  });
  const r = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false });
  if (check && r.apiReportChanged) {
    console.error(
      `api/${e.name}.api.md: the public API of ${e.dts} changed; run npm run api, review the diff and note it in CHANGELOG.md`,
    );
    failed = true;
  } else if (!r.succeeded) {
    console.error(`api-extractor failed on ${e.dts}: ${r.errorCount} errors, ${r.warningCount} warnings`);
    failed = true;
  } else console.log(`api/${e.name}.api.md ${r.apiReportChanged ? 'updated' : 'unchanged'}`);
}
process.exit(failed ? 1 : 0);
