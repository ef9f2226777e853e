// Enhancements only: every page works without this file.
(function () {
  "use strict";

  // Quick exit. The button, Escape, or Shift pressed three times swaps this page for a
  // neutral one with location.replace(), so Back does not return here. The page is hidden
  // first, in case the neutral site is slow to load. Without JavaScript the button is a
  // plain link, and the page does not mention the keys (they are shown from here).
  var exitLink = document.getElementById("quick-exit");

  function quickExit(event) {
    if (event) {
      event.preventDefault();
    }
    document.documentElement.classList.add("exiting");
    document.title = "";
    window.location.replace(exitLink ? exitLink.href : "https://www.google.com/search?q=weather");
  }

  if (exitLink) {
    exitLink.addEventListener("click", quickExit);
  }
  document.querySelectorAll("[data-keys]").forEach(function (hint) {
    hint.hidden = false;
  });

  // Escape in a box holding text empties the box (a search box does so by itself), as a
  // caseworker starting a new search expects; Escape anywhere else leaves.
  function clearsText(target) {
    var typing = target && (target.tagName === "TEXTAREA" ||
      (target.tagName === "INPUT" && /^(text|search|email|tel|url|number)$/.test(target.type)));
    return typing && !target.readOnly && target.value !== "";
  }

  var shiftPresses = 0;
  var lastShift = 0;

  document.addEventListener(
    "keydown",
    function (event) {
      if (event.isComposing) {
        return;
      }
      if (event.key === "Escape") {
        if (clearsText(event.target)) {
          if (event.target.type !== "search") {
            event.target.value = "";
          }
          return;
        }
        quickExit(event);
        return;
      }
      // Shift three times in a row, each within a second of the last (as GOV.UK's
      // "Exit this page"); any other key starts the count again.
      if (event.key === "Shift" && !event.repeat) {
        var now = Date.now();
        shiftPresses = now - lastShift < 1000 ? shiftPresses + 1 : 1;
        lastShift = now;
        if (shiftPresses >= 3) {
          quickExit(event);
        }
      } else {
        shiftPresses = 0;
      }
    },
    true
  );

  // Filters start open on wide screens, where they sit beside the results.
  var panel = document.querySelector("details.filter-panel");
  if (panel && window.matchMedia("(min-width: 56em)").matches) {
    panel.open = true;
  }

  // Print button on the list page.
  var printButton = document.querySelector("[data-print]");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () {
      window.print();
    });
  }

  // Copy button for the plain-text list.
  var copyButton = document.querySelector("[data-copy]");
  if (copyButton) {
    var source = document.getElementById(copyButton.getAttribute("data-copy"));
    var status = document.querySelector(".copy-status");
    copyButton.hidden = false;
    copyButton.addEventListener("click", function () {
      function done(message) {
        if (status) {
          status.textContent = message;
        }
      }
      function fallback() {
        source.focus();
        source.select();
        try {
          done(document.execCommand("copy") ? "Copied." : "Press Ctrl+C (or Cmd+C) to copy.");
        } catch (error) {
          done("Press Ctrl+C (or Cmd+C) to copy.");
        }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(function () {
          done("Copied.");
        }, fallback);
      } else {
        fallback();
      }
    });
  }
})();
