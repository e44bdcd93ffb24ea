/*
 * Chamado help widget loader. A host page embeds
 *   <script src="https://chamado.example.com/widget.js" data-token-url="/sso/chamado-token" async></script>
 * and gets the "Ajuda" (?) button; the chat window is an iframe of Chamado's
 * own origin, which receives the host's single sign-on token by postMessage.
 * See docs/widget.md.
 */
(function () {
  'use strict';

  var previous = window.Chamado;
  if (previous && previous.loaded) return;

  var script = document.currentScript;
  if (!script || !/\/widget\.js(\?|#|$)/.test(script.src || '')) {
    var candidates = document.querySelectorAll('script[src]');
    for (var i = candidates.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|#|$)/.test(candidates[i].src)) { script = candidates[i]; break; }
    }
  }
  if (!script) return;

  var base = new URL(script.src, document.baseURI).origin;
  var tokenUrl = script.getAttribute('data-token-url');
  var positions = ['top-right', 'top-left', 'bottom-right', 'bottom-left'];
  var position = script.getAttribute('data-position');
  if (positions.indexOf(position) < 0) position = 'top-right';
  var lang = script.getAttribute('data-lang') || document.documentElement.lang || navigator.language || 'pt-BR';
  lang = /^en/i.test(lang) ? 'en' : 'pt-BR';
  var texts = {
    'pt-BR': { button: 'Ajuda', frame: 'Ajuda: atendimento ao cliente' },
    en: { button: 'Help', frame: 'Help: customer support' }
  }[lang];

  var identify = null;
  var frame = null;
  var panel = null;
  var ready = false;
  var isOpen = false;
  var panelId = 'chamado-widget-panel';
  var top = position.indexOf('top') === 0;
  var left = position.indexOf('left') > 0;
  var narrow = window.matchMedia('(max-width: 480px)');

  function css(el, styles) {
    for (var key in styles) el.style.setProperty(key, styles[key]);
  }

  // The button: "? Ajuda", fixed at the chosen corner.
  var button = document.createElement('button');
  button.type = 'button';
  button.id = 'chamado-widget-button';
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', panelId);
  button.setAttribute('aria-haspopup', 'dialog');
  var mark = document.createElement('span');
  mark.setAttribute('aria-hidden', 'true');
  mark.textContent = '?';
  var label = document.createElement('span');
  label.textContent = texts.button;
  var badge = document.createElement('span');
  badge.hidden = true;
  button.appendChild(mark);
  button.appendChild(label);
  button.appendChild(badge);
  css(button, {
    position: 'fixed', 'z-index': '2147483000', display: 'inline-flex', 'align-items': 'center',
    gap: '8px', padding: '8px 14px 8px 8px', border: '2px solid #ffffff', 'border-radius': '999px',
    background: '#1f5fbf', color: '#ffffff', font: '600 15px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    cursor: 'pointer', 'box-shadow': '0 2px 10px rgba(0,0,0,.25)', margin: '0'
  });
  css(button, top ? { top: '12px' } : { bottom: '16px' });
  css(button, left ? { left: '16px' } : { right: '16px' });
  css(mark, {
    display: 'inline-flex', 'align-items': 'center', 'justify-content': 'center', width: '24px', height: '24px',
    'border-radius': '50%', background: '#ffffff', color: '#1f5fbf', 'font-weight': '800', 'font-size': '15px'
  });
  css(badge, {
    'min-width': '20px', height: '20px', padding: '0 6px', 'border-radius': '10px', background: '#b42318',
    color: '#ffffff', 'font-size': '12px', 'line-height': '20px', 'text-align': 'center'
  });
  button.addEventListener('focus', function () { css(button, { outline: '3px solid #ffbf47', 'outline-offset': '2px' }); });
  button.addEventListener('blur', function () { button.style.removeProperty('outline'); });
  button.addEventListener('click', function () { if (isOpen) close(false); else open(); });

  // Full screen on a narrow window: the page behind stops scrolling.
  var savedOverflow = null;
  function lockPage(lock) {
    var root = document.documentElement.style;
    if (lock && savedOverflow === null) {
      savedOverflow = root.getPropertyValue('overflow');
      root.setProperty('overflow', 'hidden');
    } else if (!lock && savedOverflow !== null) {
      if (savedOverflow) root.setProperty('overflow', savedOverflow);
      else root.removeProperty('overflow');
      savedOverflow = null;
    }
  }

  function placePanel() {
    if (!panel) return;
    lockPage(isOpen && narrow.matches);
    button.style.setProperty('visibility', isOpen && narrow.matches ? 'hidden' : 'visible');
    if (narrow.matches) {
      css(panel, { top: '0', left: '0', right: '0', bottom: '0', width: '100%', height: '100%', 'max-width': 'none', 'max-height': 'none', 'border-radius': '0', border: '0' });
    } else {
      css(panel, { width: '380px', height: '600px', 'max-height': 'calc(100vh - 80px)', 'max-width': 'calc(100vw - 32px)', 'border-radius': '12px', border: '1px solid #d9dee8' });
      panel.style.removeProperty(top ? 'bottom' : 'top');
      panel.style.removeProperty(left ? 'right' : 'left');
      css(panel, top ? { top: '64px' } : { bottom: '72px' });
      css(panel, left ? { left: '16px' } : { right: '16px' });
    }
  }
  if (narrow.addEventListener) narrow.addEventListener('change', placePanel);

  function createPanel() {
    panel = document.createElement('div');
    panel.id = panelId;
    panel.hidden = true;
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', texts.button);
    css(panel, {
      position: 'fixed', 'z-index': '2147483001', overflow: 'hidden', background: '#ffffff',
      'box-shadow': '0 8px 32px rgba(0,0,0,.3)'
    });
    frame = document.createElement('iframe');
    frame.title = texts.frame;
    frame.src = base + '/widget/frame?origin=' + encodeURIComponent(location.origin) + '&lang=' + encodeURIComponent(lang);
    frame.setAttribute('allow', 'clipboard-write');
    css(frame, { border: '0', width: '100%', height: '100%', display: 'block' });
    panel.appendChild(frame);
    document.body.appendChild(panel);
    placePanel();
  }

  function post(message) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage(message, base);
  }

  function open() {
    if (!panel) createPanel();
    isOpen = true;
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    placePanel();
    if (ready) {
      frame.focus();
      post({ type: 'chamado:open' });
    }
  }

  function close(fromFrame) {
    if (!panel || !isOpen) return;
    isOpen = false;
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    placePanel();
    if (fromFrame || panel.contains(document.activeElement) || document.activeElement === frame) button.focus();
  }

  function fetchToken() {
    if (identify) {
      return Promise.resolve().then(identify).then(function (token) {
        if (typeof token !== 'string' || !token) throw new Error('no token');
        return token;
      });
    }
    if (!tokenUrl) return Promise.reject(new Error('no data-token-url'));
    return fetch(tokenUrl, { credentials: 'include', cache: 'no-store', headers: { Accept: 'application/json, text/plain' } })
      .then(function (response) {
        if (!response.ok) throw new Error('token endpoint answered ' + response.status);
        return response.text();
      })
      .then(function (body) {
        var text = body.trim();
        if (text.charAt(0) === '{') {
          var parsed = JSON.parse(text);
          text = parsed && typeof parsed.token === 'string' ? parsed.token : '';
        }
        if (!text) throw new Error('empty token');
        return text;
      });
  }

  window.addEventListener('message', function (event) {
    if (event.origin !== base || !frame || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || typeof data.type !== 'string') return;
    switch (data.type) {
      case 'chamado:ready':
        ready = true;
        if (isOpen) {
          frame.focus();
          post({ type: 'chamado:open' });
        }
        break;
      case 'chamado:need-token':
        fetchToken().then(
          function (token) { post({ type: 'chamado:token', token: token }); },
          function () { post({ type: 'chamado:token-error' }); }
        );
        break;
      case 'chamado:close':
        close(true);
        break;
      case 'chamado:unread':
        var count = Number(data.count) || 0;
        badge.hidden = count <= 0;
        badge.textContent = count > 0 ? String(count) : '';
        break;
    }
  });

  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && isOpen && document.activeElement === button) close(true);
  });

  function command(name, arg) {
    if (name === 'identify' && typeof arg === 'function') identify = arg;
    else if (name === 'open') open();
    else if (name === 'close') close(false);
  }

  function api() { command.apply(null, arguments); }
  api.loaded = true;
  var queued = previous && previous.q ? previous.q : [];
  window.Chamado = api;

  function mount() {
    document.body.appendChild(button);
    for (var j = 0; j < queued.length; j++) command.apply(null, queued[j]);
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
