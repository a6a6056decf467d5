/* The sampling desk's service worker, served at /testing/desk/sw.js (desk_views.service_worker)
   so that its scope is the desk pages and nothing else. It lets a desk page reload without a
   network: the pages are fetched from the network first and kept, the scripts, styles and the
   barcode reader's .wasm are served from the cache and refreshed behind. Scans never pass
   through here: they wait in the page's IndexedDB queue (desk.js) and the API is never cached. */
"use strict";

const CACHE = "epigrid-desk-v1";
// A page waits this long for the network before the kept copy is shown (a network that hangs).
const PAGE_TIMEOUT_MS = 4000;
const SCOPE = new URL(self.registration.scope).pathname;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith("epigrid-desk-") && n !== CACHE).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

function keep(cache, request, response) {
  // A redirect (to the login page) or an error page is not a desk page to show offline.
  if (response && response.ok && !response.redirected && response.type === "basic") {
    return cache.put(request, response.clone());
  }
  return Promise.resolve();
}

// The page tells which files it loaded before this worker controlled it.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "cache" || !Array.isArray(data.urls)) return;
  event.waitUntil(
    (async () => {
      // A page that loaded while this worker was still activating missed the claim in
      // "activate": it is taken over now, so its next requests come through here too.
      await self.clients.claim();
      const cache = await caches.open(CACHE);
      await Promise.all(
        data.urls
          .filter((url) => new URL(url, self.location.href).origin === self.location.origin)
          .map(async (url) => {
            if (await cache.match(url, { ignoreVary: true })) return;
            try {
              await keep(cache, url, await fetch(url, { credentials: "same-origin" }));
            } catch (e) {
              /* offline already: kept the next time */
            }
          }),
      );
    })(),
  );
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_resolve, reject) => setTimeout(() => reject(new Error("timeout")), PAGE_TIMEOUT_MS)),
    ]);
    await keep(cache, request, response);
    return response;
  } catch (err) {
    const kept = await cache.match(request, { ignoreVary: true, ignoreSearch: true });
    if (kept) return kept;
    throw err;
  }
}

async function cacheFirst(event) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(event.request, { ignoreVary: true });
  const fresh = fetch(event.request).then(async (response) => {
    await keep(cache, event.request, response);
    return response;
  });
  if (kept) {
    event.waitUntil(fresh.catch(() => undefined));
    return kept;
  }
  return fresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname.startsWith(SCOPE) && !url.pathname.endsWith("/sw.js")) event.respondWith(networkFirst(request));
    return;
  }
  if (["script", "style", "font", "image"].includes(request.destination) || url.pathname.endsWith(".wasm")) {
    event.respondWith(cacheFirst(event));
  }
});
