// Injected by MCP-RMM at document start into the top frame of the login window only (never
// into a frame, nor anywhere else). It watches the page's own requests and hands each new
// `authorization: Bearer` value sent to the API origin, or an `access_token` in the URL
// fragment, to the app by navigating to a reserved URL that the app intercepts and cancels.
// The hand-over names this page's origin and carries a one-time nonce that only this script
// knows, so a frame of another origin cannot forge one. It has no access to any app command.
(function () {
  "use strict";
  if (window.top !== window) return;
  var API_ORIGIN = __RMM_API_ORIGIN__;
  var CAPTURE_URL = __RMM_CAPTURE_URL__;
  var NONCE = __RMM_NONCE__;
  // Each value is handed over once; a refused one does not stop the next.
  var handedOver = {};

  function handOver(token) {
    if (!token || handedOver[token]) return;
    handedOver[token] = true;
    var fragment = new URLSearchParams();
    fragment.set("token", token);
    fragment.set("nonce", NONCE);
    fragment.set("origin", location.origin);
    location.replace(CAPTURE_URL + "#" + fragment.toString());
  }

  function originOf(url) {
    try {
      return new URL(String(url), location.href).origin;
    } catch (e) {
      return null;
    }
  }

  // Only a Bearer sent to the API origin counts; any other origin is ignored.
  function seen(url, name, value) {
    if (String(name).toLowerCase() !== "authorization") return;
    if (originOf(url) !== API_ORIGIN) return;
    var match = /^\s*Bearer\s+(\S+)\s*$/i.exec(String(value));
    if (match) handOver(match[1]);
  }

  var originalFetch = window.fetch;
  if (typeof originalFetch === "function") {
    window.fetch = function (input, init) {
      try {
        var isRequest = typeof Request !== "undefined" && input instanceof Request;
        var url = isRequest ? input.url : input;
        var headers = new Headers((init && init.headers) || (isRequest ? input.headers : undefined));
        var value = headers.get("authorization");
        if (value) seen(url, "authorization", value);
      } catch (e) {
        // Never break the page.
      }
      return originalFetch.apply(this, arguments);
    };
  }

  if (typeof XMLHttpRequest !== "undefined") {
    var open = XMLHttpRequest.prototype.open;
    var setRequestHeader = XMLHttpRequest.prototype.setRequestHeader;
    XMLHttpRequest.prototype.open = function (method, url) {
      this.__rmmUrl = url;
      return open.apply(this, arguments);
    };
    XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
      try {
        seen(this.__rmmUrl, name, value);
      } catch (e) {
        // Never break the page.
      }
      return setRequestHeader.apply(this, arguments);
    };
  }

  try {
    var fragment = new URLSearchParams(String(location.hash || "").replace(/^#/, ""));
    var accessToken = fragment.get("access_token");
    if (accessToken) handOver(accessToken);
  } catch (e) {
    // Never break the page.
  }
})();
