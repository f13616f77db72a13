// The server side of Zendesk's request proxy, for browser tests: `client.request` calls from the
// app frame cross into node (page.exposeBinding), never into the page's own network stack.
//
// Rules it enforces, as Zendesk does:
// - requests to a non-Zendesk URL need its host in the installed manifest's `domainWhitelist`;
// - `{{setting.NAME}}` of a secure setting is replaced only when `secure: true` and only in the
//   scopes the manifest declares for NAME: `url`, `header`, `body`, and inside HTTP Basic
//   credentials (decoded, filled, re-encoded) `basic_auth_username` / `basic_auth_password`.
//   A placeholder outside its scopes is sent literally.
// Secure values live only here (node), never in the page.
import http from 'node:http';

const PLACEHOLDER = /\{\{setting\.([A-Za-z0-9_]+)\}\}/g;

export function createZafProxy({ manifest, secure, resolveHost, zendesk }) {
  const params = new Map((manifest.parameters ?? []).map((p) => [p.name, p]));
  const whitelist = (manifest.domainWhitelist ?? []).map((d) => d.toLowerCase());
  const proxied = [];

  const fill = (text, scope, enabled) => text.replace(PLACEHOLDER, (whole, name) => {
    const p = params.get(name);
    if (!enabled || !p?.secure || !(p.scopes ?? []).includes(scope) || !(name in secure)) return whole;
    return secure[name];
  });

  function fillBasic(value, enabled) {
    const m = /^Basic\s+(.+)$/i.exec(value);
    if (!m) return fill(value, 'header', enabled);
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const at = decoded.indexOf(':');
    if (at < 0) return value;
    const user = fill(decoded.slice(0, at), 'basic_auth_username', enabled);
    const pass = fill(decoded.slice(at + 1), 'basic_auth_password', enabled);
    return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }

  /** Answers one `client.request(options)`: { ok, status, responseText }. */
  async function handle(options) {
    const enabled = options.secure === true;
    const url = new URL(options.url, 'https://acme.zendesk.com');
    if (url.hostname === 'acme.zendesk.com') return zendesk(options, url);
    if (!whitelist.includes(url.hostname.toLowerCase())) {
      return { ok: false, status: 0, responseText: '', statusText: `${url.hostname} is not in domainWhitelist` };
    }
    const target = resolveHost(url.host);
    if (!target) return { ok: false, status: 0, responseText: '', statusText: 'unreachable' };
    const finalUrl = new URL(fill(url.pathname + url.search, 'url', enabled), target);
    const headers = {};
    for (const [k, v] of Object.entries(options.headers ?? {})) {
      headers[k] = k.toLowerCase() === 'authorization' ? fillBasic(String(v), enabled) : fill(String(v), 'header', enabled);
    }
    if (options.contentType) headers['content-type'] = options.contentType;
    const body = options.data == null ? undefined : fill(String(options.data), 'body', enabled);
    const sent = { method: options.type ?? 'GET', url: finalUrl.href, headers, body };
    proxied.push(sent);
    try {
      const answer = await send(sent);
      return { ok: answer.status >= 200 && answer.status < 300, ...answer };
    } catch (e) {
      return { ok: false, status: 0, responseText: '', statusText: String(e.message) };
    }
  }

  return { handle, proxied };
}

function send({ method, url, headers, body }) {
  return new Promise((ok, fail) => {
    const req = http.request(url, { method, headers, agent: false, timeout: 10000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => ok({ status: res.statusCode, responseText: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Browser-side glue appended to the ZAF stand-in: `client.request` goes to the node proxy
 * (`window.__zafProxy`), `invoke('ticket.comment.appendText', text)` is recorded. Both land in
 * `window.__zaf.calls` like every other call.
 */
export const PROXY_GLUE = `
(function () {
  var init = window.ZAFClient.init;
  window.ZAFClient.init = function () {
    var client = init.apply(this, arguments);
    if (!client) return client;
    client.request = function (options) {
      window.__zaf.calls.push(['request', JSON.parse(JSON.stringify(options))]);
      return window.__zafProxy(options).then(function (a) {
        if (!a.ok) return Promise.reject({ status: a.status, statusText: a.statusText || '', responseText: a.responseText });
        if (options.httpCompleteResponse) return { status: a.status, responseText: a.responseText, headers: {} };
        if (options.dataType === 'json') return JSON.parse(a.responseText);
        return a.responseText;
      });
    };
    var invoke = client.invoke;
    client.invoke = function (name) {
      if (name === 'ticket.comment.appendText') {
        window.__zaf.calls.push(['invoke', name, arguments[1]]);
        window.__zaf.appended = (window.__zaf.appended || []).concat([arguments[1]]);
        return Promise.resolve({});
      }
      return invoke.apply(client, arguments);
    };
    return client;
  };
})();
`;
