// The admin's "Customize Help Center" in the packaged app (dist/app), with the ZAF stand-in in
// place of Zendesk's SDK: only admins get the button, which opens a ZAF modal instance
// (assets/modal.html) instead of stretching the 320 px sidebar; the modal shows the steps and
// the snippet app-core generates for the installation's settings. (The modal over a Zendesk-like
// agent page is in zendesk_shaped.test.mjs.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, serveDir, distApp, installZafStandIn, screenshot } from './lib/harness.mjs';
import { generateSnippet } from './fixtures/help-center/render.mjs';

const HOST = 'support.example.com';
const ISSUES = [
  ['general_tech', 'General Technical Issues'],
  ['billing', 'Billing & "Accounts" <EU>'],
  ['支持', 'Ünïcödé 支持'],
];
const SETTINGS = {
  hostname: HOST,
  issues: ISSUES.map(([code, name]) => `${code}=${name}`).join('\n'),
  jumpoints: 'Main Office',
  allow_jump_client: true,
  allow_local_jump: true,
  allow_remote_jump: false,
  allow_rdp: false,
  allow_shell_jump: false,
};
const packaged = existsSync(join(distApp, 'assets', 'iframe.html'));
const skip = packaged ? false : `no packaged app in ${distApp} (run cargo xtask package)`;

let server;
let browser;

before(async () => {
  if (!packaged) return;
  server = await serveDir(distApp);
  browser = await launchBrowser();
  await browser.grantPermissions(['clipboard-read', 'clipboard-write']);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const QUERY = '?origin=https%3A%2F%2Facme.zendesk.com&app_guid=test-guid';

async function sidebar(role, locale = 'en-US', settings = SETTINGS) {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 320, height: 900 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await installZafStandIn(page, {
    location: 'ticket_sidebar', ticketId: 42, settings,
    user: { role, locale, name: 'Jane' },
  });
  await page.goto(`${server.url}/assets/iframe.html${QUERY}`);
  await page.waitForSelector('[data-phase="ready"]');
  page.errors = errors;
  return page;
}

/** The modal instance's page, as Zendesk frames it (640 x 620, the size the sidebar asks for). */
async function modal(role, locale = 'en-US', settings = SETTINGS) {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 640, height: 620 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await installZafStandIn(page, { ticketId: 42, settings, user: { role, locale, name: 'Jane' } });
  await page.goto(`${server.url}/assets/modal.html${QUERY}`);
  await page.waitForSelector('[data-phase="modal"]');
  page.errors = errors;
  return page;
}

const zafCalls = (page, name) => page.evaluate((n) => window.__zaf.calls.filter((c) => c[0] === 'invoke' && c[1] === n), name);

test('agents do not get the Customize Help Center button', { skip }, async () => {
  const page = await sidebar('agent');
  try {
    await page.waitForSelector('#rs-generate-session-key');
    assert.equal(await page.locator('#rs-customize-help-center').count(), 0);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('the admin button opens a ZAF modal, not a panel in the sidebar', { skip }, async () => {
  const page = await sidebar('admin');
  try {
    const open = page.getByRole('button', { name: 'Customize Help Center' });
    assert.equal(await open.getAttribute('aria-haspopup'), 'dialog');
    await open.click();
    assert.deepEqual(await zafCalls(page, 'instances.create'), [
      ['invoke', 'instances.create', { location: 'modal', url: 'assets/modal.html', size: { width: '640px', height: '620px' } }],
    ]);
    assert.equal(await page.getByRole('dialog').count(), 0, 'nothing squeezed into the 320 px sidebar');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('the modal is a dialog with the steps and the snippet for the settings', { skip }, async () => {
  const page = await modal('admin');
  try {
    const want = generateSnippet({ hostname: HOST, issues: ISSUES });
    const dialog = page.getByRole('dialog', { name: 'Customize Help Center' });
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute('aria-modal'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rs-hc-dialog', 'focus moved in');
    assert.equal(await page.locator('#rs-hc-snippet').inputValue(), want.markup, 'the snippet app-core generates');
    assert.equal(await page.locator('#rs-hc-snippet').evaluate((el) => el.readOnly), true);
    assert.deepEqual(await dialog.locator('ol li').allTextContents(), want.instructions);
    assert.match((await dialog.locator('ol li').allTextContents()).join(' '), /Guide plan that allows it/);

    await dialog.getByRole('button', { name: 'Copy snippet' }).click();
    await page.locator('#rs-hc-copy-status', { hasText: 'Copied to the clipboard.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), want.markup);
    await screenshot(page, 'help-center-modal');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, 'the dialog fits the modal');

    // Tab cycles inside the dialog: from Close back to the snippet, and Shift+Tab the other way.
    await dialog.getByRole('button', { name: 'Close' }).focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rs-hc-snippet');
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).boxShadow), 'none', 'the snippet shows keyboard focus');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rs-hc-close');

    // Escape and Close close the modal instance (ZAF 'destroy').
    await page.keyboard.press('Escape');
    assert.equal((await zafCalls(page, 'destroy')).length, 1);
    await dialog.getByRole('button', { name: 'Close' }).click();
    assert.equal((await zafCalls(page, 'destroy')).length, 2);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('the modal speaks the admin language', { skip }, async () => {
  const page = await modal('admin', 'de');
  try {
    await page.getByRole('dialog', { name: 'Help Center anpassen' }).waitFor();
    const markup = await page.locator('#rs-hc-snippet').inputValue();
    assert.match(markup, />Jetzt Support erhalten<\/button>/);
    await page.getByRole('button', { name: 'Schließen' }).click();
    assert.equal((await zafCalls(page, 'destroy')).length, 1);
  } finally {
    await page.close();
  }
});

test('without issues the modal says what to fix instead of showing a broken snippet', { skip }, async () => {
  const page = await modal('admin', 'en-US', { ...SETTINGS, issues: '' });
  try {
    const dialog = page.getByRole('dialog', { name: 'Customize Help Center' });
    await dialog.waitFor();
    assert.equal(
      await dialog.getByRole('alert').innerText(),
      generateSnippet({ hostname: HOST, issues: [] }).error,
      'the message app-core gives for an empty issue list',
    );
    assert.equal(await page.locator('#rs-hc-snippet').count(), 0);
    assert.equal(await dialog.getByRole('button', { name: 'Copy snippet' }).count(), 0);
    // Tab stays on Close, the only control left.
    await dialog.getByRole('button', { name: 'Close' }).focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rs-hc-close');
    await screenshot(page, 'help-center-modal-no-issues');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});
