// The petition page's small enhancements. The page works without any of this: the count is in
// the HTML, the form posts normally, and the share link can be selected by hand.
(function () {
  "use strict";

  var PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹";
  var BASE_INTERVAL = 5000; // ms between polls, before jitter
  var MAX_INTERVAL = 30000; // a quiet petition is polled less and less often
  var ANNOUNCE_EVERY = 60000; // a screen reader hears the new count at most once a minute

  // The page's own language decides the digits, as it does for the numbers the server rendered.
  function pageLanguage() {
    return (document.documentElement.lang || "en").toLowerCase().split("-")[0];
  }

  function formatNumber(n, language) {
    var grouped = String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    if (language !== "fa") return grouped;
    return grouped.replace(/,/g, "\u066c").replace(/\d/g, function (d) {
      return PERSIAN_DIGITS[+d];
    });
  }

  // Fill a sentence the server translated, e.g. "{count} of {goal}" or «{count} از {goal}».
  function fill(template, count, goal, language) {
    return template
      .replace("{count}", formatNumber(count, language))
      .replace("{goal}", formatNumber(goal, language));
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

  // Which of the server's sentences fits a count: "Be the first…" (zero), "1 has signed…" (one)
  // or "52 have signed…" (other). Both languages' gettext plurals split at one this way.
  function sentenceForm(n) {
    if (n === 0) return "zero";
    return n === 1 ? "one" : "other";
  }

  function liveCounter(box) {
    var url = box.getAttribute("data-count-url");
    var language = pageLanguage();
    var count = parseInt(box.getAttribute("data-count"), 10) || 0;
    var goal = parseInt(box.getAttribute("data-goal"), 10) || 0;
    var line = box.querySelector(".counter__line");
    var form = sentenceForm(count);
    var numbers = box.querySelectorAll("[data-counter]");
    var goals = box.querySelectorAll("[data-goal-text]");
    var meter = box.querySelector("meter");
    // The threshold ticks share the meter's scale: 0 to the goal shown.
    var marks = box.querySelector("[data-threshold-marks]");
    var announcer = box.querySelector("[data-counter-announce]");
    var announced = count;
    var lastAnnounced = Date.now();
    var announceTimer = null;
    var interval = BASE_INTERVAL;
    var timer = null;
    var etag = null;

    function show(value) {
      var text = formatNumber(value, language);
      for (var i = 0; i < numbers.length; i++) numbers[i].textContent = text;
      if (meter) meter.value = value;
    }

    function showGoal() {
      var text = formatNumber(goal, language);
      for (var i = 0; i < goals.length; i++) goals[i].textContent = text;
      if (meter) meter.max = goal;
      if (marks) marks.setAttribute("viewBox", "0 0 " + goal + " 10");
    }

    // Swap in the sentence that fits the new count, e.g. the first signature turns "Be the first
    // to sign" into "1 has signed…", and the second "has" into "have".
    function fitSentence(newCount) {
      var wanted = sentenceForm(newCount);
      if (wanted === form || !line) return;
      var template = box.querySelector('template[data-counter-line="' + wanted + '"]');
      if (!template) return;
      line.textContent = "";
      line.appendChild(template.content.cloneNode(true));
      form = wanted;
      numbers = line.querySelectorAll("[data-counter]");
      goals = line.querySelectorAll("[data-goal-text]");
      showGoal();
    }

    function announce() {
      announceTimer = null;
      if (!announcer || count === announced) return;
      announcer.textContent = fill(announcer.getAttribute("data-template"), count, goal, language);
      announced = count;
      lastAnnounced = Date.now();
    }

    // A polite, quiet announcement: never more than once a minute, and only when the count moved.
    function scheduleAnnouncement() {
      if (!announcer || announceTimer !== null) return;
      var wait = Math.max(0, lastAnnounced + ANNOUNCE_EVERY - Date.now());
      announceTimer = setTimeout(announce, wait);
    }

    function update(data) {
      if (data.goal !== goal) {
        goal = data.goal;
        showGoal();
      }
      var description = meter && document.getElementById(meter.getAttribute("aria-describedby"));
      if (description) {
        var valueText = meter.getAttribute("data-valuetext");
        description.textContent = valueText
          ? fill(valueText, data.count, goal, language)
          : formatNumber(data.count, language) + " / " + formatNumber(goal, language);
      }
      var paperLine = box.querySelector("[data-counter-paper]");
      if (paperLine && typeof data.paper === "number") {
        // "52,222 online and 3,100 on paper": the online figure moves with every signature.
        paperLine.hidden = data.paper === 0;
        paperLine.textContent = paperLine
          .getAttribute("data-template")
          .replace("{online}", formatNumber(data.count - data.paper, language))
          .replace("{paper}", formatNumber(data.paper, language));
      }
      if (data.count !== count) {
        var from = count;
        fitSentence(data.count);
        show(from);
        animate(from, data.count, 800, show);
        count = data.count;
        box.setAttribute("data-count", String(count));
        interval = BASE_INTERVAL;
        scheduleAnnouncement();
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
  function guardForms(root) {
    var forms = root.querySelectorAll("form[data-sign-form]");
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

  // After a failed submit the error summary takes focus, so that it is read out first; each of
  // its links moves focus into the field it names (a plain #fragment link only scrolls).
  function errorSummary() {
    var summary = document.getElementById("form-errors");
    if (!summary) return;
    if (document.activeElement !== summary) summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
      if (!link) return;
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      var details = field.closest ? field.closest("details") : null;
      if (details) details.open = true;
      var label = document.querySelector("label[for='" + field.id + "']");
      (label || field).scrollIntoView({ block: "center" });
      field.focus({ preventScroll: true });
    });
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
          var status = document.querySelector("[data-copy-status]");
          if (status) status.textContent = target.getAttribute("data-copied");
        });
      });
    }
  }

  // Inside another site's page, the widget's form says which site that is: the address it was
  // loaded from (document.referrer, as the browser sent it), reduced to its host. The server
  // keeps the widget the same bytes for every site, so that one cache entry serves them all.
  function embedSource() {
    var field = document.querySelector("input[data-embed-source]");
    if (!field || field.value !== "widget" || !document.referrer) return;
    try {
      var host = new URL(document.referrer).host;
      if (host && host !== location.host) field.value = "widget:" + host;
    } catch (error) {
      // Not an address: the signature counts as the widget's, host unknown.
    }
  }

  // Framed by the loader (static/js/embed.js), the widget tells the page around it how tall it is,
  // so that it shows whole, without a scrollbar of its own, as its content changes (the optional
  // fields unfolded, errors, the thank-you state). Only a height goes out: nothing about the
  // reader. The loader checks that the message comes from its own frame and our origin.
  function reportHeight() {
    if (window.parent === window || !document.documentElement.classList.contains("embed")) return;
    var last = 0;
    function send() {
      var height = Math.ceil(document.body.getBoundingClientRect().height);
      if (height === last) return;
      last = height;
      window.parent.postMessage({ petitionEmbed: { height: height } }, "*");
    }
    send();
    window.addEventListener("load", send);
    if (window.ResizeObserver) new ResizeObserver(send).observe(document.body);
  }

  // The page and the widget are the same bytes for every reader, so any cache can serve them. A
  // browser that signed before gets its own sign box ("Sign as Sara K.", "You signed this") from
  // a small private answer, in place of the public form, unless the reader has begun typing.
  function personalBox() {
    var box = document.querySelector("[data-personal-url]");
    if (!box || !window.fetch) return;
    fetch(box.getAttribute("data-personal-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.status === 200 ? response.text() : "";
      })
      .then(function (html) {
        if (!html || typed(box)) return;
        var template = document.createElement("template");
        template.innerHTML = html;
        var own = template.content.querySelector(".sign-form");
        if (!own) return;
        box.parentNode.replaceChild(own, box);
        embedSource();
        guardForms(own);
      })
      .catch(function () {
        // The public form stays, and signs as well.
      });
  }

  function typed(box) {
    var fields = box.querySelectorAll("input[type=text], input[type=email], textarea");
    for (var i = 0; i < fields.length; i++) if (fields[i].value) return true;
    return false;
  }

  errorSummary();
  embedSource();
  reportHeight();
  var boxes = document.querySelectorAll(".counter[data-count-url]");
  for (var i = 0; i < boxes.length; i++) liveCounter(boxes[i]);
  guardForms(document);
  personalBox();
  copyButtons();
})();
