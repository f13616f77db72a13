// The sidebar as Zendesk and Chrome run it (lib/zendesk.mjs): the app framed cross-origin with an
// iframe sandbox, the real simulated appliance on a third origin answering the client script as
// an attachment with X-Frame-Options: SAMEORIGIN. For every action (session key and the five
// Jump types) the appliance must receive the exact client-script request and the browser must
// hand the BRCS file over as a download; where a configuration cannot work, the sidebar must say
// what to do.
//
// Sandbox variants. Zendesk does not publish the flags of its app iframes (the ZAF docs and the
// zendesk_app_framework / zendesk_apps_support sources we could search do not state them), so
// the tests cover the plausible sets: everything an app could need; the same without
// allow-downloads; and a set without pop-ups, which no launch from the frame can get through.
// One more pass runs with Chrome's Local Network Access engaged
// (`--ip-address-space-overrides`: the agent page and the app public, the appliance local).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, installZafStandIn, screenshot } from './lib/harness.mjs';
import { startAppliance, startZendesk, APP_HOST } from './lib/zendesk.mjs';

const FULL = 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads';
const NO_DOWNLOADS = 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox';
const NO_POPUPS = 'allow-scripts allow-same-origin allow-forms allow-downloads';

let appliance;
before(async () => { appliance = await startAppliance(); });
after(async () => { await appliance?.close(); });

const settings = () => ({
  hostname: appliance.host,
  issues: 'general_tech=General Technical Issues',
  jumpoints: 'Main Office\nDMZ',
  allow_jump_client: true,
  allow_local_jump: true,
  allow_remote_jump: true,
  allow_rdp: true,
  allow_shell_jump: true,
});

/** Each action: how to start it in the sidebar, and the decoded parameters it must send. */
const ACTIONS = [
  {
    name: 'session key',
    action: 'generate_session_key',
    start: async (app) => app.getByRole('button', { name: 'Generate Session Key' }).click(),
    params: [],
  },
  {
    name: 'Jump Client',
    action: 'start_jump_item_session',
    type: 'jump_client',
    fill: { '#rs-target': 'ACME laptop #7 & co' },
    params: [['jump.method', 'pinned'], ['search_string', 'ACME laptop #7 & co']],
  },
  {
    name: 'Local Jump',
    action: 'push_and_start_local',
    type: 'local_jump',
    fill: { '#rs-target': '10.0.0.5' },
    params: [['hostname', '10.0.0.5']],
  },
  {
    name: 'Remote Jump',
    action: 'push_and_start_remote',
    type: 'remote_jump',
    select: { '#rs-jumpoint': 'Main Office' },
    fill: { '#rs-target': 'db-01.corp' },
    params: [['target', 'db-01.corp'], ['jumpoint', 'Main Office']],
  },
  {
    name: 'RDP',
    action: 'start_rdp_session',
    type: 'rdp',
    select: { '#rs-jumpoint': 'DMZ' },
    fill: { '#rs-target': 'ws-9', '#rs-username': 'CORP\\jane' },
    params: [['target', 'ws-9'], ['jumpoint', 'DMZ'], ['username', 'CORP\\jane']],
  },
  {
    name: 'Shell Jump',
    action: 'start_shell_jump_session',
    type: 'shell_jump',
    select: { '#rs-jumpoint': 'DMZ', '#rs-protocol': 'telnet' },
    fill: { '#rs-target': 'router.lan', '#rs-username': 'admin' },
    params: [['target', 'router.lan'], ['jumpoint', 'DMZ'], ['username', 'admin'], ['protocol', 'telnet'], ['port', '23']],
  },
];

function expectedParams(a) {
  return [
    ['type', 'rep'], ['operation', 'generate'], ['action', a.action],
    ...a.params,
    ['session.custom.external_key', '42'],
  ];
}

async function startAction(page, app, a) {
  if (!a.type) return a.start(app);
  await app.locator('#rs-jump-type').selectOption(a.type);
  for (const [sel, v] of Object.entries(a.select ?? {})) await app.locator(sel).selectOption(v);
  for (const [sel, v] of Object.entries(a.fill)) await app.locator(sel).fill(v);
  await app.getByRole('button', { name: 'Jump', exact: true }).click();
}

/**
 * Saves a screenshot of the agent page. Launches open tabs in front of it, and a background tab
 * is not painted: bring the page back first and let it paint.
 */
async function shot(z, name) {
  await z.page.bringToFront();
  await z.page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
  await screenshot(z.page, name);
}

/** Polls `probe` until it returns a truthy value (at most `ms`). */
async function until(what, ms, probe) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

/**
 * Opens the agent page with the app framed under `sandbox`, in a fresh browser; `lna`: with
 * Local Network Access engaged (the agent page and the app public, the appliance local).
 * Returns { context, page, app (frame locator), frame(), downloads, popups, close }.
 */
async function openZendesk({ sandbox, lna = false, user = { role: 'agent', locale: 'en-US' } }) {
  const zendesk = await startZendesk({ sandbox });
  const args = lna
    ? [`--ip-address-space-overrides=127.0.0.1:${zendesk.agentPort}=public,${APP_HOST}:${zendesk.appPort}=public,127.0.0.1:${appliance.port}=local`]
    : [];
  const context = await launchBrowser({ ignoreHTTPSErrors: true }, args);
  const downloads = [];
  const popups = [];
  const watch = (p) => p.on('download', (d) => downloads.push(d.suggestedFilename()));
  context.on('page', (p) => {
    watch(p);
    popups.push(p);
  });
  const page = context.pages()[0] ?? await context.newPage();
  watch(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await installZafStandIn(page, { location: 'ticket_sidebar', ticketId: 42, settings: settings(), user });
  await page.goto(zendesk.agentUrl);
  const app = page.frameLocator('#app-frame');
  await app.locator('[data-phase="ready"]').waitFor({ timeout: 20000 });
  return {
    zendesk, context, page, app, downloads, popups, errors,
    frame: () => page.frames().find((f) => f.url().includes('/assets/iframe.html')),
    async close() {
      await context.close();
      await zendesk.close();
    },
  };
}

/** Runs every action and asserts the appliance got it and the browser downloaded the script. */
async function everyActionReachesTheAppliance(z) {
  for (const a of ACTIONS) {
    const before = (await appliance.clientScripts()).length;
    const downloadsBefore = z.downloads.length;
    await startAction(z.page, z.app, a);
    const call = await until(`${a.name}: a client_script call on the appliance`, 10000, async () =>
      (await appliance.clientScripts())[before]);
    assert.equal(call.status, 200, `${a.name}: ${JSON.stringify(call)}`);
    assert.equal(call.action, a.action, a.name);
    assert.deepEqual(call.params, expectedParams(a), a.name);
    const file = await until(`${a.name}: the BRCS download`, 10000, async () => z.downloads[downloadsBefore]);
    assert.equal(file, `bomgar-rcs-${a.action}.brcs`, a.name);
    // What the agent sees: a new tab with the app's launch page, left open by the browser.
    const tab = z.popups.at(-1);
    assert.ok(tab && !tab.isClosed(), `${a.name}: the launch tab is still open`);
    assert.match(tab.url(), /\/assets\/launch\.html#https%3A%2F%2F/);
    assert.match(await tab.locator('h1').innerText(), /Opening your BeyondTrust representative console/);
    // Exactly one call per click, the sidebar stays where it is, the notice is under the button.
    assert.equal((await appliance.clientScripts()).length, before + 1, `${a.name}: one call`);
    assert.match(z.frame().url(), /\/assets\/iframe\.html/);
    const notice = z.app.locator('#rs-launch-notice');
    assert.equal(await notice.getAttribute('data-state'), 'opening', a.name);
    const under = a.type ? '#rs-jump-title' : '#rs-session-key-title';
    const section = z.app.locator('section', { has: z.app.locator(under) });
    assert.equal(await section.locator('#rs-launch-notice').count(), 1, `${a.name}: notice under its button`);
  }
  assert.deepEqual(z.errors, []);
}

test('full sandbox (pop-ups, downloads): every action reaches the appliance as a download', async () => {
  const z = await openZendesk({ sandbox: FULL });
  try {
    await everyActionReachesTheAppliance(z);
    await shot(z, 'zendesk-shaped-ready');
  } finally {
    await z.close();
  }
});

test('sandbox without allow-downloads: launches still reach the appliance (top-level tab)', async () => {
  const z = await openZendesk({ sandbox: NO_DOWNLOADS });
  try {
    // What the sidebar used to do (a hidden frame pointed at the client script) gets no
    // download here: the request arrives, the BRCS file never reaches the console.
    const before = (await appliance.clientScripts()).length;
    await z.frame().evaluate((url) => {
      const f = document.createElement('iframe');
      f.hidden = true;
      f.src = url;
      document.body.appendChild(f);
    }, `${appliance.url}/api/client_script?type=rep&operation=generate&action=generate_session_key&session.custom.external_key=998`);
    await until('the framed probe on the appliance', 10000, async () => (await appliance.clientScripts())[before]);
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.deepEqual(z.downloads, [], 'a download from the sandboxed frame went through: the variant proves nothing');
    await everyActionReachesTheAppliance(z);
  } finally {
    await z.close();
  }
});

test('Local Network Access (public Zendesk, private appliance): every action reaches the appliance', async () => {
  const z = await openZendesk({ sandbox: FULL, lna: true });
  try {
    // Probe for the machinery first: a frame from the public app to the local appliance (what
    // the sidebar used to launch with) must be refused, or this pass would prove nothing.
    const before = (await appliance.clientScripts()).length;
    const probe = `${appliance.url}/api/client_script?type=rep&operation=generate&action=generate_session_key&session.custom.external_key=999`;
    await z.frame().evaluate((url) => {
      const f = document.createElement('iframe');
      f.src = url;
      document.body.appendChild(f);
    }, probe);
    await new Promise((ok) => setTimeout(ok, 1500));
    const probeCalls = (await appliance.clientScripts()).slice(before);
    assert.equal(probeCalls.length, 0, `a framed request from the public page reached the local appliance: LNA is not engaged ${JSON.stringify(probeCalls)}`);
    await everyActionReachesTheAppliance(z);
  } finally {
    await z.close();
  }
});

test('sandbox without pop-ups: nothing can open, the sidebar says what to do', async () => {
  const z = await openZendesk({ sandbox: NO_POPUPS });
  try {
    for (const a of [ACTIONS[0], ACTIONS[2]]) {
      const before = (await appliance.clientScripts()).length;
      await startAction(z.page, z.app, a);
      const notice = z.app.locator('#rs-launch-notice');
      await notice.waitFor();
      assert.equal(await notice.getAttribute('data-state'), 'blocked', a.name);
      const text = await notice.innerText();
      assert.match(text, /did not let the app open a new tab/);
      assert.match(text, /Allow pop-ups for this Zendesk site/);
      // The exact URL is there to copy by hand.
      const url = await z.app.locator('#rs-launch-url').inputValue();
      assert.equal(new URL(url).searchParams.get('action'), a.action);
      assert.deepEqual([...new URL(url).searchParams], expectedParams(a));
      await new Promise((ok) => setTimeout(ok, 1000));
      assert.equal((await appliance.clientScripts()).length, before, `${a.name}: nothing reached the appliance`);
    }
    await shot(z, 'zendesk-shaped-blocked');
  } finally {
    await z.close();
  }
});

test('after about 10 seconds the notice turns into "Didn\'t open?" guidance', async () => {
  const z = await openZendesk({ sandbox: FULL });
  try {
    await z.context.clock.install();
    await z.app.getByRole('button', { name: 'Generate Session Key' }).click();
    const notice = z.app.locator('#rs-launch-notice');
    await notice.waitFor();
    assert.equal(await notice.getAttribute('data-state'), 'opening');
    await z.page.clock.runFor(9000);
    assert.equal(await notice.getAttribute('data-state'), 'opening');
    await z.page.clock.runFor(1500);
    await until('the guidance', 5000, async () => (await notice.getAttribute('data-state')) === 'guidance');
    const text = await notice.innerText();
    assert.match(text, /Didn.t open\?/);
    assert.match(text, /representative console installed/);
    assert.match(text, /certificate/);
    assert.match(text, /pop-ups/);
    const link = z.app.locator('#rs-fallback-link');
    assert.equal(await link.innerText(), 'Open the session key dialog for ticket #42 again');
    await z.page.clock.resume();
    await shot(z, 'zendesk-shaped-guidance');
  } finally {
    await z.close();
  }
});

test('the launch page follows only client-script URLs', async () => {
  const zendesk = await startZendesk({ sandbox: FULL });
  const context = await launchBrowser({ ignoreHTTPSErrors: true });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    for (const bad of ['javascript:alert(1)', 'https://evil.example/login', 'http://127.0.0.1/api/client_script?x=1', '']) {
      await page.goto(`${zendesk.appOrigin}/assets/launch.html#${encodeURIComponent(bad)}`);
      assert.match(page.url(), /\/assets\/launch\.html/, bad);
      assert.match(await page.locator('#rs-launch-status').innerText(), /nothing to open/, bad);
    }
  } finally {
    await context.close();
    await zendesk.close();
  }
});

test('Customize Help Center opens as a Zendesk modal over the agent page', async () => {
  const z = await openZendesk({ sandbox: FULL, user: { role: 'admin', locale: 'en-US' } });
  try {
    await z.app.getByRole('button', { name: 'Customize Help Center' }).click();
    const modal = z.page.getByRole('dialog', { name: 'Remote Support for Zendesk' });
    await modal.waitFor();
    const content = z.page.frameLocator('#modal-frame');
    const dialog = content.getByRole('dialog', { name: 'Customize Help Center' });
    await dialog.waitFor({ timeout: 20000 });
    assert.match(await content.locator('#rs-hc-snippet').inputValue(), /Get Support Now/);
    // The sidebar itself stays as it was.
    assert.equal(await z.app.getByRole('dialog').count(), 0);
    await shot(z, 'zendesk-shaped-modal');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await modal.waitFor({ state: 'detached' });
    assert.deepEqual(z.errors, []);
  } finally {
    await z.close();
  }
});
