// "Sessions on this ticket" in the packaged sidebar, from comments the real middleware wrote
// (tests/browser/fixtures/middleware-comments.json, produced by
// `RSZ_UPDATE_FIXTURES=1 cargo test -p e2e --test ticket_sessions_fixture`), served through the
// ZAF stand-in as Zendesk's paginated comments API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launchBrowser, serveDir, distApp, screenshot } from './lib/harness.mjs';
import { openApiSidebar, installedManifest, commentsApi } from './lib/api_sidebar.mjs';

const FIXTURE = JSON.parse(readFileSync(new URL('./fixtures/middleware-comments.json', import.meta.url), 'utf8'));
const BUSY = FIXTURE.busy_ticket;
const QUIET = FIXTURE.quiet_ticket;
const SETTINGS = { hostname: 'bt.example.com', issues: 'a=A', allow_local_jump: true };

let server;
let browser;

before(async () => {
  server = await serveDir(distApp);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function open(ticketId, zendesk, { locale, settings = {} } = {}) {
  return openApiSidebar(browser, server, {
    zaf: { location: 'ticket_sidebar', ticketId, settings: { ...SETTINGS, ...settings }, user: locale ? { locale } : undefined },
    proxy: { manifest: installedManifest(null), secure: {}, resolveHost: () => null, zendesk },
  });
}

/**
 * What the fixture's comments say, read with the record formats' own words (versioned
 * `rsz/1 ... lsid=X event=Y ... survey=N`, or the older `Ref: rsz:APPLIANCE:LSID:EVENT`):
 * lsid -> { reportComment, survey }.
 */
function sessionsIn(comments) {
  const out = new Map();
  for (const c of comments) {
    const text = c.html_body || c.body;
    for (const line of text.match(/(?:^|[\s>])rsz\/1 [^\n<]*/g) ?? []) {
      const f = Object.fromEntries(line.trim().split(' ').slice(1).map((kv) => kv.split('=')).map(([k, v]) => [k, decodeURIComponent(v)]));
      const s = out.get(f.lsid) ?? {};
      if (f.event === 'support_conference_end' && (!f.part || f.part.startsWith('1/'))) s.reportComment ??= c.id;
      if (f.survey) s.survey = f.survey;
      if (f.rep) s.rep = f.rep;
      out.set(f.lsid, s);
    }
    for (const m of text.matchAll(/(?:^|[\s>])Ref: rsz:[A-Za-z0-9._]+:([A-Za-z0-9._-]+):([a-z_]+)/g)) {
      const s = out.get(m[1]) ?? {};
      if (m[2] === 'support_conference_end') s.reportComment ??= c.id;
      out.set(m[1], s);
    }
  }
  return out;
}

test('fixture: a ticket with several sessions and surveys, from the middleware', () => {
  const comments = FIXTURE.tickets[BUSY];
  const sessions = [...sessionsIn(comments).values()];
  assert.ok(sessions.length >= 3, 'several sessions');
  assert.ok(comments.some((c) => /survey/i.test(c.html_body)), 'survey comments');
  // The integrated middleware writes versioned `rsz/1` records with the representative and,
  // once the customer answered, the survey score (a fixture from an older middleware fails).
  assert.ok(comments.every((c) => /(?:^|[\s>])rsz\/1 /.test(c.html_body || c.body)), 'every comment carries an rsz/1 record');
  assert.ok(sessions.every((s) => s.rep), 'every session names its representative');
  assert.ok(sessions.filter((s) => s.survey).length >= 2, 'surveys in the records');
  assert.ok(sessions.some((s) => !s.survey), 'a session without a survey too');
});

test('lists every session of the ticket, newest first, each linking to its report', async () => {
  const comments = FIXTURE.tickets[BUSY];
  const zendesk = commentsApi(FIXTURE.tickets, { perPage: 2 });
  const { page } = await open(BUSY, zendesk);
  await page.waitForSelector('#rs-sessions[data-state="list"]');
  const want = sessionsIn(comments);
  const rows = page.locator('.rs-session[data-lsid]');
  assert.equal(await rows.count(), want.size);
  // All pages were read (2 comments a page).
  assert.equal(zendesk.calls.length, Math.ceil(comments.length / 2));
  const dates = [];
  for (let i = 0; i < want.size; i++) {
    const row = rows.nth(i);
    const lsid = await row.getAttribute('data-lsid');
    const s = want.get(lsid);
    assert.ok(s, `row for unknown session ${lsid}`);
    const href = await row.locator('a').getAttribute('href');
    assert.equal(href, `https://acme.zendesk.com/agent/tickets/${BUSY}#comment-${s.reportComment}`);
    const text = await row.innerText();
    if (s.survey) assert.match(text, new RegExp(`survey ${s.survey}`));
    else assert.doesNotMatch(text, /survey/i);
    assert.ok(text.includes(s.rep), `${lsid}: representative ${s.rep} in ${text}`);
    dates.push(await row.locator('a').innerText());
  }
  assert.deepEqual([...dates].sort().reverse(), dates, 'newest first');
  assert.ok(dates.every((d) => /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/.test(d)), dates.join(', '));
  await screenshot(page, 'sidebar-ticket-sessions');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('loading, empty and error states are designed and translated', async () => {
  let release;
  const hold = { promise: new Promise((r) => { release = r; }) };
  const held = await open(QUIET, commentsApi({ [QUIET]: [] }, { hold }));
  await held.page.waitForSelector('#rs-sessions[data-state="loading"]');
  assert.equal(await held.page.locator('#rs-sessions [role="status"]').innerText(), "Loading this ticket's sessions…");
  release();
  await held.page.waitForSelector('#rs-sessions[data-state="empty"]');
  assert.equal(await held.page.locator('#rs-sessions p').innerText(), 'No support sessions on this ticket yet.');
  await held.page.close();

  let failing = true;
  const { page } = await open(BUSY, commentsApi(FIXTURE.tickets, { fail: () => failing }), { locale: 'de' });
  await page.waitForSelector('#rs-sessions[data-state="error"]');
  assert.equal(await page.locator('#rs-sessions-title').innerText(), 'Sitzungen zu diesem Anliegen');
  assert.equal(await page.locator('#rs-sessions [role="alert"]').innerText(), 'Die Kommentare dieses Anliegens konnten nicht gelesen werden.');
  failing = false;
  await page.getByRole('button', { name: 'Erneut versuchen' }).click();
  await page.waitForSelector('#rs-sessions[data-state="list"]');
  await page.close();
});
