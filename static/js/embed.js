/* The loader other sites paste to show a petition:

     <a href="https://<our site>/en/p/<slug>/" data-petition-embed>The petition's title</a>
     <script src="https://<our site>/static/js/embed.js" async></script>

   Each such link to one of our petition pages becomes the petition's widget in a frame, or, with
   data-petition-embed="badge", its counter badge, and the frame follows the height its content
   reports (petition.js, reportHeight). Without the script the link stays a link, so a reader still
   reaches the petition. The loader sets no cookie, stores nothing and asks for nothing but the
   frame. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.URL) return;
  var origin = new URL(script.src).origin;
  var frames = [];
  var SIZES = { widget: [420, 1000], badge: [320, 360] };

  function frameFor(link) {
    var url;
    try {
      url = new URL(link.href);
    } catch (error) {
      return null;
    }
    // Only our own petition pages: a link elsewhere is left alone.
    if (url.origin !== origin || !/^\/[a-z]{2}\/p\/[^/]+\/?$/.test(url.pathname)) return null;
    var variant = link.getAttribute("data-petition-embed") === "badge" ? "badge" : "widget";
    var size = SIZES[variant];
    var frame = document.createElement("iframe");
    frame.src = origin + url.pathname.replace(/\/?$/, "/") + (variant === "badge" ? "badge/" : "embed/");
    frame.title = link.textContent.replace(/\s+/g, " ").trim();
    frame.setAttribute("loading", "lazy");
    frame.style.border = "0";
    frame.style.display = "block";
    frame.style.width = "100%";
    frame.style.maxWidth = size[0] + "px";
    frame.style.height = size[1] + "px";
    return frame;
  }

  function start() {
    var links = document.querySelectorAll("a[data-petition-embed]");
    for (var i = 0; i < links.length; i++) {
      var frame = frameFor(links[i]);
      if (!frame) continue;
      links[i].parentNode.replaceChild(frame, links[i]);
      frames.push(frame);
    }
  }

  // A height is believed only from our origin and only for the frame that sent it.
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data || typeof event.data.petitionEmbed !== "object") return;
    var height = Number(event.data.petitionEmbed.height);
    if (!(height > 0 && height < 10000)) return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) frames[i].style.height = height + "px";
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
