// Copy buttons in the manager area. Progressive enhancement: without JavaScript the
// texts stay selectable in their fields and downloadable; the buttons stay hidden.
"use strict";
document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.getAttribute("data-copy"));
  if (!field || !navigator.clipboard) { return; }
  var label = button.textContent;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = "✓ " + label;
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
});

// A print button where the page offers one (the respondent's result); without JavaScript the browser's own print works.
document.querySelectorAll("button[data-action='print']").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});

// Printing shows everything: folded parts (not-applicable items, legal bases, answers) open for the paper copy.
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("main details:not([open])").forEach(function (details) {
    details.setAttribute("open", "");
    details.setAttribute("data-opened-for-print", "");
  });
});
window.addEventListener("afterprint", function () {
  document.querySelectorAll("details[data-opened-for-print]").forEach(function (details) {
    details.removeAttribute("open");
    details.removeAttribute("data-opened-for-print");
  });
});
