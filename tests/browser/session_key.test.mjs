// Session keys in the sidebar (API mode), end to end: the packaged app in chromium, the ZAF
// stand-in, the tests' Zendesk proxy (secure settings filled only in their scopes) and the real
// sandbox appliance answering oauth2/token and generate_session_key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, serveDir, distApp, screenshot } from './lib/harness.mjs';
import { startSandbox } from './lib/sandbox.mjs';
import { openApiSidebar, installedManifest, commentsApi } from './lib/api_sidebar.mjs';

const HOST = 'bt.example.com';
const SETTINGS = {
  hostname: HOST,
  issues: 'general_tech=General Technical Issues',
  jumpoints: 'Main Office',
  allow_jump_client: true,
  allow_local_jump: true,
  api_session_keys: true,
  session_queue: 'general',
};

let sandbox;
let server;
let browser;

before(async () => {
  sandbox = await startSandbox();
  server = await serveDir(distApp);
  browser = await launchBrowser();
  await browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await sandbox?.close();
});

const secrets = () => ({ api_client_id: sandbox.info.client_id, api_client_secret: sandbox.info.client_secret });

async function open({ settings = {}, secure = secrets(), manifest = installedManifest(HOST), reachable = true, clock = false, locale } = {}) {
  return openApiSidebar(browser, server, {
    zaf: { location: 'ticket_sidebar', ticketId: 42, settings: { ...SETTINGS, ...settings }, user: locale ? { locale } : undefined },
    proxy: {
      manifest,
      secure,
      resolveHost: (host) => (reachable && host === HOST ? sandbox.info.appliance_url : null),
      zendesk: commentsApi({}),
    },
    clock,
  });
}

const calls = () => sandbox.control('/calls');

function assertNoSecret(s, where) {
  for (const secret of [sandbox.info.client_secret, sandbox.info.client_id]) {
    assert.ok(!where.includes(secret), `${s} carries a secret`);
  }
}

test('API mode: the key, its URL and a live countdown come from the appliance; secrets stay in the proxy', async () => {
  const before = await calls();
  const { page, proxy, frameRequests } = await open();
  await page.waitForSelector('[data-phase="ready"]');
  await page.getByRole('button', { name: 'Generate Session Key' }).click();
  await page.waitForSelector('#rs-key');
  const after = await calls();
  const issued = after.session_keys.slice(before.session_keys.length);
  assert.equal(issued.length, 1, 'one key generated');
  const key = await page.locator('#rs-key').innerText();
  assert.equal(key, issued[0].short_key);
  assert.equal(issued[0].external_key, '42');
  assert.equal(issued[0].queue_id, 'general');
  const generate = after.api_calls.slice(before.api_calls.length).filter((c) => c.action === 'generate_session_key');
  assert.equal(generate.length, 1);
  assert.equal(generate[0].status, 200);
  assert.ok(generate[0].connection_close, 'Connection: close on the API call');
  const tokens = after.token_calls.slice(before.token_calls.length);
  assert.deepEqual(tokens.map((t) => t.status), [200], 'one token, accepted');

  const url = await page.locator('#rs-key-url').getAttribute('href');
  assert.match(url, new RegExp(`^${sandbox.info.appliance_url.replace(/[.]/g, '\\.')}/\\?ak=[0-9a-f]{32}$`));
  assert.equal(await page.locator('#rs-key-url').innerText(), url);
  const left = () => page.locator('#rs-key-expiry').innerText();
  const first = await left();
  const expectedSecs = issued[0].expires - Math.floor(Date.now() / 1000);
  const shownSecs = /^Expires in ((?:\d+:)?\d+:\d\d)$/.exec(first)[1].split(':').reduce((a, n) => a * 60 + Number(n), 0);
  assert.ok(Math.abs(shownSecs - expectedSecs) <= 3, `${first} vs ${expectedSecs}s`);
  await page.waitForFunction((t) => document.querySelector('#rs-key-expiry').innerText !== t, first, { timeout: 3000 });

  // Secrets: never in the page, in the frame's own requests or in what it hands to ZAF.
  assertNoSecret('the page', await page.content());
  for (const r of frameRequests) assertNoSecret(r.url, `${r.url} ${JSON.stringify(r.headers)} ${r.body}`);
  const zafCalls = await page.evaluate(() => JSON.stringify(window.__zaf.calls));
  assertNoSecret('the ZAF calls', zafCalls);
  const tokenRequest = (await page.evaluate(() => window.__zaf.calls.filter((c) => c[0] === 'request').map((c) => c[1])))
    .find((o) => o.url.endsWith('/oauth2/token'));
  assert.equal(tokenRequest.secure, true);
  assert.equal(
    Buffer.from(tokenRequest.headers.Authorization.replace('Basic ', ''), 'base64').toString(),
    '{{setting.api_client_id}}:{{setting.api_client_secret}}',
  );
  // Only the proxied request carries them.
  const proxiedToken = proxy.proxied.find((r) => r.url.endsWith('/oauth2/token'));
  assert.equal(
    Buffer.from(proxiedToken.headers.Authorization.replace('Basic ', ''), 'base64').toString(),
    `${sandbox.info.client_id}:${sandbox.info.client_secret}`,
  );
  // The key waits in this ticket's sessions list until a session shows up.
  assert.equal(
    await page.locator(`#rs-sessions .rs-waiting[data-key="${key}"]`).innerText(),
    `Key ${key}: waiting for the customer`,
  );
  await screenshot(page, 'sidebar-session-key');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('Copy and Insert into reply hand over the translated invitation', async () => {
  for (const [locale, pattern] of [
    ['en-US', /^To start a remote support session, open (\S+) or go to (\S+) and enter the session key (\d{7})\. The key is valid for (\d+) minutes\.$/],
    ['de', /^Um eine Fernsupport-Sitzung zu starten, öffnen Sie (\S+) oder gehen Sie zu (\S+) und geben Sie den Sitzungsschlüssel (\d{7}) ein\. Der Schlüssel ist (\d+) Minuten gültig\.$/],
  ]) {
    const { page } = await open({ locale });
    await page.locator('#rs-generate-session-key').click();
    await page.waitForSelector('#rs-key');
    const key = await page.locator('#rs-key').innerText();
    const url = await page.locator('#rs-key-url').getAttribute('href');
    await page.locator('#rs-copy-key').click();
    await page.waitForSelector('#rs-key-done');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const m = pattern.exec(copied);
    assert.ok(m, `${locale}: ${copied}`);
    assert.deepEqual([m[1], m[2], m[3]], [url, sandbox.info.appliance_url, key]);
    assert.ok(Number(m[4]) >= 59 && Number(m[4]) <= 60, copied);
    await page.locator('#rs-insert-key').click();
    await page.waitForFunction(() => (window.__zaf.appended || []).length === 1);
    const inserted = await page.evaluate(() => window.__zaf.calls.filter((c) => c[1] === 'ticket.comment.appendText'));
    assert.deepEqual(inserted, [['invoke', 'ticket.comment.appendText', copied]]);
    if (locale === 'en-US') {
      assert.match(await page.locator('#rs-key-done').innerText(), /added to the reply/);
    }
    await page.close();
  }
});

test('a rejected token (401) gets exactly one fresh token', async () => {
  await sandbox.control('/token_lifetime', { method: 'PUT', body: JSON.stringify({ seconds: 1 }) });
  try {
    const before = await calls();
    const { page } = await open();
    await page.locator('#rs-generate-session-key').click();
    await page.waitForSelector('#rs-key');
    const firstKey = await page.locator('#rs-key').innerText();
    await new Promise((r) => setTimeout(r, 1500));
    await page.getByRole('button', { name: 'Generate a new key' }).click();
    await page.waitForFunction((k) => {
      const key = document.querySelector('#rs-key');
      return document.querySelector('#rs-key-error') || (key && key.innerText !== k);
    }, firstKey);
    assert.equal(await page.locator('#rs-key-error').count(), 0);
    assert.match(await page.locator('#rs-key').innerText(), /^\d{7}$/);
    const after = await calls();
    const statuses = after.api_calls.slice(before.api_calls.length).filter((c) => c.action === 'generate_session_key').map((c) => c.status);
    assert.deepEqual(statuses, [200, 401, 200]);
    assert.equal(after.token_calls.length - before.token_calls.length, 2);
    await page.close();
  } finally {
    await sandbox.control('/token_lifetime', { method: 'PUT', body: JSON.stringify({ seconds: 3600 }) });
  }
});

const FAILURES = [
  {
    name: 'appliance <error>',
    open: { settings: { session_queue: 'queue:7' } },
    failure: 'appliance',
    text: 'The BeyondTrust appliance refused: Invalid queue_id.',
  },
  {
    name: 'unreachable appliance',
    open: { reachable: false },
    failure: 'unreachable',
    text: /Zendesk could not reach the BeyondTrust appliance/,
  },
  {
    name: 'host not in domainWhitelist (packaged without --appliance-host)',
    open: { manifest: installedManifest(null) },
    failure: 'unreachable',
    text: /Zendesk could not reach the BeyondTrust appliance/,
  },
  {
    name: 'bad credentials',
    open: { secure: { api_client_id: 'wrong', api_client_secret: 'wrong-secret' } },
    failure: 'credentials',
    text: /rejected the app's API client ID or secret/,
  },
];

for (const f of FAILURES) {
  test(`failure: ${f.name} shows its message and the console dialog fallback`, async () => {
    const { page, launched } = await open(f.open);
    await page.locator('#rs-generate-session-key').click();
    const error = page.locator('#rs-key-error');
    await error.waitFor();
    assert.equal(await error.getAttribute('data-failure'), f.failure);
    const text = await error.innerText();
    if (typeof f.text === 'string') assert.equal(text, f.text);
    else assert.match(text, f.text);
    assert.equal(await error.getAttribute('role'), 'alert');
    assertNoSecret('the page', await page.content());
    await page.getByRole('button', { name: "Open the console's session key dialog instead" }).click();
    await page.waitForFunction(() => true);
    for (let i = 0; i < 50 && launched.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const url = `https://${HOST}/api/client_script?type=rep&operation=generate&action=generate_session_key&session.custom.external_key=42`;
    assert.deepEqual(launched, [url]);
    // The fallback is the top-level launch: its notice, with a link to that launch, sits right
    // under the fallback button.
    const notice = page.locator('#rs-key-console + .rs-notice');
    await notice.waitFor();
    assert.match(await notice.innerText(), /Opening your representative console/);
    const href = await notice.locator('#rs-fallback-link').getAttribute('href');
    assert.match(href, /^launch\.html#/);
    assert.equal(decodeURIComponent(href.slice('launch.html#'.length)), url);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

test('failure: an expired key is replaced by its message and the fallback', async () => {
  const { page } = await open({ clock: true });
  await page.locator('#rs-generate-session-key').click();
  await page.waitForSelector('#rs-key');
  await page.clock.fastForward('01:00:05');
  const error = page.locator('#rs-key-error');
  await error.waitFor();
  assert.equal(await error.getAttribute('data-failure'), 'expired');
  assert.equal(await error.innerText(), 'This session key has expired. Generate a new one.');
  assert.equal(await page.locator('#rs-key').count(), 0, 'the expired key is gone');
  assert.equal(await page.locator('#rs-key-console').count(), 1);
  await page.close();
});

test('without API settings the button still opens the console dialog', async () => {
  const before = await calls();
  const { page, launched } = await open({ settings: { api_session_keys: false } });
  await page.waitForSelector('[data-phase="ready"]');
  assert.match(await page.locator('#rs-session-key-help').innerText(), /Opens the session key dialog/);
  await page.getByRole('button', { name: 'Generate Session Key' }).click();
  for (let i = 0; i < 50 && launched.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(launched, [
    `https://${HOST}/api/client_script?type=rep&operation=generate&action=generate_session_key&session.custom.external_key=42`,
  ]);
  assert.equal(await page.locator('#rs-key').count(), 0);
  const after = await calls();
  assert.equal(after.token_calls.length, before.token_calls.length, 'no API call without API mode');
  const requests = await page.evaluate(() => window.__zaf.calls.filter((c) => c[0] === 'request').map((c) => c[1].url));
  assert.ok(requests.every((u) => u.startsWith('/api/v2/tickets/42/comments.json')), JSON.stringify(requests));
  await page.close();
});
