// Every htmx request carries the CSRF token from the page's meta tag; a 400 from an expired
// token swaps in a message and sends a fresh token, which we store for the next request.
(function () {
  function token() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }
  document.addEventListener('htmx:configRequest', function (event) {
    event.detail.headers['X-CSRFToken'] = token();
  });
  document.addEventListener('htmx:afterRequest', function (event) {
    var fresh = event.detail.xhr && event.detail.xhr.getResponseHeader('X-CSRFToken');
    if (fresh) {
      document.querySelector('meta[name="csrf-token"]').setAttribute('content', fresh);
      document.querySelectorAll('input[name="csrf_token"]').forEach(function (input) {
        input.value = fresh;
      });
    }
  });
  // htmx does not swap 4xx answers by default; ours carry a message worth showing.
  document.addEventListener('htmx:beforeSwap', function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500 && status !== 404) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // JSON editors: textarea[data-json="list"|"object"] must parse before the form is sent.
  function checkJson(area) {
    var text = area.value.trim();
    var message = '';
    if (text) {
      try {
        var value = JSON.parse(text);
        var kind = area.getAttribute('data-json');
        if (kind === 'list' && !Array.isArray(value)) message = 'expected a JSON list, like [1, 2]';
        if (kind === 'object' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
          message = 'expected a JSON object, like {"key": 1}';
        }
      } catch (error) {
        message = 'not valid JSON: ' + error.message;
      }
    }
    area.setCustomValidity(message);
    area.classList.toggle('invalid', message !== '');
    var note = area.parentElement.querySelector('.field-error');
    if (!note) {
      note = document.createElement('div');
      note.className = 'field-error';
      area.parentElement.appendChild(note);
    }
    note.textContent = message;
    return message === '';
  }
  document.addEventListener('input', function (event) {
    if (event.target.matches && event.target.matches('textarea[data-json]')) checkJson(event.target);
  });
  document.addEventListener('submit', function (event) {
    var areas = event.target.querySelectorAll('textarea[data-json]');
    var ok = true;
    areas.forEach(function (area) { ok = checkJson(area) && ok; });
    if (!ok) { event.preventDefault(); event.target.reportValidity(); }
  }, true);

  // Live regions ([data-live-list]) refresh in one request, and hold still while the operator
  // is acting on them (rows ticked, or an action form open): a refresh would replace what they
  // are working on. The status line named by data-live-list says so; refreshing resumes after.
  function holdReason(list) {
    var scope = list.matches('tbody') ? list.closest('table') : list;
    if (!scope) return '';
    var ticked = scope.querySelectorAll('input[type=checkbox]:checked').length;
    if (ticked) {
      return 'Paused: ' + ticked + ' row' + (ticked === 1 ? '' : 's') +
        ' ticked. Live updates resume when nothing is ticked.';
    }
    if (scope.querySelector('details.hold[open]')) {
      return 'Paused while an action form is open. Live updates resume when it is closed.';
    }
    return '';
  }
  function showLiveStatus(list) {
    var reason = holdReason(list);
    var status = document.getElementById(list.getAttribute('data-live-list'));
    if (status) {
      status.textContent = reason || status.getAttribute('data-live-text');
      status.classList.toggle('paused', reason !== '');
    }
    return reason !== '';
  }
  document.addEventListener('htmx:beforeRequest', function (event) {
    var list = event.detail.elt;
    if (list.matches && list.matches('[data-live-list]') && showLiveStatus(list)) {
      event.preventDefault();
    }
  });
  function onHold(event) {
    var list = event.target.closest && event.target.closest('[data-live-list]');
    if (!list) {
      var table = event.target.closest && event.target.closest('table');
      list = table && table.querySelector('[data-live-list]');
    }
    if (list) showLiveStatus(list);
  }
  document.addEventListener('change', function (event) {
    if (event.target.matches && event.target.matches('input[type=checkbox]')) onHold(event);
  });
  document.addEventListener('toggle', onHold, true);  // <details> toggles do not bubble
  // An action form that succeeded closes, before its answer asks the region to refresh.
  document.addEventListener('htmx:beforeOnLoad', function (event) {
    var form = event.detail.elt;
    var details = form.closest && form.closest('details.hold');
    if (details && event.detail.xhr.status < 400) details.open = false;
  });
  // Plain forms that change the fleet ask first: <form data-confirm="...">.
  document.addEventListener('submit', function (event) {
    var message = event.target.getAttribute && event.target.getAttribute('data-confirm');
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  // Trigger form: picking a task says where it goes. The queue field stays empty: only a
  // queue the operator types overrides the task's route.
  function showRoute(picker) {
    var option = picker.selectedOptions[0];
    var shown = document.getElementById('trigger-route');
    if (!shown) return;
    var route = option && option.getAttribute('data-route');
    shown.textContent = route ? 'Goes to ' + route + '.' : shown.getAttribute('data-empty');
  }
  document.addEventListener('change', function (event) {
    if (event.target.id === 'trigger-name') showRoute(event.target);
  });
  // a task picked before this script ran (a slow load, a form the browser restored)
  var picker = document.getElementById('trigger-name');
  if (picker && picker.value) showRoute(picker);
})();
