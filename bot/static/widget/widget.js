/*
 * WA Onboarding chat widget: the loader. One line on any web page:
 *   <script src="https://APP/widget.js" data-embed-key="KEY" data-lang="de" defer></script>
 * Options: data-mode="inline" (renders into #wa-onboarding, or after the script tag);
 * data-respondent-link="TOKEN" instead of data-embed-key on a non-public page (an intranet):
 * the organisation's own people fill in its assessment. With both, the respondent link wins.
 *
 * This script runs on the host page, so it holds nothing the host page should not read. It puts
 * a launcher button and an iframe of APP/widget/frame on the page; the conversation, the
 * assessment token and every answer live in that frame, on the app's origin (frame.js). The two
 * talk only through postMessage, with both sides checking origin and sender: the loader says
 * "wa:open"; the frame says "wa:ready", "wa:step", "wa:resize", "wa:lang" and "wa:close".
 * A respondent link goes to the frame in the URL fragment, which never reaches a server log.
 *
 * Plain JavaScript, no build step, no third-party requests. The launcher's styles live in a
 * shadow root, so the page's CSS and the widget's do not leak into each other.
 *
 * Layout: the launcher is fixed to a corner and shown only once it is styled and labelled, so the
 * widget never shifts the page. Open, the launcher is the close button (its label says so,
 * aria-expanded="true"), and the host element carries data-open; on a phone (< 480 px) the chat
 * then fills the screen, with the launcher as a bar along the bottom edge.
 *
 * Test hooks (a public contract): the host element has data-wa-widget and mirrors the frame's
 * data-step="<step id>" ("done" at the end); the launcher has data-action="open" (also while it
 * closes); the frame is iframe[data-wa-frame] (its controls: see frame.js).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) { return; }
  var embedKey = script.getAttribute("data-embed-key") || "";
  var respondentLink = script.getAttribute("data-respondent-link") || "";
  if (!embedKey && !respondentLink) { return; }
  var base = new URL(script.src, window.location.href).origin;
  var inline = script.getAttribute("data-mode") === "inline";
  var SUPPORTED = ["de", "en"];
  var STEP_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
  var MIN_HEIGHT = 120;
  var MAX_HEIGHT = 20000;

  function normalise(value) {
    var code = String(value || "").toLowerCase().split(/[-_]/)[0];
    return SUPPORTED.indexOf(code) >= 0 ? code : null;
  }

  // The page's choice; the frame adds the person's own switch and the browser's languages.
  var pageLanguage = normalise(script.getAttribute("data-lang")) || normalise(document.documentElement.lang);

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) { return; }
      node.setAttribute(name, value === true ? "" : value);
    });
    return node;
  }

  function frameAddress() {
    var query = new URLSearchParams();
    if (!respondentLink) { query.set("embed_key", embedKey); }
    if (pageLanguage) { query.set("lang", pageLanguage); }
    if (inline) { query.set("mode", "inline"); }
    query.set("origin", window.location.origin);
    var address = base + "/widget/frame?" + query.toString();
    return respondentLink ? address + "#link=" + encodeURIComponent(respondentLink) : address;
  }

  // -- the host element, the launcher and the frame -------------------------------------

  var host = el("div", { "data-wa-widget": true, "data-step": "", "data-mode": inline ? "inline" : "launcher", lang: pageLanguage });
  var target = inline ? document.getElementById("wa-onboarding") : null;
  if (target) { target.appendChild(host); } else if (inline) { script.parentNode.insertBefore(host, script.nextSibling); } else { document.body.appendChild(host); }
  var root = host.attachShadow({ mode: "open" });
  // Its address (with the styles' content hash) comes with the words; until they are styled, nothing shows.
  var styleLink = el("link", { rel: "stylesheet" });
  var launcher = el("button", { type: "button", "class": "launcher", "data-action": "open", "aria-expanded": "false", "aria-controls": "wa-frame", hidden: true });
  var frame = el("iframe", { "class": "frame", id: "wa-frame", "data-wa-frame": true, src: frameAddress(), hidden: true });
  root.appendChild(styleLink);
  if (!inline) { root.appendChild(launcher); }
  root.appendChild(frame);

  var frameReady = false;
  var openWhenReady = false;
  var labels = { open: "", close: "" };
  var styled = false;

  /* The launcher's words follow its state: it opens the chat, or (while open) closes it. */
  function label() {
    var words = host.hasAttribute("data-open") ? labels.close || labels.open : labels.open;
    if (words) { launcher.textContent = words; }
    // Appearing only once styled (and the launcher labelled), nothing jumps into place (no layout shift).
    if (styled && inline) { frame.hidden = false; }
    if (styled && launcher.textContent) { launcher.hidden = false; }
  }

  function style(address) {
    if (styleLink.getAttribute("href")) { return; }  // loaded once: swapping it would unstyle the widget meanwhile
    styleLink.setAttribute("href", address);
  }

  styleLink.addEventListener("load", function () { styled = true; label(); });
  styleLink.addEventListener("error", function () { styled = true; label(); });

  function tellFrame(message) {
    if (frame.contentWindow) { frame.contentWindow.postMessage(message, base); }
  }

  function loadTexts(code) {
    return fetch(base + "/widget/texts.json" + (code ? "?lang=" + code : ""), { credentials: "omit" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        labels = { open: data.texts.open, close: data.texts.close_chat };
        frame.setAttribute("title", data.texts.title);
        style(base + data.style);
        label();
      });
  }

  // -- open and close (launcher mode) ------------------------------------------------------

  function open() {
    frame.hidden = false;
    host.setAttribute("data-open", "");
    launcher.setAttribute("aria-expanded", "true");
    label();
    frame.focus();
    if (frameReady) { tellFrame({ type: "wa:open" }); } else { openWhenReady = true; }
  }

  function close() {
    frame.hidden = true;
    host.removeAttribute("data-open");
    launcher.setAttribute("aria-expanded", "false");
    label();
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (frame.hidden) { open(); } else { close(); } });

  // -- messages from the frame: only from that window, only from the app's origin ---------

  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || event.origin !== base) { return; }
    var data = event.data;
    if (!data || typeof data.type !== "string") { return; }
    if (data.type === "wa:ready") {
      frameReady = true;
      if (openWhenReady) { openWhenReady = false; tellFrame({ type: "wa:open" }); }
    } else if (data.type === "wa:step" && typeof data.step === "string" && STEP_PATTERN.test(data.step)) {
      host.setAttribute("data-step", data.step);
    } else if (data.type === "wa:resize" && inline && typeof data.height === "number" && isFinite(data.height)) {
      frame.style.height = Math.round(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, data.height))) + "px";
    } else if (data.type === "wa:lang" && normalise(data.lang)) {
      if (host.getAttribute("lang") !== data.lang) {
        host.setAttribute("lang", normalise(data.lang));
        loadTexts(normalise(data.lang)).catch(function () { /* the launcher keeps its words */ });
      }
    } else if (data.type === "wa:close" && !inline && !frame.hidden) {
      close();
    }
  });

  loadTexts(pageLanguage).catch(function () {
    labels = { open: "WhatsApp", close: "×" };  // the words did not come: the button still has a name
    style(base + "/widget.css");
    label();
  });
})();
