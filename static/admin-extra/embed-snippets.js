// Copy buttons for the petition's embed code in the admin and on the starter's page (templates/petitions/_embed_snippets.html); without a clipboard the
// buttons stay hidden and the code is selected by hand.
// The admin puts its media in the <head>, before the buttons exist: start once the page is parsed.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  if (!navigator.clipboard) return;
  var buttons = document.querySelectorAll("[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (event) {
      var button = event.currentTarget;
      var source = document.querySelector(button.getAttribute("data-copy"));
      navigator.clipboard.writeText(source.value).then(function () {
        var status = document.querySelector("[data-copy-status]");
        if (status) status.textContent = button.getAttribute("data-copied");
      });
    });
  }
});
