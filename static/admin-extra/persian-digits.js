// The admin's selection counter ("3 of 50 selected") is written by Django's actions.js with Latin
// digits; on the Persian admin show them in Persian digits, as everything else.
(function () {
  "use strict";
  var PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
  var SELECTORS = ".actions .action-counter, .actions .all, .actions .question a";

  function persianDigits(node) {
    var text = node.textContent;
    var shown = text.replace(/[0-9]/g, function (d) { return PERSIAN[d]; });
    if (shown !== text) node.textContent = shown;
  }

  function convertAll() {
    document.querySelectorAll(SELECTORS).forEach(persianDigits);
  }

  document.addEventListener("DOMContentLoaded", function () {
    convertAll();
    var observer = new MutationObserver(function () {
      observer.disconnect();
      convertAll();
      observe();
    });
    function observe() {
      document.querySelectorAll(SELECTORS).forEach(function (el) {
        observer.observe(el, { childList: true, characterData: true, subtree: true });
      });
    }
    observe();
  });
})();
