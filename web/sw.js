// The demo's service worker (production builds only; registered by web/main.ts): precaches the page,
// its scripts and styles, onnxruntime-web's wasm, the samples and the prior index at install, and
// answers same-origin GETs from that cache first, so after one visit the page loads with the network
// off. Prior bundles are not handled here: strainer/web's loadPriorFromUrl verifies and caches them in
// its own Cache Storage entry. onnxruntime runs in the page's fit worker, never here
// (microsoft/onnxruntime#20876). The build (web/server.ts, plugin strainer-assets) replaces the two
// placeholders below with the emitted file list and a hash of it, so a new build installs a new cache.
const PRECACHE = self.__STRAINER_PRECACHE__;
const CACHE = `strainer-app-${self.__STRAINER_BUILD__}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  // Drop the app caches of older builds; the prior cache (strainer-priors) belongs to the library.
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith('strainer-app-') && k !== CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  // Prior bundles go to the network: loadPriorFromUrl falls back to its own verified cache offline.
  if (url.pathname.includes('/models/') && !url.pathname.endsWith('/models/index.json')) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const hit = await cache.match(event.request, { ignoreSearch: true });
      if (hit) return hit;
      try {
        return await fetch(event.request);
      } catch (e) {
        // Offline and not precached: a navigation still gets the page itself.
        if (event.request.mode === 'navigate') {
          const page = await cache.match('./');
          if (page) return page;
        }
        throw e;
      }
    })(),
  );
});
