// Shared harness for the browser tests (run by `cargo xtask test` with `node --test`).
//
// Real parts only: Debian's chromium driven by playwright-core, pages served over real HTTP on
// 127.0.0.1. `cargo xtask test` sets the environment:
//   RSZ_DIST_APP   absolute path of the packaged app folder (dist/app)
//   RSZ_CHROMIUM   chromium executable (default /usr/bin/chromium)
//   RSZ_ARTIFACTS  folder for screenshots and other artifacts
//   RSZ_SCRATCH    scratch folder (fresh browser profiles go below it)
//   RSZ_SANDBOX_BIN the `sandbox` binary (the simulated appliance of the Zendesk-shaped tests)
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, extname, resolve, normalize, sep } from 'node:path';
import { tmpdir } from 'node:os';

export const distApp = resolve(process.env.RSZ_DIST_APP ?? 'dist/app');
export const artifactsDir = resolve(process.env.RSZ_ARTIFACTS ?? 'target/browser-artifacts');
const scratch = resolve(process.env.RSZ_SCRATCH ?? tmpdir());

/** The flags this machine's closed network needs (without them chromium keeps dialling out). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Launches chromium with a fresh, empty profile; close the returned context when done.
 * `options` are extra playwright context options (e.g. `{ ignoreHTTPSErrors: true }`),
 * `extraArgs` extra chromium switches (e.g. `--ip-address-space-overrides=...`).
 */
export async function launchBrowser(options = {}, extraArgs = []) {
  mkdirSync(scratch, { recursive: true });
  const profile = mkdtempSync(join(scratch, 'chromium-profile-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.RSZ_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    viewport: { width: 1024, height: 768 },
    ...options,
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png',
  '.css': 'text/css', '.svg': 'image/svg+xml',
};

/**
 * Serves `root` (and optional extra `routes`: path -> {type, body}) on `host` (a loopback
 * address), a free port.
 * Returns { url, close }.
 */
export async function serveDir(root, routes = {}, host = '127.0.0.1') {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (routes[path]) {
      res.writeHead(200, { 'content-type': routes[path].type ?? 'text/html; charset=utf-8' });
      res.end(routes[path].body);
      return;
    }
    const file = normalize(join(base, path));
    if (!(file === base || file.startsWith(base + sep))) { res.writeHead(403); res.end(); return; }
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404); res.end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, host, ok));
  const { port } = server.address();
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(ok); }),
  };
}

/** Saves a screenshot of `page` as `<artifacts>/<name>.png` and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The URL the app's iframe.html loads Zendesk's ZAF SDK from. */
export const ZAF_SDK_URL = 'https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js';
const ZAF_STANDIN = new URL('../fixtures/zaf-standin.js', import.meta.url);

/**
 * Serves the ZAF stand-in (tests/browser/fixtures/zaf-standin.js) in place of the SDK for this
 * page, configured with `config` (see the stand-in's header). Its records are in `window.__zaf`.
 */
export async function installZafStandIn(page, config) {
  const body = `window.__zafConfig = ${JSON.stringify(config)};\n${readFileSync(ZAF_STANDIN, 'utf8')}`;
  await page.route(ZAF_SDK_URL, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body }));
}
