// Enhancements only: every page works without this file.
(function () {
  "use strict";

  // Quick exit. The button (and one press of Escape) swaps this page for a neutral one
  // with location.replace(), so Back does not return here. The page is hidden first, in
  // case the neutral site is slow to load. Without JavaScript the button is a plain link.
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

  document.addEventListener(
    "keydown",
    function (event) {
      if (event.key === "Escape" && !event.isComposing) {
        quickExit(event);
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
