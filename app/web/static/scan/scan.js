// Consumer scan page: remember the chosen language, so the next scanned code opens in it too.
(function () {
  "use strict";
  var link = document.querySelector("a.lang[data-lang]");
  if (!link) {
    return;
  }
  link.addEventListener("click", function () {
    var lang = link.getAttribute("data-lang") === "en" ? "en" : "zh";
    document.cookie = "lang=" + lang + "; path=/; max-age=31536000; SameSite=Lax";
  });
})();
