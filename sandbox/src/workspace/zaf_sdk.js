// Stand-in for Zendesk's ZAF SDK inside the app iframe of the sandbox agent workspace.
//
// Like the real SDK, `ZAFClient.init()` reads `origin` and `app_guid` from the iframe URL and
// returns false without them. Calls are answered by the parent page's `zafHost` (same origin
// here, where Zendesk uses postMessage), with the same shapes Zendesk answers: `get` resolves
// `{"path": value, errors: {}}`, `metadata()` `{appId, installationId, name, version, settings}`,
// `context()` `{product, location, ticketId, account}`.
(function () {
  'use strict';
  function init(callback) {
    var params = new URLSearchParams(window.location.search);
    if (!params.get('origin') || !params.get('app_guid')) return false;
    var host = window.parent && window.parent !== window ? window.parent.zafHost : null;
    if (!host) return false;
    var guid = params.get('app_guid');
    var handlers = {};
    var client = {
      _origin: params.get('origin'),
      _appGuid: guid,
      get: function (paths) { return host.get(guid, paths); },
      set: function () { return Promise.reject(new Error('set is not supported by the sandbox')); },
      metadata: function () { return host.metadata(guid); },
      context: function () { return host.context(guid); },
      invoke: function (name) { return host.invoke(guid, name, Array.prototype.slice.call(arguments, 1)); },
      request: function (options) { return host.request(guid, typeof options === 'string' ? { url: options } : options); },
      on: function (name, handler) { (handlers[name] = handlers[name] || []).push(handler); },
      off: function (name, handler) { handlers[name] = (handlers[name] || []).filter(function (h) { return h !== handler; }); },
      has: function (name, handler) { return (handlers[name] || []).indexOf(handler) >= 0; },
      trigger: function (name, data) {
        (handlers[name] || []).forEach(function (h) { try { h(data); } catch (e) { console.error(e); } });
      },
    };
    host.register(guid, client);
    if (typeof callback === 'function') client.on('app.registered', callback);
    // Zendesk registers the app after the iframe has loaded.
    setTimeout(function () {
      Promise.all([client.metadata(), client.context()]).then(function (r) {
        client.trigger('app.registered', { metadata: r[0], context: r[1] });
      });
    }, 0);
    return client;
  }
  window.ZAFClient = { init: init };
})();
