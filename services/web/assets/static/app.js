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

// A region still waiting for answers (data-poll: seconds) fetches itself again until the server
// draws it without data-poll (all answered, or given up). Without JavaScript, its Refresh link.
(function () {
  "use strict";
  var region = document.querySelector("[data-poll][id]");
  if (!region || !window.fetch) return;
  function later(seconds) {
    window.setTimeout(poll, Math.max(1, Number(seconds) || 5) * 1000);
  }
  var source = region.getAttribute("data-poll-src") || window.location.href;
  function poll() {
    fetch(source, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return later(10);
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(region.id);
        if (!fresh) return;
        region.innerHTML = fresh.innerHTML;
        region.setAttribute("data-refreshed", String(Date.now()));
        var seconds = fresh.getAttribute("data-poll");
        if (seconds) {
          later(seconds);
        } else {
          region.removeAttribute("data-poll");
        }
      })
      .catch(function () { later(10); });
  }
  later(region.getAttribute("data-poll"));
})();
