// A form that came back with errors: focus the error summary, so a screen reader reads it first
// and a keyboard user starts there (as the NHS.UK frontend's error summary does).
(function () {
  "use strict";
  var summary = document.querySelector(".nhsuk-error-summary");
  if (summary) summary.focus();
})();

// Progressive enhancement: when a case this person may see changes, refresh the page's live
// regions (the elements with data-live, in page order) from the server; forms outside them keep
// what is typed. Without JavaScript the page works as it is.
(function () {
  "use strict";
  var regions = document.querySelectorAll("[data-live]");
  if (regions.length === 0 || !window.EventSource) return;
  var pending = null;
  function refresh() {
    pending = null;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelectorAll("[data-live]");
        if (fresh.length !== regions.length) return;
        for (var i = 0; i < regions.length; i++) {
          regions[i].innerHTML = fresh[i].innerHTML;
          regions[i].setAttribute("data-refreshed", String(Date.now()));
        }
      })
      .catch(function () {});
  }
  var source = new EventSource("/live");
  source.addEventListener("change", function () {
    // Many events at once (an import) make one refresh.
    if (pending === null) pending = window.setTimeout(refresh, 300);
  });
})();
