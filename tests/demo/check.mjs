// `cargo xtask demo --check`: the demo's visitor flow, headless, against the running demo.
//
// Usage: node tests/demo/check.mjs <workspace-url> <ticket-id>
// Prints one line per check and `demo: N passed, N failed`; exits 0 only when every check
// passed — in particular when the session's private comments arrived in the ticket.
import { launchBrowser, screenshot } from '../browser/lib/harness.mjs';

const [workspace, ticketArg] = process.argv.slice(2);
const ticket = Number(ticketArg);
if (!workspace || !ticket) {
  console.error('usage: node tests/demo/check.mjs <workspace-url> <ticket-id>');
  process.exit(2);
}

let passed = 0;
let failed = 0;
async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}: ${error.message.split('\n')[0]}`);
  }
}

/** Polls `probe` (returns a truthy value when done) until `ms` elapse. */
async function until(what, ms, probe) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((ok) => setTimeout(ok, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

const consoleState = async () => (await fetch(`${workspace}/_demo/console`)).json();
const ticketState = async () => (await fetch(`${workspace}/_demo/tickets/${ticket}`)).json();

// The sandbox appliance has a self-signed certificate, as a lab appliance would.
const context = await launchBrowser({ ignoreHTTPSErrors: true });
const page = await context.newPage();
try {
  await check('agent workspace shows the ticket with the app ready', async () => {
    await page.goto(`${workspace}/agent/tickets/${ticket}`);
    const app = page.frameLocator('#app-frame');
    await app.getByRole('button', { name: /generate session key/i }).waitFor({ timeout: 20000 });
  });

  await check('Generate Session Key shows the key from the appliance, ready to insert into the reply', async () => {
    const before = (await consoleState()).session_keys.length;
    const app = page.frameLocator('#app-frame');
    await app.getByRole('button', { name: /generate session key/i }).click();
    const shown = (await app.locator('#rs-key').innerText({ timeout: 10000 })).trim();
    const issued = (await consoleState()).session_keys.slice(before);
    if (issued.length !== 1 || issued[0].short_key !== shown) throw new Error(`shown ${shown}, issued ${JSON.stringify(issued)}`);
    if (String(issued[0].external_key) !== String(ticket)) throw new Error(`external key ${issued[0].external_key}, expected ${ticket}`);
    await app.getByRole('button', { name: 'Insert into reply' }).click();
    await until('the invitation in the reply', 5000, async () => (await page.locator('#reply').inputValue()).includes(shown));
  });

  await check('a Shell Jump through a Jumpoint reaches the representative console', async () => {
    const before = (await consoleState()).client_scripts.length;
    const app = page.frameLocator('#app-frame');
    await app.locator('#rs-jump-type').selectOption('shell_jump');
    await app.locator('#rs-jumpoint').selectOption('Lab Jumpoint');
    await app.locator('#rs-target').fill('router.lab');
    await app.locator('#rs-username').fill('admin');
    await app.getByRole('button', { name: 'Jump', exact: true }).click();
    const call = await until('a start_shell_jump_session client script', 10000, async () => {
      const calls = (await consoleState()).client_scripts.slice(before);
      return calls.find((c) => c.action === 'start_shell_jump_session');
    });
    const params = Object.fromEntries(call.params);
    const want = { target: 'router.lab', jumpoint: 'Lab Jumpoint', username: 'admin', protocol: 'ssh', port: '22', 'session.custom.external_key': String(ticket) };
    for (const [key, value] of Object.entries(want)) {
      if (params[key] !== value) throw new Error(`${key} = ${JSON.stringify(params[key])}, expected ${JSON.stringify(value)}`);
    }
    if (call.status !== 200) throw new Error(`the appliance answered ${call.status}`);
  });

  await check('Customize Help Center opens as a modal with the snippet', async () => {
    // Launches opened tabs in front of the workspace.
    await page.bringToFront();
    await page.frameLocator('#app-frame').getByRole('button', { name: 'Customize Help Center' }).click();
    const modal = page.getByRole('dialog', { name: 'Remote Support for Zendesk' });
    await modal.waitFor({ timeout: 10000 });
    try {
      const content = modal.frameLocator('iframe');
      const snippet = content.locator('#rs-hc-snippet');
      await snippet.waitFor({ timeout: 20000 });
      if (!/Get Support Now/.test(await snippet.inputValue())) throw new Error('the modal has no snippet');
      await content.getByRole('button', { name: 'Close' }).click();
      await modal.waitFor({ state: 'detached', timeout: 5000 });
    } finally {
      // A failed check must not leave the overlay over the page for the next checks.
      await page.evaluate(() => document.querySelectorAll('.modal-backdrop').forEach((m) => m.remove()));
    }
  });

  await check('End session puts the session report and both surveys on the ticket', async () => {
    const before = (await ticketState()).comments.length;
    await page.getByRole('button', { name: 'End session' }).click();
    const comments = await until('three new private comments', 30000, async () => {
      const added = (await ticketState()).comments.slice(before);
      return added.length >= 3 ? added : null;
    });
    if (comments.some((c) => c.public)) throw new Error('a comment was public');
    const text = comments.map((c) => c.html_body || c.body).join('\n');
    for (const expected of ['Hello Jane', 'hp-driver-7.1.zip', 'Windows 11 Pro 23H2', 'Reinstalled the HP LaserJet driver', 'Quick and friendly help', 'Outdated driver']) {
      if (!text.includes(expected)) throw new Error(`comments lack ${JSON.stringify(expected)}`);
    }
    if (text.includes('<3 —') && !text.includes('&lt;3')) throw new Error('customer text was not escaped');
    await page.locator('#conversation .comment.private').nth(before + 2).waitFor({ timeout: 5000 });
    await screenshot(page, 'demo-workspace');
  });

  await check('Help Center Get Support Now starts a click-to-chat session tied to the request', async () => {
    const before = (await consoleState()).start_sessions.length;
    await page.goto(`${workspace}/hc/en-us/requests/${ticket}`);
    await page.getByRole('button', { name: /get support now/i }).click();
    const call = await until('a start_session call', 10000, async () => (await consoleState()).start_sessions[before]);
    const params = Object.fromEntries(call.params);
    if (String(params['session.custom.external_key']) !== String(ticket)) throw new Error(`external key ${params['session.custom.external_key']}`);
    if (params.issue_menu !== '1' || !params.codeName) throw new Error(`params ${JSON.stringify(params)}`);
  });
} finally {
  await context.close();
}
console.log(`demo: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
