// The middleware's admin as an administrator uses it (issue 13), in chromium against the real
// binaries: `sandbox serve` (appliance + Zendesk simulators) and `middleware serve` started with
// no configuration at all. The admin logs in, adds a configuration in the form, runs Test (all
// pass), breaks the secret (the failure named in words), fixes it, sees an event for the new
// appliance id processed without any restart, previews the templates against it, retries a
// failed event, and screenshots each step into the artifacts folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { launchBrowser, screenshot } from './lib/harness.mjs';

const root = resolve(new URL('../..', import.meta.url).pathname);
const targetDir = resolve(process.env.RSZ_TARGET_DIR ?? process.env.CARGO_TARGET_DIR ?? join(root, 'target'));
const scratch = resolve(process.env.RSZ_SCRATCH ?? tmpdir());
const PASSWORD = 'browser-admin-pw-13';
const APPLIANCE_ID = 'branch_1';
const WRONG_SECRET = 'not-the-client-secret-13';

const children = [];
let sandbox; // the JSON line `sandbox serve` prints
let admin; // http://127.0.0.1:PORT
let eventsBase; // http://127.0.0.1:PORT

async function freePort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/** Polls `probe` until it returns a truthy value. */
async function until(what, ms, probe) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch { /* not up yet */ }
    await new Promise((ok) => setTimeout(ok, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** JSON over the sandbox's control API (the appliance's has a self-signed certificate). */
function control(url, method = 'GET', body) {
  return new Promise((ok, fail) => {
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : null;
    const data = body === undefined ? undefined : JSON.stringify(body);
    const opts = { method, headers: data ? { 'content-type': 'application/json' } : {} };
    if (!send) {
      fetch(url, { method, body: data, headers: opts.headers }).then((r) => r.json()).then(ok, fail);
      return;
    }
    const req = send(u, { ...opts, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => { try { ok(JSON.parse(text)); } catch (e) { fail(e); } });
    });
    req.on('error', fail);
    if (data) req.write(data);
    req.end();
  });
}

const applianceControl = () => `${sandbox.appliance_url}/_control`;
const zendeskControl = () => `${sandbox.zendesk_url}/_control`;

/** A ticket and a support session for it, ended so the appliance sends its outbound event. */
async function endSession(subject) {
  const { id: ticket } = await control(`${zendeskControl()}/tickets`, 'POST', { subject });
  const { lsid } = await control(`${applianceControl()}/sessions`, 'POST', { external_key: String(ticket) });
  await control(`${applianceControl()}/sessions/${lsid}/end`, 'POST');
  return { ticket, lsid };
}

/** The admin's JSON API (HTTP Basic), for what the test checks behind the pages. */
async function api(path) {
  const r = await fetch(`${admin}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` },
  });
  return r.json();
}

async function eventFor(lsid) {
  const { events } = await api(`/api/events?q=${encodeURIComponent(lsid)}`);
  return events.find((e) => e.lsid === lsid && e.event_type === 'support_conference_end');
}

before(async () => {
  // A no-op when `cargo xtask test` (or the developer) built them already.
  const build = spawnSync('cargo', ['build', '--quiet', '-p', 'sandbox', '-p', 'middleware'], {
    cwd: root, stdio: 'inherit', env: { ...process.env, CARGO_TARGET_DIR: targetDir },
  });
  assert.equal(build.status, 0, 'building sandbox and middleware');
  const bin = join(targetDir, 'debug');

  const sb = spawn(join(bin, 'sandbox'), ['serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(sb);
  const lines = createInterface({ input: sb.stdout });
  sandbox = await new Promise((ok, fail) => {
    lines.once('line', (line) => { try { ok(JSON.parse(line)); } catch (e) { fail(e); } });
    sb.once('exit', (code) => fail(new Error(`sandbox exited with ${code}`)));
  });
  lines.on('line', () => {});

  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'admin-test-'));
  const [eventsPort, adminPort] = [await freePort(), await freePort()];
  eventsBase = `http://127.0.0.1:${eventsPort}`;
  admin = `http://127.0.0.1:${adminPort}`;
  // No [[configuration]]: the admin adds it in the browser.
  const config = join(dir, 'middleware.toml');
  writeFileSync(config, `[server]
events_listen = "127.0.0.1:${eventsPort}"
admin_listen = "127.0.0.1:${adminPort}"
database_url = "sqlite://${join(dir, 'middleware.db')}"
workers = 2
`);
  const mw = spawn(join(bin, 'middleware'), ['serve', '--config', config], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, MIDDLEWARE_ADMIN_PASSWORD: PASSWORD, RUST_LOG: 'warn' },
  });
  children.push(mw);
  await until('the admin to answer', 60000, async () => (await fetch(`${admin}/login`)).ok);
});

after(async () => {
  for (const c of children.reverse()) {
    c.kill('SIGTERM');
    await new Promise((ok) => { if (c.exitCode !== null) ok(); else c.once('exit', ok); });
  }
});

test('an admin adds, tests, fixes and uses a configuration without a restart', async () => {
  const context = await launchBrowser();
  const page = await context.newPage();
  try {
    // Log in.
    await page.goto(`${admin}/`);
    await page.getByLabel('Admin password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Events by status' }).waitFor();
    await screenshot(page, 'admin-01-dashboard-empty');

    // Add a configuration against the sandbox.
    await page.getByRole('link', { name: 'Add configuration' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Branch office');
    await page.getByLabel('Appliance id').fill(APPLIANCE_ID);
    await page.getByLabel('Appliance host').fill(sandbox.appliance_host);
    await page.getByLabel('OAuth client id').fill(sandbox.client_id);
    await page.getByLabel('OAuth client secret').fill(sandbox.client_secret);
    // The sandbox appliance has a self-signed certificate, like a lab appliance.
    await page.getByLabel('Allow invalid certificates').check();
    await page.getByLabel('Zendesk URL').fill(sandbox.zendesk_url);
    await page.getByLabel('Zendesk user (email)').fill(sandbox.zendesk_email);
    await page.getByLabel('Zendesk API token').fill(sandbox.zendesk_token);
    await screenshot(page, 'admin-02-add-configuration');
    await page.getByRole('button', { name: 'Save' }).click();
    const card = page.locator('.card.config[data-name="Branch office"]');
    await card.waitFor();
    assert.match(await page.locator('#saved').innerText(), /Saved Branch office; it is in effect now \(no restart needed\)/);
    assert.match(await card.innerText(), new RegExp(`/ERSPost\\?appliance=${APPLIANCE_ID}`));
    const html = await page.content();
    assert.ok(!html.includes(sandbox.client_secret) && !html.includes(sandbox.zendesk_token), 'no secret on the page');

    // Test: every check passes, with the URLs to paste into /login.
    await card.getByRole('button', { name: 'Test connection' }).click();
    await page.locator('#test-outcome').waitFor();
    assert.equal(await page.locator('#test-outcome').innerText(), 'all checks passed');
    assert.equal(await page.locator('li.check-pass').count(), 2);
    assert.equal(
      await page.locator('#custom-link').innerText(),
      `${sandbox.zendesk_url}/agent/tickets/%SESSION.CUSTOM.EXTERNAL_KEY%`,
    );
    await screenshot(page, 'admin-03-test-passes');

    // Break the secret: the failure is named in words, the secret never shown.
    await page.getByRole('link', { name: 'Edit the configuration' }).click();
    assert.match(
      await page.getByLabel('OAuth client secret').getAttribute('placeholder'),
      /set — leave empty to keep/,
    );
    await page.getByLabel('OAuth client secret').fill(WRONG_SECRET);
    await page.getByRole('button', { name: 'Save' }).click();
    await card.getByRole('button', { name: 'Test connection' }).click();
    await page.locator('#test-outcome').waitFor();
    assert.equal(await page.locator('#test-outcome').innerText(), 'failed');
    const failure = await page.locator('li.check-fail').innerText();
    assert.match(failure, /BeyondTrust.*the OAuth client secret was refused/);
    assert.ok(!(await page.content()).includes(WRONG_SECRET));
    await screenshot(page, 'admin-04-test-names-the-failure');

    // Fix it.
    await page.getByRole('link', { name: 'Edit the configuration' }).click();
    await page.getByLabel('OAuth client secret').fill(sandbox.client_secret);
    await page.getByRole('button', { name: 'Save' }).click();
    await card.getByRole('button', { name: 'Test connection' }).click();
    await page.locator('#test-outcome').waitFor();
    assert.equal(await page.locator('#test-outcome').innerText(), 'all checks passed');

    // The appliance's outbound events for the new appliance id are processed, no restart.
    await control(`${applianceControl()}/events_url`, 'PUT', { url: `${eventsBase}/ERSPost?appliance=${APPLIANCE_ID}` });
    const first = await endSession('Printer on the 3rd floor');
    const done = await until('the session event to be processed', 30000, async () => {
      const e = await eventFor(first.lsid);
      return e?.status === 'done' && e;
    });
    await page.goto(`${admin}/events?q=${first.lsid}`);
    const row = page.locator('tr', { hasText: first.lsid }).filter({ hasText: 'support_conference_end' });
    assert.match(await row.innerText(), /done/);
    assert.equal(
      await row.getByRole('link', { name: `#${first.ticket}` }).getAttribute('href'),
      `${sandbox.zendesk_url}/agent/tickets/${first.ticket}`,
    );
    await screenshot(page, 'admin-05-event-processed');

    // Preview the templates against that event's session.
    await page.goto(`${admin}/events/${done.id}`);
    await page.getByRole('link', { name: 'Preview the templates with this session' }).click();
    const session = page.locator('.card.template[data-file="session.hbs"]');
    await session.waitFor();
    assert.equal(await session.locator('.active-source').innerText(), 'built-in');
    assert.match(await session.locator('.preview').innerText(), new RegExp(first.lsid));
    await screenshot(page, 'admin-06-template-preview');

    // A failed event: the Zendesk token breaks, the next session's comment fails ...
    await page.goto(`${admin}/configurations/Branch%20office/edit`);
    await page.getByLabel('Zendesk API token').fill('not-the-zendesk-token-13');
    await page.getByLabel('Retry attempt limit').fill('0');
    await page.getByRole('button', { name: 'Save' }).click();
    const second = await endSession('Scanner jam');
    const failedEvent = await until('the second event to fail', 30000, async () => {
      const e = await eventFor(second.lsid);
      return e?.status === 'failed' && e;
    });
    await page.goto(`${admin}/events?status=failed`);
    assert.match(await page.locator('#showing').innerText(), /status failed/);
    assert.match(await page.locator('#count-failed').getAttribute('class'), /alert/);
    await screenshot(page, 'admin-07-failed-event');

    // ... the token is fixed, and Retry posts the comment.
    await page.goto(`${admin}/configurations/Branch%20office/edit`);
    await page.getByLabel('Zendesk API token').fill(sandbox.zendesk_token);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.goto(`${admin}/events/${failedEvent.id}`);
    assert.match(await page.locator('.card').first().innerText(), /Attempts\s*1/);
    await page.getByRole('button', { name: 'Retry' }).click();
    await until('the retried event to be processed', 30000, async () => (await eventFor(second.lsid))?.status === 'done');
    await page.reload();
    assert.match(await page.locator('.card').first().innerText(), /Status\s*done/);
    await screenshot(page, 'admin-08-retried-event-done');
    const ticket = await control(`${zendeskControl()}/tickets/${second.ticket}`);
    assert.ok(
      JSON.stringify(ticket).includes(second.lsid),
      'the retried session comment reached the ticket',
    );
  } finally {
    await context.close();
  }
});
