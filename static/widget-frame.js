/*
 * The help widget's chat window, inside the iframe the loader draws. It
 * never relies on cookies: the host page's loader hands over a single
 * sign-on token by postMessage, which becomes a short-lived bearer token for
 * the JSON API and the live socket (docs/widget.md).
 */
(() => {
  'use strict';

  const config = JSON.parse(document.getElementById('chamado-strings').textContent);
  const hostOrigin = config.origin;
  const body = document.getElementById('cw-body');
  const title = document.getElementById('cw-title');
  const backButton = document.getElementById('cw-back');
  const statusLine = document.getElementById('cw-status');

  const state = {
    access: null,
    me: null,
    view: 'loading',
    ticket: null,
    seen: new Set(),
    subs: new Map(),
    ws: null,
    wsReady: false,
    backoff: 1,
    reconnectTimer: null,
    triage: null,
    questions: [],
    files: [],
    listBefore: null,
  };
  let sessionPromise = null;
  let tokenWaiters = [];

  class AuthError extends Error {
    constructor(phone) {
      super('authentication');
      this.phone = phone;
    }
  }

  function tr(key, args) {
    let text = config.texts[key] || key;
    for (const [name, value] of Object.entries(args || {})) text = text.split('{' + name + '}').join(value);
    return text;
  }

  /* Builds an element; `props` sets attributes (`text` sets the text). */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function announce(text) {
    statusLine.textContent = text;
  }

  /* ---------- the host page ---------- */

  function toHost(message) {
    window.parent.postMessage(message, hostOrigin);
  }

  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    const data = event.data || {};
    if (data.type === 'chamado:token' && typeof data.token === 'string') {
      tokenWaiters.splice(0).forEach((w) => w.resolve(data.token));
    } else if (data.type === 'chamado:token-error') {
      tokenWaiters.splice(0).forEach((w) => w.reject(new AuthError()));
    } else if (data.type === 'chamado:open') {
      focusView();
    }
  });

  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      toHost({ type: 'chamado:close' });
    }
  });
  document.getElementById('cw-close').addEventListener('click', () => toHost({ type: 'chamado:close' }));
  backButton.addEventListener('click', () => {
    if (state.view === 'ticket') showTickets();
    else showHome();
  });

  function hostToken() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new AuthError()), 15000);
      tokenWaiters.push({
        resolve: (t) => { clearTimeout(timer); resolve(t); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      if (tokenWaiters.length === 1) toHost({ type: 'chamado:need-token' });
    });
  }

  /* ---------- session and API ---------- */

  function session(renew) {
    if (state.access && !renew) return Promise.resolve(state.access);
    if (!sessionPromise) {
      sessionPromise = (async () => {
        const jwt = await hostToken();
        const response = await fetch('/widget/session', {
          method: 'POST',
          credentials: 'omit',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ token: jwt, origin: hostOrigin }),
        });
        const data = await response.json().catch(() => ({}));
        if (!response.ok) throw new AuthError(data.phone);
        state.access = data.access_token;
        return state.access;
      })().finally(() => { sessionPromise = null; });
    }
    return sessionPromise;
  }

  async function api(method, path, payload) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = await session(attempt > 0);
      const headers = { Authorization: 'Bearer ' + token, Accept: 'application/json' };
      let requestBody;
      if (payload instanceof FormData) requestBody = payload;
      else if (payload !== undefined) {
        headers['Content-Type'] = 'application/json';
        requestBody = JSON.stringify(payload);
      }
      const response = await fetch(path, { method, headers, body: requestBody, credentials: 'omit' });
      if (response.status === 401) {
        state.access = null;
        continue;
      }
      const data = await response.json().catch(() => ({}));
      return { status: response.status, ok: response.ok, data };
    }
    throw new AuthError();
  }

  function failed(error) {
    if (error instanceof AuthError) showAuthProblem(error.phone);
    else announce(tr('error_generic'));
  }

  /* ---------- views ---------- */

  function setView(name, heading) {
    state.view = name;
    if (name !== 'ticket') {
      if (state.ticket) unsubscribe(state.ticket.id);
      state.ticket = null;
    }
    backButton.hidden = name === 'home' || name === 'auth' || name === 'loading';
    body.replaceChildren();
    body.setAttribute('aria-busy', 'false');
    title.textContent = heading || config.product;
    announce('');
  }

  function focusView() {
    const target = body.querySelector('[data-autofocus]') || body.querySelector('button, a[href], textarea, input') || title;
    target.focus();
  }

  function orgLink() {
    return el('a', {
      class: 'cw-org-link', href: '/portal/tickets?view=org', target: '_blank', rel: 'noopener',
      text: tr('org_link'), onclick: (event) => openPortal(event, '/portal/tickets?view=org'),
    });
  }

  /* Opens a portal page in a new tab, signed in: the tab is opened now,
     inside the click (pop-up blockers allow that), and sent to the
     single-use hand-off address once the API gave it. */
  function openPortal(event, returnTo) {
    event.preventDefault();
    const tab = window.open('', '_blank');
    if (!tab) {
      announce(tr('popup_blocked'));
      return;
    }
    api('POST', '/widget/api/handoff', { return_to: returnTo }).then((res) => {
      if (!res.ok || !res.data.url) throw new Error('handoff ' + res.status);
      try { tab.opener = null; } catch (_) { /* already detached */ }
      tab.location.href = new URL(res.data.url, location.origin).href;
    }).catch((error) => {
      tab.close();
      failed(error);
    });
  }

  function showHome() {
    setView('home', config.product);
    const name = state.me && state.me.name ? state.me.name.split(' ')[0] : '';
    body.append(
      el('p', { class: 'cw-greeting', text: name ? tr('greeting', { name }) : tr('greeting_anonymous') }),
      el('div', { class: 'cw-actions' },
        el('button', { type: 'button', class: 'cw-primary', id: 'cw-new', 'data-autofocus': true, text: tr('new_ticket'), onclick: startTriage }),
        el('button', { type: 'button', class: 'cw-secondary', id: 'cw-tickets', text: tr('tickets'), onclick: showTickets })),
      el('p', { class: 'cw-org' }, orgLink()),
    );
  }

  function showAuthProblem(phone) {
    setView('auth', config.product);
    const number = phone || config.phone;
    const tel = phone ? phone.replace(/[^0-9+]/g, '') : config.phoneTel;
    body.append(el('section', { class: 'cw-auth', role: 'alert' },
      el('h2', { text: tr('auth_title') }),
      el('ol', {}, el('li', { text: tr('auth_logout') }), el('li', { text: tr('auth_login') })),
      el('p', {}, tr('auth_phone') + ' ', el('a', { class: 'cw-phone', href: 'tel:' + tel, text: number }))));
  }

  function badge(status, label) {
    return el('span', { class: 'cw-badge status-' + status, 'data-status': status, text: label });
  }

  /* ---------- ticket history ---------- */

  async function showTickets() {
    setView('tickets', tr('my_tickets'));
    const list = el('ul', { class: 'cw-list', id: 'cw-ticket-list' });
    const more = el('button', { type: 'button', class: 'cw-secondary cw-more', hidden: true, text: tr('more'), onclick: () => loadTickets(list, more) });
    body.append(el('p', { class: 'cw-org' }, orgLink()), list, more);
    state.listBefore = null;
    await loadTickets(list, more);
  }

  async function loadTickets(list, more) {
    body.setAttribute('aria-busy', 'true');
    try {
      const query = state.listBefore ? '?before=' + encodeURIComponent(state.listBefore) : '';
      const res = await api('GET', '/widget/api/tickets' + query);
      if (state.view !== 'tickets') return;
      if (!res.ok) throw new Error('tickets ' + res.status);
      for (const ticket of res.data.tickets) {
        list.append(el('li', {}, el('button', {
          type: 'button', class: 'cw-ticket', 'data-ticket': ticket.id, onclick: () => showTicket(ticket.id),
        },
        el('span', { class: 'cw-ticket-top' },
          el('span', { class: 'cw-num', text: ticket.number }),
          badge(ticket.status, ticket.status_label)),
        el('span', { class: 'cw-subject', text: ticket.subject }),
        el('span', { class: 'cw-meta', text: tr('opened_at', { date: ticket.created_at }) + ' · ' + ticket.type_label }))));
      }
      if (!list.children.length) list.append(el('li', { class: 'cw-empty', text: tr('no_tickets') }));
      state.listBefore = res.data.next_before;
      more.hidden = !res.data.next_before;
    } catch (error) {
      failed(error);
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }

  /* ---------- one ticket's conversation ---------- */

  async function showTicket(id) {
    setView('ticket', config.product);
    body.setAttribute('aria-busy', 'true');
    let res;
    try {
      res = await api('GET', '/widget/api/tickets/' + encodeURIComponent(id));
    } catch (error) {
      failed(error);
      return;
    }
    if (state.view !== 'ticket') return;
    body.setAttribute('aria-busy', 'false');
    if (!res.ok) {
      announce(tr('error_generic'));
      return;
    }
    const ticket = res.data.ticket;
    state.ticket = ticket;
    title.textContent = ticket.number;
    const log = el('div', { class: 'cw-log', id: 'cw-log', role: 'log', 'aria-live': 'polite', 'aria-label': ticket.subject });
    for (const message of res.data.messages) addMessage(log, message);
    const head = el('div', { class: 'cw-ticket-head' },
      el('h2', { id: 'cw-ticket-subject', tabindex: '-1', text: ticket.subject }),
      el('p', { class: 'cw-meta' }, badge(ticket.status, ticket.status_label), ' ' + ticket.type_label + (ticket.organization ? ' · ' + ticket.organization : '')),
      el('a', { class: 'cw-portal-link', href: ticket.portal_url, target: '_blank', rel: 'noopener', text: tr('open_in_portal'), onclick: (e) => openPortal(e, ticket.portal_url) }));
    body.append(head, log, composer(ticket));
    log.scrollTop = log.scrollHeight;
    subscribe(ticket.id, res.data.last_event_id || 0);
    focusView();
  }

  function addMessage(log, message) {
    if (message.event_id && state.seen.has(message.event_id)) return;
    if (message.event_id) state.seen.add(message.event_id);
    const who = message.from_support ? message.author : tr('you');
    const html = el('div', { class: 'cw-html' });
    html.innerHTML = message.html; // sanitized by the server
    log.append(el('div', { class: 'cw-msg ' + (message.from_support ? 'from-support' : 'from-me'), 'data-event': message.event_id },
      el('p', { class: 'cw-author' }, el('strong', { text: who }), ' · ' + message.at),
      html));
    log.scrollTop = log.scrollHeight;
  }

  function composer(ticket) {
    if (!ticket.can_reply) return el('p', { class: 'cw-note', text: ticket.reply_note || tr('no_reply') });
    const area = el('textarea', { id: 'cw-reply', name: 'body', rows: '2', 'aria-describedby': 'cw-reply-hint', 'data-autofocus': true });
    const error = el('p', { class: 'cw-error', id: 'cw-reply-error', role: 'alert', hidden: true });
    const form = el('form', { class: 'cw-composer', novalidate: true },
      el('label', { for: 'cw-reply', text: tr('composer_label') }),
      el('div', { class: 'cw-composer-row' }, area, el('button', { type: 'submit', class: 'cw-primary', text: tr('send') })),
      el('p', { class: 'cw-hint', id: 'cw-reply-hint', text: tr('composer_hint') }),
      error);
    area.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = area.value.trim();
      if (!text) return;
      error.hidden = true;
      area.disabled = true;
      try {
        const res = await api('POST', '/widget/api/tickets/' + ticket.id + '/messages', { body: area.value });
        if (res.status === 201) {
          area.value = '';
          const log = document.getElementById('cw-log');
          if (log) addMessage(log, res.data.message);
        } else {
          error.textContent = (res.data.fields && res.data.fields.body) || res.data.message || tr('error_generic');
          error.hidden = false;
        }
      } catch (err) {
        failed(err);
      } finally {
        area.disabled = false;
        area.focus();
      }
    });
    return form;
  }

  function onStatus(frame) {
    if (!state.ticket || state.ticket.id !== frame.ticket) return;
    if (state.seen.has(frame.event_id)) return;
    state.seen.add(frame.event_id);
    const current = body.querySelector('.cw-ticket-head .cw-badge');
    if (current) current.replaceWith(badge(frame.status, frame.status_label));
    const log = document.getElementById('cw-log');
    if (log) {
      log.append(el('div', { class: 'cw-event', text: tr('status_changed', { status: frame.status_label }) }));
      log.scrollTop = log.scrollHeight;
    }
  }

  /* ---------- live updates ---------- */

  function subscribe(ticket, after) {
    const known = state.subs.get(ticket) || 0;
    state.subs.set(ticket, Math.max(known, after));
    if (state.wsReady) state.ws.send(JSON.stringify({ type: 'subscribe', ticket, after: state.subs.get(ticket) }));
  }

  function unsubscribe(ticket) {
    state.subs.delete(ticket);
    if (state.wsReady) state.ws.send(JSON.stringify({ type: 'unsubscribe', ticket }));
  }

  function noteEvent(ticket, eventId) {
    if (state.subs.has(ticket) && eventId > state.subs.get(ticket)) state.subs.set(ticket, eventId);
  }

  function connect() {
    if (state.ws) return;
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/widget/ws');
    state.ws = ws;
    let pinger = null;
    ws.addEventListener('open', () => {
      session(false).then((token) => ws.send(JSON.stringify({ type: 'auth', token })), () => ws.close());
    });
    ws.addEventListener('message', (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      switch (frame.type) {
        case 'ready':
          state.wsReady = true;
          state.backoff = 1;
          announce('');
          for (const [ticket, after] of state.subs) ws.send(JSON.stringify({ type: 'subscribe', ticket, after }));
          pinger = setInterval(() => ws.send(JSON.stringify({ type: 'ping' })), 25000);
          break;
        case 'message':
          noteEvent(frame.ticket, frame.event_id);
          if (state.ticket && state.ticket.id === frame.ticket) {
            const log = document.getElementById('cw-log');
            if (log) addMessage(log, Object.assign({ event_id: frame.event_id }, frame.message));
          }
          break;
        case 'status':
          noteEvent(frame.ticket, frame.event_id);
          onStatus(frame);
          break;
        case 'tickets_changed':
          if (state.view === 'tickets') showTickets();
          break;
        case 'triage':
          onTriageFrame(frame);
          break;
        default:
          break;
      }
    });
    ws.addEventListener('close', (event) => {
      clearInterval(pinger);
      state.ws = null;
      state.wsReady = false;
      if (event.code === 4401) state.access = null;
      if (state.view === 'ticket') announce(tr('reconnecting'));
      const delay = state.backoff;
      state.backoff = Math.min(state.backoff * 2, 30);
      clearTimeout(state.reconnectTimer);
      state.reconnectTimer = setTimeout(connect, delay * 1000);
    });
  }

  /* ---------- triage: the new ticket as a conversation ---------- */

  let chat = null;
  let inputArea = null;

  function bot(text, extra) {
    const bubble = el('div', { class: 'cw-msg from-bot' + (extra ? ' ' + extra : '') }, el('p', { text }));
    chat.append(bubble);
    chat.scrollTop = chat.scrollHeight;
    return bubble;
  }

  function mine(text) {
    chat.append(el('div', { class: 'cw-msg from-me' }, el('p', { text })));
    chat.scrollTop = chat.scrollHeight;
  }

  function question(key) {
    return state.questions.find((q) => q.key === key);
  }

  function answerText(q, value) {
    if (value === '') return tr('skip');
    const option = (q.options || []).find((o) => String(o.value) === String(value));
    return option ? option.text : value;
  }

  async function startTriage() {
    setView('triage', tr('new_ticket'));
    chat = el('div', { class: 'cw-log cw-chat', id: 'cw-chat', role: 'log', 'aria-live': 'polite', 'aria-label': tr('new_ticket') });
    inputArea = el('div', { class: 'cw-input', id: 'cw-triage-input' });
    body.append(chat, inputArea);
    state.files = [];
    try {
      let res = await api('GET', '/widget/api/triage');
      if (res.ok && !res.data.triage) res = await api('POST', '/widget/api/triage');
      if (!res.ok || !res.data.triage) throw new Error('triage ' + res.status);
      if (state.view !== 'triage') return;
      state.triage = res.data.triage;
      state.questions = res.data.questions || [];
      bot(tr('triage_intro'));
      for (const q of state.questions) {
        if (Object.prototype.hasOwnProperty.call(state.triage.answers || {}, q.key)) {
          bot(q.text);
          mine(answerText(q, state.triage.answers[q.key]));
        }
      }
      if (state.triage.reminded) bot(tr('reminded'), 'cw-reminder');
      ask();
    } catch (error) {
      failed(error);
    }
  }

  function ask(errorText) {
    inputArea.replaceChildren();
    const key = state.triage.next;
    if (key === null || key === undefined) {
      complete([]);
      return;
    }
    const q = question(key);
    if (!q) {
      complete([]);
      return;
    }
    if (!errorText) bot(q.text);
    if (q.kind === 'choice' || q.kind === 'organization') {
      const group = el('div', { class: 'cw-choices', role: 'group', 'aria-label': q.text });
      q.options.forEach((option, index) => group.append(el('button', {
        type: 'button', class: 'cw-choice', 'data-value': option.value, 'data-autofocus': index === 0,
        text: option.text, onclick: () => answer(q, String(option.value)),
      })));
      inputArea.append(group);
    } else if (q.kind === 'attachment') {
      inputArea.append(filePicker(q));
    } else {
      const field = el('textarea', { id: 'cw-answer', rows: '2', 'data-autofocus': true, 'aria-label': q.text, 'aria-describedby': 'cw-answer-hint' });
      const form = el('form', { class: 'cw-composer', novalidate: true },
        el('label', { for: 'cw-answer', class: 'cw-sr', text: tr('answer_label') }),
        el('div', { class: 'cw-composer-row' }, field, el('button', { type: 'submit', class: 'cw-primary', text: tr('send') })),
        el('p', { class: 'cw-hint', id: 'cw-answer-hint', text: tr('composer_hint') }));
      field.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        answer(q, field.value);
      });
      inputArea.append(form);
    }
    if (!q.mandatory && q.kind !== 'attachment') {
      inputArea.append(el('button', { type: 'button', class: 'cw-secondary cw-skip', text: tr('skip'), onclick: () => answer(q, '') }));
    }
    focusInput();
  }

  function focusInput() {
    const target = inputArea.querySelector('[data-autofocus]') || inputArea.querySelector('button, textarea, input');
    if (target) target.focus();
  }

  async function answer(q, value) {
    inputArea.querySelectorAll('button, textarea, input').forEach((n) => { n.disabled = true; });
    try {
      const res = await api('POST', '/widget/api/triage/' + state.triage.id + '/answers', { key: q.key, value });
      if (res.ok) {
        mine(answerText(q, value));
        state.triage = res.data.triage;
        state.questions = res.data.questions || state.questions;
        ask();
      } else if (res.status === 422) {
        const message = (res.data.fields && (res.data.fields[q.key] || Object.values(res.data.fields)[0])) || tr('error_generic');
        bot(message, 'cw-error-bubble');
        ask(message);
      } else if (res.status === 409) {
        closedTriage(res.data.message || tr('triage_closed'));
      } else {
        throw new Error('answer ' + res.status);
      }
    } catch (error) {
      failed(error);
      inputArea.querySelectorAll('button, textarea, input').forEach((n) => { n.disabled = false; });
    }
  }

  function filePicker(q) {
    const wrap = el('div', { class: 'cw-files' });
    const input = el('input', { type: 'file', id: 'cw-file-input', multiple: true, class: 'cw-file-input', 'data-autofocus': true });
    const list = el('ul', { class: 'cw-file-list' });
    const send = el('button', { type: 'button', class: 'cw-primary', id: 'cw-send-files', text: tr('send_files'), disabled: true });
    const refresh = () => {
      list.replaceChildren(...state.files.map((file, index) => el('li', {},
        el('span', { text: file.name }),
        el('button', {
          type: 'button', class: 'cw-remove', 'aria-label': tr('remove_file', { name: file.name }), text: '×',
          onclick: () => { state.files.splice(index, 1); refresh(); },
        }))));
      send.disabled = state.files.length === 0;
    };
    input.addEventListener('change', () => {
      for (const file of input.files) {
        if (file.size > config.maxFileBytes) bot(tr('file_too_big', { name: file.name }), 'cw-error-bubble');
        else if (state.files.length >= config.maxFiles) bot(tr('too_many_files', { count: String(config.maxFiles) }), 'cw-error-bubble');
        else state.files.push(file);
      }
      input.value = '';
      refresh();
    });
    send.addEventListener('click', () => {
      mine(state.files.map((f) => f.name).join(', '));
      complete(state.files.slice());
    });
    wrap.append(el('label', { class: 'cw-file-label', for: 'cw-file-input', text: tr('attach_label') }), input, list);
    const actions = el('div', { class: 'cw-actions' }, send);
    if (!q.mandatory) actions.append(el('button', { type: 'button', class: 'cw-secondary cw-skip', text: tr('skip'), onclick: () => answer(q, '') }));
    wrap.append(actions);
    return wrap;
  }

  async function complete(files) {
    inputArea.replaceChildren();
    bot(tr('creating'));
    const form = new FormData();
    for (const file of files) form.append('files', file, file.name);
    try {
      const res = await api('POST', '/widget/api/triage/' + state.triage.id + '/complete', form);
      if (res.status === 201) {
        const ticket = res.data.ticket;
        state.triage = null;
        state.files = [];
        const bubble = bot(tr('created', { number: ticket.number }), 'cw-created');
        bubble.append(el('p', {}, el('a', { href: ticket.url, target: '_blank', rel: 'noopener', class: 'cw-created-link', text: tr('view_ticket'), onclick: (e) => openPortal(e, ticket.url) })));
        inputArea.append(el('div', { class: 'cw-actions' },
          el('button', { type: 'button', class: 'cw-secondary', 'data-autofocus': true, text: tr('tickets'), onclick: showTickets })));
        focusInput();
      } else if (res.status === 422) {
        const fields = res.data.fields || {};
        bot(Object.values(fields)[0] || tr('error_generic'), 'cw-error-bubble');
        const again = await api('GET', '/widget/api/triage');
        if (again.ok && again.data.triage) {
          state.triage = again.data.triage;
          ask();
        }
      } else if (res.status === 409) {
        closedTriage(res.data.message || tr('triage_closed'));
      } else {
        throw new Error('complete ' + res.status);
      }
    } catch (error) {
      failed(error);
    }
  }

  function closedTriage(text) {
    state.triage = null;
    bot(text);
    inputArea.replaceChildren(el('div', { class: 'cw-actions' },
      el('button', { type: 'button', class: 'cw-primary', 'data-autofocus': true, text: tr('start_again'), onclick: startTriage }),
      el('button', { type: 'button', class: 'cw-secondary', text: tr('tickets'), onclick: showTickets })));
    focusInput();
  }

  function onTriageFrame(frame) {
    if (state.view !== 'triage' || !state.triage || state.triage.id !== frame.id) return;
    if (frame.state === 'reminded') {
      bot(tr('reminded'), 'cw-reminder');
    } else if (frame.state === 'abandoned') {
      closedTriage(tr('abandoned'));
    }
  }

  /* ---------- start ---------- */

  async function boot() {
    toHost({ type: 'chamado:ready' });
    try {
      const res = await api('GET', '/widget/api/me');
      if (!res.ok) throw new Error('me ' + res.status);
      state.me = res.data;
      if (res.data.support_phone) config.phone = res.data.support_phone;
      showHome();
      focusView();
      connect();
    } catch (error) {
      if (error instanceof AuthError) showAuthProblem(error.phone);
      else {
        setView('auth', config.product);
        body.append(el('p', { class: 'cw-error', role: 'alert', text: tr('error_generic') }));
      }
    }
  }

  boot();
})();
