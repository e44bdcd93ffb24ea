// Chamado agent workspace: live updates.
//
// Pages work without this script. With it, a page marked `data-live-page`
// listens to /agent/live (server-sent events) and, when something changes,
// fetches itself again and swaps the display regions marked
// `data-live="<name>"`. Regions holding form fields are never swapped, so
// what the agent is typing stays and the forms keep the version they were
// loaded with: saving over someone else's change is still refused. On the
// ticket page, a change by someone else is announced in the polite live
// region `#live-notice`.
(function () {
  'use strict';

  var root = document.querySelector('[data-live-page]');
  if (!root || !window.EventSource || !window.fetch || !window.DOMParser) {
    return;
  }
  var pageKind = root.getAttribute('data-live-page');
  var ticket = root.getAttribute('data-live-ticket');
  var notice = document.getElementById('live-notice');
  var DEBOUNCE_MS = 300;

  var timer = null;
  var running = false;
  var again = false;
  var waitingForVisible = false;
  var changes = [];
  var seen = new Set();

  function schedule() {
    if (document.hidden) {
      waitingForVisible = true;
      return;
    }
    if (timer !== null) {
      clearTimeout(timer);
    }
    timer = setTimeout(function () {
      timer = null;
      refresh();
    }, DEBOUNCE_MS);
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && waitingForVisible) {
      waitingForVisible = false;
      schedule();
    }
  });

  // What identifies the focused element again in the new copy of a region.
  function describe(element) {
    return {
      id: element.id,
      href: element.getAttribute('href'),
      tag: element.tagName
    };
  }

  function restoreFocus(region, wanted) {
    var target = null;
    if (wanted.id) {
      target = document.getElementById(wanted.id);
    }
    if (!target && wanted.href !== null) {
      var links = region.querySelectorAll(wanted.tag.toLowerCase() + '[href]');
      for (var i = 0; i < links.length; i += 1) {
        if (links[i].getAttribute('href') === wanted.href) {
          target = links[i];
          break;
        }
      }
    }
    if (target && region.contains(target)) {
      target.focus({ preventScroll: true });
    }
  }

  // Swaps every display region that changed; returns the names swapped.
  function swap(fresh) {
    var swapped = [];
    var x = window.scrollX;
    var y = window.scrollY;
    var regions = document.querySelectorAll('[data-live]');
    regions.forEach(function (old) {
      var name = old.getAttribute('data-live');
      var replacement = null;
      var candidates = fresh.querySelectorAll('[data-live]');
      for (var i = 0; i < candidates.length; i += 1) {
        if (candidates[i].getAttribute('data-live') === name) {
          replacement = candidates[i];
          break;
        }
      }
      if (!replacement || replacement.innerHTML === old.innerHTML) {
        return;
      }
      if (old.querySelector('form, input, textarea, select') ||
          replacement.querySelector('form, input, textarea, select')) {
        return;
      }
      var active = document.activeElement;
      var focused = active && old.contains(active) ? describe(active) : null;
      var imported = document.importNode(replacement, true);
      old.replaceWith(imported);
      if (focused) {
        restoreFocus(imported, focused);
      }
      swapped.push(name);
    });
    window.scrollTo(x, y);
    return swapped;
  }

  function announce(kinds) {
    if (!notice || kinds.length === 0) {
      return;
    }
    var labels = [];
    kinds.forEach(function (kind) {
      var label = notice.getAttribute('data-kind-' + kind);
      if (label && labels.indexOf(label) === -1) {
        labels.push(label);
      }
    });
    var text = notice.getAttribute('data-text') || '';
    if (labels.length > 0) {
      text += ': ' + labels.join(', ');
    }
    var paragraph = document.createElement('p');
    paragraph.className = 'notice';
    paragraph.textContent = text + '. ' + (notice.getAttribute('data-forms') || '');
    var reload = document.createElement('a');
    reload.href = window.location.pathname + window.location.search;
    reload.textContent = notice.getAttribute('data-reload') || '';
    paragraph.appendChild(document.createTextNode(' '));
    paragraph.appendChild(reload);
    notice.replaceChildren(paragraph);
  }

  function refresh() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    var kinds = changes;
    changes = [];
    fetch(window.location.href, {
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'text/html' }
    }).then(function (response) {
      var type = response.headers.get('content-type') || '';
      if (!response.ok || response.redirected || type.indexOf('text/html') !== 0) {
        throw new Error('not refreshed');
      }
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, 'text/html');
      var swapped = swap(fresh);
      // A change made while the stream was down shows in the audit trail.
      if (kinds.length === 0 && pageKind === 'ticket' && swapped.indexOf('audit') !== -1) {
        kinds = ['updated'];
      }
      announce(kinds);
    }).catch(function () {
      // The page stays as it is; the next change or reconnect tries again.
    }).then(function () {
      running = false;
      if (again) {
        again = false;
        schedule();
      }
    });
  }

  var url = '/agent/live';
  if (pageKind === 'ticket' && ticket) {
    url += '?ticket=' + encodeURIComponent(ticket);
  }
  var source = null;

  function connect() {
    source = new EventSource(url);
    // On every (re)connection, re-read once: whatever changed between the
    // page load (or the lost connection) and now is shown.
    source.addEventListener('open', schedule);
    source.addEventListener('ticket', function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (seen.has(data.event_id)) {
        return;
      }
      seen.add(data.event_id);
      if (pageKind === 'ticket') {
        if (String(data.ticket) !== ticket) {
          return;
        }
        if (!data.mine) {
          changes.push(String(data.kind));
        }
      }
      schedule();
    });
    source.addEventListener('resync', schedule);
  }

  connect();
  window.addEventListener('pagehide', function () {
    source.close();
  });
  window.addEventListener('pageshow', function (event) {
    if (event.persisted) {
      connect();
    }
  });
}());
