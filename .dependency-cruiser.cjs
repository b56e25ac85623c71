// The architecture, checked in CI (`npm run lint:layers`): src/ is a stack of layers and an import never
// runs up it; there are no import circles; the platform-neutral core (what src/index.ts reaches) imports
// no Node built-in, no onnxruntime package, no TensorFlow.js and no Node-only codec; src/data holds codecs
// of bytes and arrays and reads no files (src/node does). The same order is
// written in README "Code layout". The core's freedom from DOM and Node APIs is checked by the compiler
// (tsconfig.core.json).

/** Bottom first. `node` and `web` are sibling platforms (neither imports the other); tfjs and cli sit on node. */
const LAYERS = [
  'util',
  'data',
  'graph',
  'onnx',
  'model',
  'runtime',
  'train',
  'export',
  'restore',
  'pipeline',
  ['node', 'web'],
  'tfjs',
  'cli',
];

const level = new Map();
LAYERS.forEach((l, i) => (Array.isArray(l) ? l : [l]).forEach((name) => level.set(name, i)));
const names = [...level.keys()];
const above = (name) => names.filter((n) => level.get(n) > level.get(name));
const siblings = (name) => names.filter((n) => n !== name && level.get(n) === level.get(name));

const layerRules = names
  .map((name) => ({ name, forbidden: [...above(name), ...siblings(name)] }))
  .filter((r) => r.forbidden.length > 0)
  .map((r) => ({
    name: `layer-${r.name}`,
    comment: `src/${r.name} may not import from a higher or sibling layer (${r.forbidden.join(', ')}): see LAYERS`,
    severity: 'error',
    from: { path: `^src/${r.name}/` },
    to: { path: `^src/(${r.forbidden.join('|')})/` },
  }));

/** Packages and files the core must never reach: platform runtimes, Node-only codecs and Node file I/O. */
const PLATFORM_ONLY = [
  // Node built-ins, with their subpaths (node:fs/promises, stream/web), named or not with node:.
  '^(node:)?(fs|path|os|crypto|zlib|url|module|child_process|worker_threads|stream|buffer|util|http|https|net|process|events|assert|perf_hooks|readline|timers|v8|vm|dns|tls|dgram|cluster|inspector|async_hooks|string_decoder|querystring)(/|$)',
  'node_modules/(onnxruntime-node|onnxruntime-web|@tensorflow|pngjs|jpeg-js|commander|cli-progress)/',
  '^src/(node|web|cli|tfjs)/',
  '^src/runtime/ort-',
  '^src/data/image\\.ts$',
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a circle between files is a layer that has not been named yet',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'data-is-bytes-in',
      severity: 'error',
      comment:
        'src/data decodes bytes and arrays; reading files by path is src/node (read.ts, datasets.ts), so no Node built-in here. ' +
        'pngjs and jpeg-js stay allowed (image.ts decodes with them); the core entry is kept off them by core-is-platform-neutral',
      from: { path: '^src/data/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-is-platform-neutral',
      severity: 'error',
      comment:
        'the core entry (src/index.ts) must not reach Node built-ins, onnxruntime, TensorFlow.js or Node-only code',
      from: { path: '^src/index\\.ts$' },
      to: { reachable: true, path: PLATFORM_ONLY },
    },
    {
      name: 'web-has-no-node',
      severity: 'error',
      comment: 'the browser entry must not reach Node built-ins or onnxruntime-node',
      from: { path: '^src/web/(index|worker)\\.ts$' },
      to: {
        reachable: true,
        path: [
          PLATFORM_ONLY[0],
          'node_modules/(onnxruntime-node|@tensorflow|pngjs|jpeg-js)/',
          '^src/(node|cli|tfjs)/',
          '^src/runtime/ort-node',
        ],
      },
    },
    {
      name: 'onnxruntime-node-only-in-its-adapter',
      severity: 'error',
      comment: 'onnxruntime-node is imported by src/runtime/ort-node.ts alone (and loaded lazily there)',
      from: { path: '^src/', pathNot: '^src/runtime/ort-node\\.ts$' },
      to: { path: 'node_modules/onnxruntime-node/' },
    },
    {
      name: 'onnxruntime-web-only-in-its-adapter',
      severity: 'error',
      comment: 'onnxruntime-web is imported by src/runtime/ort-web.ts alone',
      from: { path: '^src/', pathNot: '^src/runtime/ort-web\\.ts$' },
      to: { path: 'node_modules/onnxruntime-web/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: ['^src/', 'node_modules/', '^(node:)?[a-z_/]+$'],
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
