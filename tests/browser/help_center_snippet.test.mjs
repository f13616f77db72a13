// The Help Center "Get Support Now" snippet in a page shaped like Copenhagen's request page:
// the generated snippet (app-core, through its example) is pasted where the admin pastes it,
// rendered with real request values, and driven in chromium. The appliance host is a route, so
// the test sees the exact URL the browser opens and nothing leaves 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, serveDir, screenshot } from './lib/harness.mjs';
import { generateSnippet, renderRequestPage } from './fixtures/help-center/render.mjs';

const HOST = 'support.example.com';
const PAGE = '/hc/en-us/requests/4242';
const REQUEST = {
  id: 4242,
  subject: "Can't print — Drucker & Scanner (3rd floor) #2 100% \"urgent\"",
  requester: "Zoë O'Brien",
  userName: "Zoë O'Brien",
};

/** Serves `html` at PAGE, routes the appliance host, and returns helpers to drive it. */
async function openRequestPage(context, html, { scripts = true } = {}) {
  const server = await serveDir(new URL('./fixtures/help-center/', import.meta.url).pathname, {
    [PAGE]: { body: html },
  });
  const opened = [];
  let notify;
  const firstOpen = new Promise((ok) => { notify = ok; });
  await context.route(`https://${HOST}/**`, async (route) => {
    opened.push(route.request().url());
    notify(route.request().url());
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<title>appliance</title>chat' });
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  if (!scripts) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
  }
  await page.goto(server.url + PAGE);
  return { page, server, opened, firstOpen, errors };
}

test('Get Support Now opens start_session for the picked issue with the request values', async () => {
  const issues = [
    ['general_tech', 'General Technical Issues'],
    ['billing', 'Billing & Accounts'],
    ['hw', 'Hardware (Drucker, Scanner)'],
  ];
  const snippet = generateSnippet({
    hostname: HOST, issues,
    request: { id: REQUEST.id, subject: REQUEST.subject, requester_name: REQUEST.requester },
  });
  const context = await launchBrowser();
  const { page, server, opened, firstOpen, errors } = await openRequestPage(context, renderRequestPage(snippet.markup, REQUEST));
  try {
    const placed = await page.evaluate(() => document.querySelector('h1.request-title').nextElementSibling?.id);
    assert.equal(placed, 'rsz-get-support', 'the snippet renders where the admin pasted it, below the title');
    const options = await page.locator('#rsz-issue option').allTextContents();
    assert.deepEqual(options, issues.map(([, name]) => name), 'every issue, by its friendly name, in order');
    await page.getByLabel('What do you need help with?').selectOption({ label: 'Billing & Accounts' });
    const popup = context.waitForEvent('page');
    await page.getByRole('button', { name: 'Get Support Now' }).click();
    const url = await firstOpen;
    assert.equal(url, snippet.expected_urls[1], 'the exact URL app-core builds for this request');
    assert.equal(
      url,
      `https://${HOST}/api/start_session?issue_menu=1&codeName=billing&c2cjs=1` +
        '&customer.name=Zo%C3%AB%20O%27Brien' +
        '&customer.details=Can%27t%20print%20%E2%80%94%20Drucker%20%26%20Scanner%20%283rd%20floor%29%20%232%20100%25%20%22urgent%22' +
        '&session.custom.external_key=4242',
    );
    const tab = await popup;
    assert.equal(await tab.evaluate(() => window.opener), null, 'the appliance tab cannot reach back');
    assert.equal(page.url(), server.url + PAGE, 'the request page stays open');
    assert.equal(opened.length, 1);
    assert.deepEqual(errors, []);
    await screenshot(page, 'help-center-get-support-now');
  } finally {
    await context.close();
    await server.close();
  }
});

test('with scripts off the snippet still starts the session (plain form GET)', async () => {
  const issues = [['general_tech', 'General Technical Issues'], ['billing', 'Billing & Accounts']];
  const snippet = generateSnippet({
    hostname: HOST, issues,
    request: { id: REQUEST.id, subject: REQUEST.subject, requester_name: REQUEST.requester },
  });
  const html = renderRequestPage(snippet.markup, REQUEST)
    .replace('<script>', '<script>document.documentElement.dataset.snippetRan = "yes";');
  const context = await launchBrowser();
  const { page, server, firstOpen } = await openRequestPage(context, html, { scripts: false });
  try {
    await page.getByLabel('What do you need help with?').selectOption({ label: 'Billing & Accounts' });
    await page.getByRole('button', { name: 'Get Support Now' }).click();
    const url = new URL(await firstOpen);
    assert.equal(await page.locator('html').getAttribute('data-snippet-ran'), null, 'scripts really were off');
    assert.equal(url.origin + url.pathname, `https://${HOST}/api/start_session`);
    assert.match(url.search, /&customer\.name=Zo%C3%AB\+O%27Brien&/, 'submitted by the form itself');
    // Form encoding differs (+ for spaces); the decoded parameters are the same, in the same order.
    const want = [...new URL(snippet.expected_urls[1]).searchParams];
    assert.deepEqual([...url.searchParams], want);
  } finally {
    await context.close();
    await server.close();
  }
});

test('hostile issue names and codes display literally and execute nothing', async () => {
  const issues = [
    ['x"><img src=x onerror=window.__pwned=1>', '"><img src=x onerror="window.__pwned=1">'],
    ["q'uote", '</script><script>window.__pwned=2</script>'],
    ['amp&code=1#frag', 'R&amp;D & <b>bold</b> \' "'],
    ['brace', '{{user.email}} {{#each comments}}'],
    ['支持', 'Ünïcödé 支持 🚀 \u202Etxt.exe'],
  ];
  const hostileRequest = {
    ...REQUEST,
    subject: '</script><img src=x onerror=window.__pwned=3>{{user.name}}',
    userName: '"><svg onload=window.__pwned=4>',
    requester: '"><svg onload=window.__pwned=5>',
  };
  const snippet = generateSnippet({
    hostname: HOST, issues,
    request: { id: hostileRequest.id, subject: hostileRequest.subject, requester_name: hostileRequest.requester },
  });
  const context = await launchBrowser();
  const { page, server, firstOpen, errors } = await openRequestPage(context, renderRequestPage(snippet.markup, hostileRequest));
  try {
    const options = await page.locator('#rsz-issue option').evaluateAll((els) => els.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options, issues, 'codes and names survive exactly, as text');
    assert.equal(await page.locator('img, svg, b').count(), 0, 'no markup was injected');
    assert.equal(await page.locator('script').count(), 1, "only the snippet's own script");
    await page.getByLabel('What do you need help with?').selectOption({ index: 0 });
    await page.getByRole('button', { name: 'Get Support Now' }).click();
    assert.equal(await firstOpen, snippet.expected_urls[0]);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing executed');
    assert.deepEqual(errors, []);
    await screenshot(page, 'help-center-hostile-issues');
  } finally {
    await context.close();
    await server.close();
  }
});

test('only the requester sees the button, and not on a closed request', async () => {
  const issues = [['general_tech', 'General Technical Issues']];
  const snippet = generateSnippet({ hostname: HOST, issues });
  const cases = [
    { name: 'the requester, open request', request: { ...REQUEST, requesterId: 7, userId: 7, status: 'open' }, shown: true },
    { name: 'the requester, solved request', request: { ...REQUEST, requesterId: 7, userId: 7, status: 'solved' }, shown: true },
    { name: 'the requester, pending request', request: { ...REQUEST, requesterId: 7, userId: 7, status: 'pending' }, shown: true },
    { name: 'a CC of the request', request: { ...REQUEST, requesterId: 7, userId: 8, status: 'open' }, shown: false },
    { name: 'the requester, closed request', request: { ...REQUEST, requesterId: 7, userId: 7, status: 'closed' }, shown: false },
    { name: 'a CC, closed request', request: { ...REQUEST, requesterId: 7, userId: 8, status: 'closed' }, shown: false },
  ];
  const context = await launchBrowser();
  try {
    for (const c of cases) {
      const { page, server, errors } = await openRequestPage(context, renderRequestPage(snippet.markup, c.request));
      try {
        assert.equal(await page.locator('h1.request-title').count(), 1, c.name);
        assert.equal(await page.locator('#rsz-get-support').count(), c.shown ? 1 : 0, c.name);
        assert.equal(await page.getByRole('button', { name: 'Get Support Now' }).count(), c.shown ? 1 : 0, c.name);
        assert.deepEqual(errors, [], c.name);
      } finally {
        await page.close();
        await server.close();
      }
    }
  } finally {
    await context.close();
  }
});

test("the requester's name is the customer name, and the click shows a short starting state", async () => {
  const issues = [['general_tech', 'General Technical Issues']];
  // The signed-in requester's profile name and the request's requester name are one person;
  // the snippet takes the request's.
  const request = { ...REQUEST, requester: 'Zoë Requester', userName: 'Zoe (profile)' };
  const snippet = generateSnippet({
    hostname: HOST, issues,
    request: { id: request.id, subject: request.subject, requester_name: request.requester },
  });
  const context = await launchBrowser();
  const { page, server, firstOpen, errors } = await openRequestPage(context, renderRequestPage(snippet.markup, request));
  try {
    assert.equal(await page.locator('input[name="customer.name"]').inputValue(), 'Zoë Requester');
    const button = page.getByRole('button', { name: 'Get Support Now' });
    await button.click();
    const url = new URL(await firstOpen);
    assert.equal(url.searchParams.get('customer.name'), 'Zoë Requester');
    assert.equal(url.href, snippet.expected_urls[0]);
    assert.equal(await page.locator('.rsz-status[role="status"]').innerText(), 'Starting your chat…');
    assert.equal(await button.isDisabled(), true, 'no second session while the first starts');
    await screenshot(page, 'help-center-starting');
    await button.waitFor({ state: 'visible' });
    await page.waitForFunction(() => !document.querySelector('#rsz-get-support button').disabled, null, { timeout: 8000 });
    assert.equal(await page.locator('.rsz-status').innerText(), '');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await server.close();
  }
});

test('an empty issue list gives a message, not a broken button', () => {
  const result = generateSnippet({ hostname: HOST, issues: [] });
  assert.equal(result.key, 'error_no_issues');
  assert.match(result.error, /at least one issue/);
  assert.equal(result.markup, undefined);
});
