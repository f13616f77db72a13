// Browser tests of the packaged ticket sidebar (dist/app) in headless chromium, with the ZAF
// stand-in served in place of Zendesk's SDK. The appliance is routed too (for the whole browser
// context: the sidebar opens each launch in a new tab): every URL the sidebar launches is
// recorded exactly as the browser requested it. The Zendesk-shaped setup (cross-origin,
// sandboxed frame, real appliance) is in zendesk_shaped.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { launchBrowser, serveDir, distApp, installZafStandIn, screenshot } from './lib/harness.mjs';

const HOST = 'support.example.com';
const CS = `https://${HOST}/api/client_script?type=rep&operation=generate&action=`;

const ALL_ON = {
  hostname: HOST,
  issues: 'general_tech=General Technical Issues\nbilling=Billing',
  jumpoints: 'Main Office\nDMZ',
  allow_jump_client: true,
  allow_local_jump: true,
  allow_remote_jump: true,
  allow_rdp: true,
  allow_shell_jump: true,
};

let server;
let browser;
/** The `opened` list of the sidebar under test (tests run one at a time). */
let current = null;

before(async () => {
  server = await serveDir(distApp);
  browser = await launchBrowser();
  // Any appliance (any host): the sidebar only ever opens https://HOST/api/...
  await browser.route((url) => url.protocol === 'https:' && url.pathname.startsWith('/api/'), (route) => {
    const opened = current;
    if (opened) {
      opened.push(route.request().url());
      opened.waiters.filter((w) => opened.length >= w.count).forEach((w) => w.resolve());
    }
    route.fulfill({ status: 200, contentType: 'text/plain', body: 'BRCS' });
  });
  // Launches open new tabs; close them once they have asked for their URL.
  browser.on('page', async (p) => {
    try {
      if (await p.opener()) { await p.waitForLoadState(); await p.close(); }
    } catch { /* already closed */ }
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Opens the sidebar with the stand-in configured by `zaf`; returns { page, opened } where
 * `opened` lists the appliance URLs the page requested.
 */
async function openSidebar(zaf, { width = 320 } = {}) {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height: 800 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await installZafStandIn(page, { location: 'ticket_sidebar', ticketId: 42, settings: ALL_ON, ...zaf });
  const opened = [];
  opened.waiters = [];
  current = opened;
  await page.goto(`${server.url}/assets/iframe.html?origin=https%3A%2F%2Facme.zendesk.com&app_guid=test-guid`);
  page.errors = errors;
  return { page, opened };
}

/** The URL the fallback link opens (through the app's launch page). */
async function fallbackTarget(page) {
  const href = await page.locator('#rs-fallback-link').getAttribute('href');
  assert.match(href, /^launch\.html#/);
  return decodeURIComponent(href.slice('launch.html#'.length));
}

const phase = (page) => page.locator('[data-phase]').getAttribute('data-phase');

async function ready(zaf = {}, options) {
  const s = await openSidebar(zaf, options);
  await s.page.waitForSelector('[data-phase="ready"]');
  return s;
}

/** Waits (up to 5 s) until the page has requested `count` appliance URLs; returns the last. */
async function launched(page, opened, count = 1) {
  await page.waitForSelector('#rs-fallback-link');
  if (opened.length < count) {
    let timer;
    await Promise.race([
      new Promise((resolve) => opened.waiters.push({ count, resolve })),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no launch: ${JSON.stringify(opened)}`)), 5000); }),
    ]).finally(() => clearTimeout(timer));
  }
  assert.equal(opened.length, count, `expected ${count} launched URL(s), got ${JSON.stringify(opened)}`);
  return opened[count - 1];
}

test('ready: Generate Session Key launches the client script tied to the ticket', async () => {
  const { page, opened } = await ready();
  await page.getByRole('button', { name: 'Generate Session Key' }).click();
  const url = await launched(page, opened);
  assert.equal(url, `${CS}generate_session_key&session.custom.external_key=42`);
  assert.equal(await fallbackTarget(page), url);
  assert.match(await page.locator('.rs-notice').innerText(), /Opening your representative console/);
  // The fallback opens a new tab that cannot reach back into the sidebar.
  assert.equal(await page.locator('#rs-fallback-link').getAttribute('target'), '_blank');
  assert.match(await page.locator('#rs-fallback-link').getAttribute('rel'), /\bnoopener\b/);
  // The sidebar itself never navigates away, and a second press launches again.
  assert.match(page.url(), /\/assets\/iframe\.html/);
  await page.getByRole('button', { name: 'Generate Session Key' }).click();
  assert.equal(await launched(page, opened, 2), url);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('ready: each Jump type launches its exact URL', async () => {
  const cases = [
    {
      type: 'jump_client',
      fill: { '#rs-target': 'ACME laptop #7 & co' },
      want: `${CS}start_jump_item_session&jump.method=pinned&search_string=ACME%20laptop%20%237%20%26%20co&session.custom.external_key=42`,
    },
    {
      type: 'local_jump',
      fill: { '#rs-target': '10.0.0.5' },
      want: `${CS}push_and_start_local&hostname=10.0.0.5&session.custom.external_key=42`,
    },
    {
      type: 'remote_jump',
      select: { '#rs-jumpoint': 'Main Office' },
      fill: { '#rs-target': 'db-01.corp' },
      want: `${CS}push_and_start_remote&target=db-01.corp&jumpoint=Main%20Office&session.custom.external_key=42`,
    },
    {
      type: 'rdp',
      select: { '#rs-jumpoint': 'DMZ' },
      fill: { '#rs-target': 'ws-9', '#rs-username': 'CORP\\jane' },
      want: `${CS}start_rdp_session&target=ws-9&jumpoint=DMZ&username=CORP%5Cjane&session.custom.external_key=42`,
    },
    {
      type: 'shell_jump',
      select: { '#rs-jumpoint': 'DMZ', '#rs-protocol': 'telnet' },
      fill: { '#rs-target': 'router.lan', '#rs-username': 'admin' },
      want: `${CS}start_shell_jump_session&target=router.lan&jumpoint=DMZ&username=admin&protocol=telnet&port=23&session.custom.external_key=42`,
    },
    {
      type: 'shell_jump',
      select: { '#rs-jumpoint': 'Main Office' },
      fill: { '#rs-target': 'srv', '#rs-port': '2222' },
      want: `${CS}start_shell_jump_session&target=srv&jumpoint=Main%20Office&protocol=ssh&port=2222&session.custom.external_key=42`,
    },
  ];
  for (const c of cases) {
    const { page, opened } = await ready();
    await page.selectOption('#rs-jump-type', c.type);
    for (const [sel, v] of Object.entries(c.select ?? {})) await page.selectOption(sel, v);
    for (const [sel, v] of Object.entries(c.fill)) await page.fill(sel, v);
    await page.getByRole('button', { name: 'Jump', exact: true }).click();
    assert.equal(await launched(page, opened), c.want, c.type);
    assert.equal(await fallbackTarget(page), c.want);
    await page.close();
  }
});

test('notice: under the pressed button, gone after an edit; no errors on untouched fields after a type switch', async () => {
  const { page, opened } = await ready();
  await page.selectOption('#rs-jump-type', 'local_jump');
  await page.fill('#rs-target', 'pc-1');
  await page.getByRole('button', { name: 'Jump', exact: true }).click();
  assert.equal(await launched(page, opened), `${CS}push_and_start_local&hostname=pc-1&session.custom.external_key=42`);
  // Under the Jump button, naming this launch.
  const jumpSection = page.locator('section', { has: page.locator('#rs-jump-title') });
  assert.equal(await jumpSection.locator('#rs-launch-notice').count(), 1);
  assert.equal(await page.locator('#rs-fallback-link').innerText(), 'Start the Local Jump to “pc-1” again');
  // Clearing the field makes the notice stale: it goes.
  await page.fill('#rs-target', '');
  assert.equal(await page.locator('#rs-launch-notice').count(), 0);
  // Launching again fails validation: an error, no notice, no launch.
  await page.getByRole('button', { name: 'Jump', exact: true }).click();
  assert.equal(await page.locator('#rs-target-error').innerText(), 'Enter a hostname or IP address.');
  assert.equal(await page.locator('#rs-launch-notice').count(), 0);
  // Switching type: the edited target keeps its error, the new Jumpoint field shows none.
  await page.selectOption('#rs-jump-type', 'remote_jump');
  assert.equal(await page.locator('#rs-jumpoint').isVisible(), true);
  assert.equal(await page.locator('#rs-jumpoint-error').count(), 0);
  assert.equal(await page.locator('#rs-target-error').count(), 1);
  assert.equal(await page.locator('#rs-launch-notice').count(), 0);
  // A session key launch shows its notice under its own button only.
  await page.getByRole('button', { name: 'Generate Session Key' }).click();
  await launched(page, opened, 2);
  const keySection = page.locator('section', { has: page.locator('#rs-session-key-title') });
  assert.equal(await keySection.locator('#rs-launch-notice').count(), 1);
  assert.equal(await jumpSection.locator('#rs-launch-notice').count(), 0);
  assert.equal(opened.length, 2);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('ready: Enter in the target field submits the Jump form', async () => {
  const { page, opened } = await ready();
  await page.selectOption('#rs-jump-type', 'local_jump');
  await page.fill('#rs-target', 'pc-1');
  await page.press('#rs-target', 'Enter');
  assert.equal(await launched(page, opened), `${CS}push_and_start_local&hostname=pc-1&session.custom.external_key=42`);
  await page.close();
});

test('ready: inline validation blocks the launch and names each field', async () => {
  const { page, opened } = await ready();
  await page.selectOption('#rs-jump-type', 'shell_jump');
  await page.fill('#rs-port', '70000');
  await page.getByRole('button', { name: 'Jump', exact: true }).click();
  await page.waitForSelector('.rs-error');
  const errors = await page.locator('.rs-error').allInnerTexts();
  assert.deepEqual(errors, ['Choose a Jumpoint.', 'Enter a hostname or IP address.', 'Enter a port number from 1 to 65535.']);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'rs-jumpoint', 'focus moves to the first problem');
  assert.equal(await page.locator('#rs-target').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('#rs-target').getAttribute('aria-describedby'), 'rs-target-error');
  // The launcher inserts its frame synchronously in the click handler: none means no launch.
  assert.equal(await page.locator('#rs-launch-frame').count(), 0);
  assert.equal(await page.locator('#rs-fallback-link').count(), 0);
  assert.equal(opened.length, 0);
  await screenshot(page, 'sidebar-jump-problems');
  // Fixing the fields clears the errors live, then the Jump launches.
  await page.selectOption('#rs-jumpoint', 'DMZ');
  await page.fill('#rs-target', 'a b');
  assert.deepEqual(await page.locator('.rs-error').allInnerTexts(), [
    'A hostname or IP address cannot contain spaces.',
    'Enter a port number from 1 to 65535.',
  ]);
  await page.fill('#rs-target', 'ab');
  await page.fill('#rs-port', '22');
  assert.equal(await page.locator('.rs-error').count(), 0);
  await page.getByRole('button', { name: 'Jump', exact: true }).click();
  assert.equal(
    await launched(page, opened),
    `${CS}start_shell_jump_session&target=ab&jumpoint=DMZ&protocol=ssh&port=22&session.custom.external_key=42`,
  );
  await page.close();
});

test('settings shapes: string booleans, one type, one jumpoint, a port in the hostname', async () => {
  const { page, opened } = await ready({
    ticketId: 7,
    settings: {
      hostname: ' BT.Example.com:8443 ',
      issues: 'a=A',
      jumpoints: '\n  Only Jumpoint  \n',
      allow_jump_client: 'false',
      allow_local_jump: 'false',
      allow_remote_jump: 'true',
      allow_rdp: false,
      allow_shell_jump: 'false',
    },
  });
  const options = await page.locator('#rs-jump-type option').allInnerTexts();
  assert.deepEqual(options, ['Remote Jump']);
  assert.equal(await page.locator('#rs-jumpoint').inputValue(), 'Only Jumpoint');
  await page.fill('#rs-target', 'host');
  await page.getByRole('button', { name: 'Jump', exact: true }).click();
  assert.equal(
    await launched(page, opened),
    'https://bt.example.com:8443/api/client_script?type=rep&operation=generate&action=push_and_start_remote&target=host&jumpoint=Only%20Jumpoint&session.custom.external_key=7',
  );
  await page.close();
});

test('settings shapes: a ticket id given as text, a number in a text setting', async () => {
  // The app reads these with JS's own number and string conversions (no Rust float code in the
  // wasm): " 314 " is ticket 314, a numeric jumpoint name is its decimal text, "3.5" no ticket.
  const { page, opened } = await ready({
    ticketId: ' 314 ',
    settings: { hostname: HOST, issues: 'a=A', jumpoints: 1234567, allow_jump_client: false, allow_local_jump: false, allow_remote_jump: true },
  });
  assert.equal(await page.locator('#rs-jumpoint').inputValue(), '1234567');
  await page.fill('#rs-target', 'host');
  await page.getByRole('button', { name: 'Jump', exact: true }).click();
  assert.equal(
    await launched(page, opened),
    `${CS}push_and_start_remote&target=host&jumpoint=1234567&session.custom.external_key=314`,
  );
  await page.close();
  const fractional = await openSidebar({ ticketId: '3.5' });
  await fractional.page.waitForSelector('[data-phase="not-saved"]');
  await fractional.page.close();
});

test('settings shapes: missing toggles take the manifest defaults; none enabled hides the panel', async () => {
  let { page } = await ready({ settings: { hostname: HOST, issues: 'a=A' } });
  assert.deepEqual(await page.locator('#rs-jump-type option').allInnerTexts(), ['Jump Client', 'Local Jump']);
  assert.equal(await page.locator('#rs-jumpoint').count(), 0);
  await page.close();
  ({ page } = await ready({
    settings: { hostname: HOST, issues: 'a=A', allow_jump_client: false, allow_local_jump: false },
  }));
  assert.equal(await page.locator('#rs-jump-type').count(), 0);
  assert.match(await page.locator('[data-phase]').innerText(), /No Jump types are enabled/);
  assert.equal(await page.getByRole('button', { name: 'Generate Session Key' }).count(), 1);
  await page.close();
});

test('states: loading until the settings arrive, nothing before app.registered', async () => {
  const { page } = await openSidebar({ holdRegistered: true, holdMetadata: true });
  await page.waitForFunction(() => window.__zaf.calls.some((c) => c[0] === 'on' && c[1] === 'app.registered'));
  assert.equal(await page.locator('#app').innerHTML(), '', 'nothing renders before registration');
  assert.equal(await page.evaluate(() => window.__zaf.calls.filter((c) => c[0] !== 'init' && c[0] !== 'on').length), 0);
  await page.evaluate(() => window.__zaf.register());
  await page.waitForSelector('[data-phase="loading"]');
  assert.equal(await page.locator('[role="status"]').innerText(), 'Loading Remote Support…');
  await page.waitForFunction(() => typeof window.__zaf.releaseMetadata === 'function');
  await page.evaluate(() => window.__zaf.releaseMetadata());
  await page.waitForSelector('[data-phase="ready"]');
  await page.close();
});

test('states: a new ticket shows the not-saved message, then the tools once saved', async () => {
  const { page, opened } = await openSidebar({ location: 'new_ticket_sidebar', ticketId: null });
  await page.waitForSelector('[data-phase="not-saved"]');
  assert.match(await page.locator('[data-phase]').innerText(), /available once this ticket is saved/);
  assert.equal(await page.locator('button').count(), 0);
  await screenshot(page, 'sidebar-not-saved');
  await page.evaluate(() => window.__zaf.saveTicket(314));
  await page.waitForSelector('[data-phase="ready"]');
  await page.getByRole('button', { name: 'Generate Session Key' }).click();
  assert.equal(await launched(page, opened), `${CS}generate_session_key&session.custom.external_key=314`);
  await page.close();
});

test('states: invalid settings list every problem', async () => {
  const { page } = await openSidebar({
    settings: {
      hostname: 'https://support.example.com/login',
      issues: 'general=General\nno equals here\n\ngeneral=Again',
      jumpoints: '',
      allow_jump_client: 'perhaps',
      allow_remote_jump: true,
      allow_rdp: false,
      allow_shell_jump: 'true',
    },
  });
  await page.waitForSelector('[data-phase="invalid"]');
  assert.equal(await page.locator('#rs-invalid-title').innerText(), 'The app settings need attention');
  assert.deepEqual(await page.locator('.rs-problems li').allInnerTexts(), [
    'Hostname starts with a scheme such as https://: remove it and enter only support.example.com.',
    'Issues, line 2: write it as issue_code=Issue Name.',
    'Issues, line 4: the code “general” is already used on line 1.',
    '“Allow Jump-To Pinned Client Session” should be on or off, not “perhaps”.',
    '“Allow Push and Start Remote Jump Session” is on but no Jumpoint is configured: add at least one Jumpoint (one per line) or turn the option off.',
    '“Allow Remote Console Session” is on but no Jumpoint is configured: add at least one Jumpoint (one per line) or turn the option off.',
  ]);
  assert.equal(await page.locator('button').count(), 0);
  await screenshot(page, 'sidebar-invalid-settings');
  await page.close();
});

test('states: a bare hostname problem, a bad port', async () => {
  for (const [hostname, want] of [
    ['', 'Hostname is empty: enter the host name of your BeyondTrust appliance, e.g. support.example.com.'],
    ['bt.example.com:0', 'Hostname has the port “0”: a port is a number from 1 to 65535.'],
    ['bt example.com', 'Hostname contains spaces: remove them.'],
  ]) {
    const { page } = await openSidebar({ settings: { ...ALL_ON, hostname } });
    await page.waitForSelector('[data-phase="invalid"]');
    assert.deepEqual(await page.locator('.rs-problems li').allInnerTexts(), [want], hostname);
    await page.close();
  }
});

test('outside Zendesk the page says so instead of showing the app', async () => {
  const { page } = await openSidebar({ outsideZendesk: true });
  await page.waitForSelector('[data-phase="outside-zendesk"]');
  assert.equal(await page.locator('#app').innerText(), 'This page only works inside Zendesk.');
  await page.close();
});

test('translations follow the agent locale, with English as the fallback', async () => {
  const seen = {};
  for (const locale of ['de', 'de-CH', 'en-US', 'fr']) {
    const { page } = await ready({ user: { role: 'agent', locale } });
    seen[locale] = {
      lang: await page.locator('main').getAttribute('lang'),
      button: await page.locator('#rs-generate-session-key').innerText(),
      type: await page.locator('label[for="rs-jump-type"]').innerText(),
    };
    await page.close();
  }
  assert.deepEqual(seen, {
    de: { lang: 'de', button: 'Sitzungsschlüssel erzeugen', type: 'Jump-Art' },
    'de-CH': { lang: 'de', button: 'Sitzungsschlüssel erzeugen', type: 'Jump-Art' },
    'en-US': { lang: 'en', button: 'Generate Session Key', type: 'Jump type' },
    fr: { lang: 'en', button: 'Generate Session Key', type: 'Jump type' },
  });
  const { page } = await openSidebar({ location: 'new_ticket_sidebar', ticketId: null, user: { locale: 'de' } });
  await page.waitForSelector('[data-phase="not-saved"]');
  assert.match(await page.locator('[data-phase]').innerText(), /sobald dieses Ticket gespeichert ist/);
  await page.close();
});

test('accessibility: every control has a label, the focus is visible, it fits 320 px', async () => {
  const { page, opened } = await ready({ user: { role: 'admin', locale: 'en-US' } });
  await page.selectOption('#rs-jump-type', 'shell_jump');
  // A launch puts the fallback link in the tab order too.
  await page.getByRole('button', { name: 'Generate Session Key' }).click();
  await launched(page, opened);
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, button, textarea')]
      .filter((el) => !(el.labels?.length || el.textContent.trim() || el.getAttribute('aria-label')))
      .map((el) => el.id),
  );
  assert.deepEqual(unlabelled, []);
  for (const name of ['Jump type', 'Jumpoint', 'Hostname or IP address', 'Username (optional)', 'Protocol', 'Port']) {
    assert.equal(await page.getByLabel(name, { exact: true }).count(), 1, name);
  }
  // Walk the whole page with the keyboard: every stop shows a focus ring, and the ring (3 px
  // around the control) is not clipped by the 320 px frame.
  // Clicking the first heading moves the keyboard's starting point to the top of the page.
  await page.locator('#rs-session-key-title').click();
  const stops = [];
  for (let i = 0; i < 20; i += 1) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const rect = el.getBoundingClientRect();
      return {
        id: el.id,
        ring: style.boxShadow !== 'none' || (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0),
        left: rect.left,
        right: document.documentElement.clientWidth - rect.right,
      };
    });
    if (!stop || stops.some((s) => s.id === stop.id)) break;
    stops.push(stop);
  }
  assert.deepEqual(stops.map((s) => s.id), [
    'rs-generate-session-key', 'rs-fallback-link', 'rs-sessions-reload', 'rs-jump-type', 'rs-jumpoint',
    'rs-target', 'rs-username', 'rs-protocol', 'rs-port', 'rs-jump', 'rs-customize-help-center',
  ]);
  for (const stop of stops) {
    assert.ok(stop.ring, `${stop.id}: keyboard focus is visible`);
    assert.ok(stop.left >= 3 && stop.right >= 3, `${stop.id}: focus ring inside the frame (${stop.left}, ${stop.right})`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, 'no horizontal scroll at 320 px');
  // Section headings stand apart from field labels (Garden's type scale: LG vs MD).
  const size = (sel) => page.locator(sel).first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  assert.equal(await size('h2.rs-h'), 18);
  assert.equal(await size('label.rs-label'), 14);
  await screenshot(page, 'sidebar-keyboard-focus');
  await page.close();
});

test('the frame is resized to the content height', async () => {
  const { page } = await ready();
  // Resolves with the last resize once it matches the content's current height.
  const settled = () =>
    page.waitForFunction(() => {
      const h = `${Math.ceil(document.getElementById('app').getBoundingClientRect().height)}px`;
      const last = window.__zaf.resizes.at(-1);
      return last?.height === h && last;
    }).then((handle) => handle.jsonValue());
  const first = await settled();
  assert.equal(first.width, '100%');
  await page.selectOption('#rs-jump-type', 'shell_jump');
  await page.waitForFunction((h) => window.__zaf.resizes.at(-1).height !== h, first.height);
  const taller = await settled();
  assert.ok(parseInt(taller.height, 10) > parseInt(first.height, 10), 'Shell Jump fields make the frame taller');
  await page.close();
});

test('screenshot of the ready state', async () => {
  const { page } = await ready({ settings: ALL_ON });
  await page.selectOption('#rs-jump-type', 'rdp');
  await page.selectOption('#rs-jumpoint', 'Main Office');
  await page.fill('#rs-target', 'ws-042.corp.example.com');
  await page.fill('#rs-username', 'CORP\\jane');
  await page.locator('#rs-generate-session-key').focus();
  await page.evaluate(() => document.activeElement.blur());
  // The frame is as tall as the content (that is what the resize asks Zendesk for).
  const height = await page.evaluate(() => Math.ceil(document.getElementById('app').getBoundingClientRect().height));
  await page.setViewportSize({ width: 320, height });
  const path = await screenshot(page, 'sidebar-ready');
  assert.ok(path.endsWith('sidebar-ready.png'));
  if (process.env.RSZ_UPDATE_SCREENSHOT) copyFileSync(path, new URL('../../assets/screenshot-0.png', import.meta.url));
  await page.close();
});
