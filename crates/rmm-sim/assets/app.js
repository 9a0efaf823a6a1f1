// The simulated admin dashboard: finishes the PKCE login on /callback, then calls the API
// with the access token (these requests are what token capture watches).
(function () {
  'use strict';
  var cfg = window.RMM_CONFIG;
  var TOKEN_KEY = 'rmm.access_token';

  function $(selector) { return document.querySelector(selector); }

  function setStatus(text, isError) {
    var status = $('#status');
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }

  function showSignIn() { $('#signin').hidden = false; }

  function timeZone() {
    var minutes = -new Date().getTimezoneOffset();
    var sign = minutes >= 0 ? '+' : '-';
    var abs = Math.abs(minutes);
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return sign + pad(Math.floor(abs / 60)) + ':' + pad(abs % 60);
  }

  function claimsOf(token) {
    try {
      var part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      while (part.length % 4) { part += '='; }
      return JSON.parse(atob(part));
    } catch (e) {
      return {};
    }
  }

  function api(method, path, body, token) {
    var headers = {
      'accept': 'application/json, text/plain, */*',
      'authorization': 'Bearer ' + token,
      'ocp-apim-subscription-key': cfg.subscriptionKey,
      'x-time-zone': timeZone()
    };
    if (body) { headers['content-type'] = 'application/json'; }
    return fetch(cfg.apiBase + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      if (!response.ok) { throw new Error(path + ' answered HTTP ' + response.status); }
      return response.json();
    });
  }

  function cell(row, text) {
    var td = document.createElement('td');
    td.textContent = text;
    row.appendChild(td);
  }

  function render(devices) {
    var body = $('#device-table tbody');
    body.textContent = '';
    devices.forEach(function (d) {
      var row = document.createElement('tr');
      row.setAttribute('data-device-id', d.deviceId);
      [d.friendlyName, d.modelName, d.serialNumber, d.ipAddress, d.firmwareVersion,
        d.latestFirmwareVersion, d.updateStatus, d.otaMode, d.connectionStatus].forEach(function (v) {
        cell(row, v === null || v === undefined ? '' : String(v));
      });
      body.appendChild(row);
    });
  }

  function showFleet(token) {
    var claims = claimsOf(token);
    $('#user-email').textContent = claims.email || '';
    setStatus('Loading devices…');
    return api('GET', '/api/v1/tenants', null, token).then(function (tenants) {
      var first = (tenants.tenantList || [])[0];
      var groupId = first ? first.tenantId : claims.sspTenantId;
      return api('POST', '/rmm/fss/fwupd/getFirmwareUpdateList', {
        startIndex: 0, count: 25, groupId: groupId, simpleFilters: [],
        orderBy: [{ key: 'friendlyName', order: 'ascending' }]
      }, token);
    }).then(function (list) {
      render(list.deviceList || []);
      setStatus(list.totalCount + ' devices');
      document.body.setAttribute('data-ready', 'true');
    });
  }

  function finishLogin() {
    var params = new URLSearchParams(location.search);
    if (params.get('error')) {
      setStatus('Sign-in needed: ' + (params.get('error_description') || params.get('error')), true);
      showSignIn();
      return Promise.resolve();
    }
    var code = params.get('code');
    var verifier = sessionStorage.getItem('rmm.pkce_verifier');
    var expectedState = sessionStorage.getItem('rmm.pkce_state');
    if (!code || !verifier || params.get('state') !== expectedState) {
      setStatus('This sign-in link is not valid any more.', true);
      showSignIn();
      return Promise.resolve();
    }
    sessionStorage.removeItem('rmm.pkce_verifier');
    setStatus('Signing in…');
    return fetch(cfg.loginBase + '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'authorization_code', client_id: cfg.clientId, code: code,
        code_verifier: verifier, redirect_uri: cfg.redirectUri
      })
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error_description || body.error || 'token exchange failed'); }
        return body;
      });
    }).then(function (tokens) {
      sessionStorage.setItem(TOKEN_KEY, tokens.access_token);
      history.replaceState(null, '', '/');
      return showFleet(tokens.access_token);
    });
  }

  function start() {
    if (location.pathname === '/callback') { return finishLogin(); }
    var token = sessionStorage.getItem(TOKEN_KEY);
    var claims = token ? claimsOf(token) : {};
    if (!token || !claims.exp || claims.exp * 1000 <= Date.now()) {
      location.replace('/login');
      return Promise.resolve();
    }
    return showFleet(token);
  }

  start().catch(function (error) {
    setStatus(String(error && error.message ? error.message : error), true);
    showSignIn();
  });
})();
