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
