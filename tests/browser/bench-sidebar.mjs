// Render budget of the ticket sidebar: loads the packaged app 20 times in headless chromium (ZAF
// stand-in, local server) and prints one JSON line:
//   {"median_ready_ms": .., "samples": 20, "min_ready_ms": .., "max_ready_ms": ..}
// measured in the page from the iframe's `load` event to the ready state being in the DOM (a
// MutationObserver installed before any page script notes when [data-phase="ready"] appears).
// Run: RSZ_DIST_APP=dist/app node tests/browser/bench-sidebar.mjs
import { launchBrowser, serveDir, distApp, installZafStandIn } from './lib/harness.mjs';

const SAMPLES = 20;
const SETTINGS = {
  hostname: 'support.example.com',
  issues: 'general_tech=General Technical Issues',
  jumpoints: 'Main Office\nDMZ',
  allow_jump_client: true,
  allow_local_jump: true,
  allow_remote_jump: true,
  allow_rdp: true,
  allow_shell_jump: true,
};

/** Runs in the page before its scripts: records load and ready times on `window.__bench`. */
function probe() {
  const bench = (window.__bench = { load: null, ready: null });
  window.addEventListener('load', () => { bench.load = performance.now(); });
  new MutationObserver((_, observer) => {
    if (document.querySelector('[data-phase="ready"]')) {
      bench.ready = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x) => Math.round(x * 10) / 10;

const server = await serveDir(distApp);
const browser = await launchBrowser();
try {
  const samples = [];
  for (let i = 0; i < SAMPLES; i++) {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 320, height: 800 });
    await installZafStandIn(page, { location: 'ticket_sidebar', ticketId: 42, settings: SETTINGS });
    await page.addInitScript(probe);
    await page.goto(`${server.url}/assets/iframe.html`);
    await page.waitForFunction(() => window.__bench.load !== null && window.__bench.ready !== null);
    const { load, ready } = await page.evaluate(() => window.__bench);
    // Ready before load (possible: the wasm may win the race) counts as 0 ms after load.
    samples.push(Math.max(0, ready - load));
    await page.close();
  }
  console.log(JSON.stringify({
    median_ready_ms: round(median(samples)),
    samples: samples.length,
    min_ready_ms: round(Math.min(...samples)),
    max_ready_ms: round(Math.max(...samples)),
  }));
} finally {
  await browser.close();
  await server.close();
}
