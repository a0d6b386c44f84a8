// The petition page's small enhancements. The page works without any of this: the count is in
// the HTML, the form posts normally, and the share link can be selected by hand.
(function () {
  "use strict";

  var PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹";
  var BASE_INTERVAL = 5000; // ms between polls, before jitter
  var MAX_INTERVAL = 30000; // a quiet petition is polled less and less often

  function formatNumber(n, language) {
    var grouped = String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    if (language !== "fa") return grouped;
    return grouped.replace(/,/g, "\u066c").replace(/\d/g, function (d) {
      return PERSIAN_DIGITS[+d];
    });
  }

  function animate(from, to, duration, step) {
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    if (reduce || from === to) {
      step(to);
      return;
    }
    var start = null;
    function frame(now) {
      if (start === null) start = now;
      var t = Math.min((now - start) / duration, 1);
      var eased = 1 - Math.pow(1 - t, 3);
      step(from + (to - from) * eased);
      if (t < 1) window.requestAnimationFrame(frame);
    }
    window.requestAnimationFrame(frame);
  }

  function liveCounter(box) {
    var url = box.getAttribute("data-count-url");
    var language = box.getAttribute("data-language") || document.documentElement.lang;
    var count = parseInt(box.getAttribute("data-count"), 10) || 0;
    var goal = parseInt(box.getAttribute("data-goal"), 10) || 0;
    var numbers = box.querySelectorAll("[data-counter]");
    var goals = box.querySelectorAll("[data-goal-text]");
    var meter = box.querySelector("meter");
    var interval = BASE_INTERVAL;
    var timer = null;
    var etag = null;

    function show(value) {
      var text = formatNumber(value, language);
      for (var i = 0; i < numbers.length; i++) numbers[i].textContent = text;
      if (meter) meter.value = value;
    }

    function update(data) {
      if (data.goal !== goal) {
        goal = data.goal;
        for (var i = 0; i < goals.length; i++) goals[i].textContent = formatNumber(goal, language);
        if (meter) meter.max = goal;
      }
      if (meter) {
        meter.setAttribute(
          "aria-valuetext",
          formatNumber(data.count, language) + " / " + formatNumber(goal, language)
        );
      }
      if (data.count !== count) {
        animate(count, data.count, 800, show);
        count = data.count;
        box.setAttribute("data-count", String(count));
        interval = BASE_INTERVAL;
      } else {
        interval = Math.min(interval * 1.5, MAX_INTERVAL);
      }
    }

    function schedule() {
      clearTimeout(timer);
      if (document.hidden) return; // a hidden tab costs the server nothing
      // Jitter spreads the polls of a crowd that opened the page at the same moment.
      var wait = interval * (0.8 + Math.random() * 0.4);
      timer = setTimeout(poll, wait);
    }

    function poll() {
      var headers = etag ? { "If-None-Match": etag } : {};
      fetch(url, { headers: headers, credentials: "omit" })
        .then(function (response) {
          if (response.status === 304) {
            interval = Math.min(interval * 1.5, MAX_INTERVAL);
            return null;
          }
          if (!response.ok) throw new Error(String(response.status));
          etag = response.headers.get("ETag");
          return response.json();
        })
        .then(function (data) {
          if (data) update(data);
        })
        .catch(function () {
          interval = Math.min(interval * 2, MAX_INTERVAL);
        })
        .then(schedule);
    }

    document.addEventListener("visibilitychange", function () {
      if (document.hidden) {
        clearTimeout(timer);
      } else {
        interval = BASE_INTERVAL;
        poll();
      }
    });
    schedule();
  }

  // One submission per click: a double click or an impatient second tap sends nothing more.
  function guardForms() {
    var forms = document.querySelectorAll("form[data-sign-form]");
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener("submit", function (event) {
        var form = event.currentTarget;
        if (form.getAttribute("data-submitting")) {
          event.preventDefault();
          return;
        }
        form.setAttribute("data-submitting", "1");
        var button = form.querySelector("button[type=submit]");
        if (button) button.setAttribute("aria-disabled", "true");
      });
    }
  }

  function copyButtons() {
    var buttons = document.querySelectorAll("[data-copy]");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      if (!navigator.clipboard) continue;
      button.hidden = false;
      button.addEventListener("click", function (event) {
        var source = document.querySelector(event.currentTarget.getAttribute("data-copy"));
        var target = event.currentTarget;
        navigator.clipboard.writeText(source.value).then(function () {
          target.textContent = target.getAttribute("data-copied");
        });
      });
    }
  }

  var boxes = document.querySelectorAll(".counter[data-count-url]");
  for (var i = 0; i < boxes.length; i++) liveCounter(boxes[i]);
  guardForms();
  copyButtons();
})();
