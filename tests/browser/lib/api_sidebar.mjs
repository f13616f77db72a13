// Opens the packaged sidebar with the ZAF stand-in whose `client.request` goes through the
// tests' Zendesk proxy (lib/zaf_proxy.mjs) to the real sandbox appliance, and records what the
// frame itself sends over the network (it must never carry a secret).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { distApp, ZAF_SDK_URL } from './harness.mjs';
import { createZafProxy, PROXY_GLUE } from './zaf_proxy.mjs';

const STANDIN = readFileSync(new URL('../fixtures/zaf-standin.js', import.meta.url), 'utf8');

/** The packaged manifest as installed after `cargo xtask package --appliance-host HOST`. */
export function installedManifest(host) {
  const manifest = JSON.parse(readFileSync(join(distApp, 'manifest.json'), 'utf8'));
  if (host) manifest.domainWhitelist = [...new Set([...(manifest.domainWhitelist ?? []), host])];
  return manifest;
}

/**
 * Opens `iframe.html` in a new page of `browser`.
 * - `zaf`: the stand-in's configuration (settings, ticketId, user...)
 * - `proxy`: createZafProxy options (manifest, secure, resolveHost, zendesk)
 * Returns { page, proxy, frameRequests, launched }.
 */
export async function openApiSidebar(browser, server, { zaf, proxy: proxyOptions, clock }) {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 320, height: 900 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const frameRequests = [];
  page.on('request', (r) => frameRequests.push({ url: r.url(), headers: r.headers(), body: r.postData() ?? '' }));
  const proxy = createZafProxy(proxyOptions);
  await page.exposeBinding('__zafProxy', (_source, options) => proxy.handle(options));
  const body = `window.__zafConfig = ${JSON.stringify(zaf)};\n${STANDIN}\n${PROXY_GLUE}`;
  await page.route(ZAF_SDK_URL, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body }));
  const launched = [];
  // The console-dialog fallback: client-script URLs, however the sidebar opens them.
  await browser.route((url) => url.protocol === 'https:' && url.pathname === '/api/client_script', (route) => {
    launched.push(route.request().url());
    route.fulfill({ status: 200, contentType: 'text/plain', body: 'BRCS' });
  });
  if (clock) await page.clock.install({ time: Date.now() });
  await page.goto(`${server.url}/assets/iframe.html?origin=https%3A%2F%2Facme.zendesk.com&app_guid=test-guid`);
  page.errors = errors;
  return { page, proxy, frameRequests, launched };
}

/** Zendesk's comments API over `tickets` ({id: [comment...]}), `perPage` a page. */
export function commentsApi(tickets, { perPage = 2, fail = () => false, hold = null } = {}) {
  const calls = [];
  const handler = async (options, url) => {
    calls.push(url.href);
    if (hold) await hold.promise;
    const m = /^\/api\/v2\/tickets\/(\d+)\/comments\.json$/.exec(url.pathname);
    if (!m) return { ok: false, status: 404, responseText: '{"error":"InvalidEndpoint"}' };
    if (fail(url)) return { ok: false, status: 500, responseText: '{"error":"Internal"}' };
    const all = tickets[m[1]] ?? [];
    const page = Number(url.searchParams.get('page') ?? '1');
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const more = page * perPage < all.length;
    const next = more ? `https://acme.zendesk.com/api/v2/tickets/${m[1]}/comments.json?page=${page + 1}` : null;
    const answer = { comments: slice, next_page: next, previous_page: null, count: all.length };
    return { ok: true, status: 200, responseText: JSON.stringify(answer) };
  };
  handler.calls = calls;
  return handler;
}
