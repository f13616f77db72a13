// The admin's "Customize Help Center" dialog in the packaged sidebar (dist/app), with the ZAF
// stand-in in place of Zendesk's SDK: only admins get the button, and the snippet shown is the
// one app-core generates for the installation's settings.
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

async function sidebar(role, locale = 'en-US', settings = SETTINGS) {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 320, height: 900 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await installZafStandIn(page, {
    location: 'ticket_sidebar', ticketId: 42, settings,
    user: { role, locale, name: 'Jane' },
  });
  await page.goto(`${server.url}/assets/iframe.html?origin=https%3A%2F%2Facme.zendesk.com&app_guid=test-guid`);
  await page.waitForSelector('[data-phase="ready"]');
  page.errors = errors;
  return page;
}

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

test('admins get the dialog with the steps and the snippet for the settings', { skip }, async () => {
  const page = await sidebar('admin');
  try {
    const want = generateSnippet({ hostname: HOST, issues: ISSUES });
    const open = page.getByRole('button', { name: 'Customize Help Center' });
    await open.click();
    const dialog = page.getByRole('dialog', { name: 'Customize Help Center' });
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute('aria-modal'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rs-hc-dialog', 'focus moved in');
    assert.equal(await page.locator('#rs-hc-snippet').inputValue(), want.markup, 'the snippet app-core generates');
    assert.equal(await page.locator('#rs-hc-snippet').evaluate((el) => el.readOnly), true);
    assert.deepEqual(await dialog.locator('ol li').allTextContents(), want.instructions);

    await dialog.getByRole('button', { name: 'Copy snippet' }).click();
    await page.locator('#rs-hc-copy-status', { hasText: 'Copied to the clipboard.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), want.markup);
    await screenshot(page, 'help-center-dialog');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, 'the dialog fits 320 px');

    // Tab cycles inside the dialog: from Close back to the snippet, and Shift+Tab the other way.
    await dialog.getByRole('button', { name: 'Close' }).focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rs-hc-snippet');
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).boxShadow), 'none', 'the snippet shows keyboard focus');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rs-hc-close');

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'rs-customize-help-center', 'focus back on the opener');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});

test('the dialog speaks the admin language', { skip }, async () => {
  const page = await sidebar('admin', 'de');
  try {
    await page.getByRole('button', { name: 'Help Center anpassen' }).click();
    const markup = await page.locator('#rs-hc-snippet').inputValue();
    assert.match(markup, />Jetzt Support erhalten<\/button>/);
    await page.getByRole('button', { name: 'Schließen' }).click();
    assert.equal(await page.getByRole('dialog').count(), 0);
  } finally {
    await page.close();
  }
});

test('without issues the dialog says what to fix instead of showing a broken snippet', { skip }, async () => {
  const page = await sidebar('admin', 'en-US', { ...SETTINGS, issues: '' });
  try {
    await page.getByRole('button', { name: 'Customize Help Center' }).click();
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
    await screenshot(page, 'help-center-dialog-no-issues');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
  }
});
