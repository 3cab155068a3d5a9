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
    if (status === 400 || status === 403 || status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
