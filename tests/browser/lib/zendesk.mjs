// The Zendesk-shaped harness: the packaged app hosted the way Zendesk hosts it.
//
// Three origins, like production:
//   - the "Zendesk" agent page on http://127.0.0.1:P1 (agent.zendesk.com's role);
//   - the app's files on http://127.0.0.2:P2 (apps.zdusercontent.com's role: another site),
//     framed by the agent page with an iframe `sandbox` attribute chosen per test;
//   - the simulated BeyondTrust appliance (`sandbox serve`, real HTTPS with a self-signed
//     certificate) on https://127.0.0.1:P3, which answers `client_script` with
//     `Content-Disposition: attachment` and `X-Frame-Options: SAMEORIGIN` and records every call.
// The ZAF stand-in (fixtures/zaf-standin.js) answers the app inside its frame. A `zaf.invoke(
// 'instances.create', {location: 'modal'})` is posted to the agent page, which opens the modal
// instance as Zendesk does: a dialog on the agent page framing the app's modal URL.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { serveDir, distApp } from './harness.mjs';

/** Starts `sandbox serve` (the simulated appliance and Zendesk); stop it with `close()`. */
export async function startAppliance() {
  const bin = process.env.RSZ_SANDBOX_BIN;
  if (!bin) throw new Error('RSZ_SANDBOX_BIN is not set: `cargo xtask test` builds the sandbox and sets it');
  const child = spawn(bin, ['serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    new Promise((resolve) => lines.once('line', resolve)),
    exited.then((code) => { throw new Error(`sandbox serve exited (${code}) before printing its URLs`); }),
  ]);
  lines.on('line', () => {});
  const info = JSON.parse(first);
  return {
    url: info.appliance_url,
    /** `127.0.0.1:PORT`: the app's `hostname` setting. */
    host: info.appliance_host,
    port: Number(new URL(info.appliance_url).port),
    /** Every client_script call the appliance received, in order. */
    async clientScripts() {
      return (await getJson(`${info.appliance_control_url}/calls`)).client_scripts;
    },
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** GET a JSON document over HTTPS from the appliance (self-signed certificate, loopback only). */
function getJson(url) {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => {
        try { resolve(JSON.parse(body)); } catch (e) { reject(new Error(`${url}: ${e.message}: ${body.slice(0, 200)}`)); }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const APP_GUID = 'zendesk-shaped-guid';
/** The app's host: another loopback address, so another site than the agent page's 127.0.0.1. */
export const APP_HOST = '127.0.0.2';

/** The agent page: a ticket with the app's iframe (`sandbox` as given) in the sidebar. */
function agentPage({ appOrigin, sandbox, ticketId }) {
  const src = `${appOrigin}/assets/iframe.html?origin=${encodeURIComponent('https://acme.zendesk.com')}&app_guid=${APP_GUID}`;
  const sandboxAttr = sandbox == null ? '' : ` sandbox="${sandbox}"`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Ticket #${ticketId} (Zendesk stand-in)</title>
<style>
  body { margin: 0; font: 14px system-ui, sans-serif; display: flex; min-height: 100vh; }
  main { flex: 1; padding: 16px; }
  aside { width: 336px; border-left: 1px solid #d8dcde; padding: 8px; }
  #app-frame { width: 320px; height: 760px; border: 0; display: block; }
  .modal-backdrop { position: fixed; inset: 0; background: rgba(47,57,65,.6); display: flex; align-items: center; justify-content: center; }
  .modal { background: #fff; border-radius: 4px; box-shadow: 0 20px 28px rgba(4,68,77,.35); }
  .modal iframe { display: block; border: 0; }
</style></head>
<body>
<main><h1>Ticket #${ticketId}</h1><p>Printer on 3rd floor prints blank pages.</p></main>
<aside><iframe id="app-frame" title="Remote Support for Zendesk" src="${src}"${sandboxAttr}></iframe></aside>
<script>
  // The app's frame asks for a modal instance (ZAF 'instances.create' with location 'modal'):
  // Zendesk opens it as a dialog on its own page, framing the app's modal URL.
  const APP_ORIGIN = ${JSON.stringify(appOrigin)};
  const SANDBOX = ${JSON.stringify(sandbox)};
  window.__modals = [];
  window.addEventListener('message', (event) => {
    if (event.origin !== APP_ORIGIN || !event.data || event.data.type !== 'zaf-standin:modal') return;
    const { url, size, guid } = event.data;
    const backdrop = document.createElement('div');
    backdrop.className = 'modal-backdrop';
    const dialog = document.createElement('div');
    dialog.className = 'modal';
    dialog.setAttribute('role', 'dialog');
    dialog.setAttribute('aria-modal', 'true');
    dialog.setAttribute('aria-label', 'Remote Support for Zendesk');
    const frame = document.createElement('iframe');
    frame.id = 'modal-frame';
    frame.title = 'Remote Support for Zendesk';
    const sep = url.includes('?') ? '&' : '?';
    frame.src = APP_ORIGIN + '/' + url.replace(/^\\//, '') + sep + 'origin=' + encodeURIComponent('https://acme.zendesk.com') + '&app_guid=' + guid;
    if (SANDBOX != null) frame.setAttribute('sandbox', SANDBOX);
    frame.style.width = (size && size.width) || '640px';
    frame.style.height = (size && size.height) || '560px';
    dialog.appendChild(frame);
    backdrop.appendChild(dialog);
    document.body.appendChild(backdrop);
    window.__modals.push(event.data);
  });
  window.addEventListener('message', (event) => {
    if (event.origin !== APP_ORIGIN || !event.data || event.data.type !== 'zaf-standin:destroy') return;
    document.querySelectorAll('.modal-backdrop').forEach((m) => m.remove());
  });
</script>
</body></html>
`;
}

/**
 * Serves the agent page (127.0.0.1) and the packaged app (127.0.0.2). `sandbox`: the app
 * iframe's sandbox attribute (`null`: none). Returns { agentUrl, appOrigin, agentPort, appPort, close }.
 */
export async function startZendesk({ sandbox, ticketId = 42 }) {
  // Not `localhost`: Chrome counts that name as loopback whatever its address, which would keep
  // the app out of Local Network Access.
  const app = await serveDir(distApp, {}, APP_HOST);
  const appPort = Number(new URL(app.url).port);
  const appOrigin = `http://${APP_HOST}:${appPort}`;
  const html = agentPage({ appOrigin, sandbox, ticketId });
  const server = createServer((req, res) => {
    if (new URL(req.url, 'http://x').pathname === `/agent/tickets/${ticketId}`) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const agentPort = server.address().port;
  return {
    agentUrl: `http://127.0.0.1:${agentPort}/agent/tickets/${ticketId}`,
    appOrigin,
    agentPort,
    appPort,
    async close() {
      server.closeAllConnections?.();
      await new Promise((ok) => server.close(ok));
      await app.close();
    },
  };
}
