/*
 * WA Onboarding chat widget. One line on any web page:
 *   <script src="https://HOST/widget.js" data-embed-key="KEY" data-lang="de" defer></script>
 * Options: data-mode="inline" (renders into #wa-onboarding, or after the script tag).
 *
 * Plain JavaScript, no build step, no third-party requests: the script talks only to the
 * host it was loaded from (the chat API), and keeps its styles in a shadow root so that
 * neither the page's CSS nor the widget's leak into each other. The assessment token is
 * kept in localStorage per embed key, so a reload continues where the user was.
 *
 * Test hooks (a public contract): the host element has data-wa-widget and
 * data-step="<step id>" ("done" at the end); option buttons data-value; the launcher
 * data-action="open", back data-action="back", send data-action="submit".
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.getAttribute("data-embed-key")) {
    return;
  }
  var base = new URL(script.src, window.location.href).origin;
  var embedKey = script.getAttribute("data-embed-key");
  var inline = script.getAttribute("data-mode") === "inline";
  var storageKey = "wa-onboarding:" + embedKey;
  var SUPPORTED = ["de", "en"];

  function storedLanguage() {
    try { return window.localStorage.getItem(storageKey + ":lang"); } catch (e) { return null; }
  }

  var state = { token: null, prompt: null, locale: pickLocale(), texts: null, busy: false, started: false, retry: null };

  // -- language ---------------------------------------------------------------------

  function normalise(value) {
    var code = String(value || "").toLowerCase().split(/[-_]/)[0];
    return SUPPORTED.indexOf(code) >= 0 ? code : null;
  }

  function pickLocale() {
    // The person's own switch wins, then the page's data-lang, then the page's lang, then the browser.
    var chosen = normalise(storedLanguage()) || normalise(script.getAttribute("data-lang")) || normalise(document.documentElement.lang);
    if (chosen) { return chosen; }
    var languages = navigator.languages || [navigator.language];
    for (var i = 0; i < languages.length; i++) {
      var code = normalise(languages[i]);
      if (code) { return code; }
    }
    return "de";
  }

  function t(key, params) {
    var text = (state.texts && state.texts[key]) || key;
    Object.keys(params || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(params[name]));
    });
    return text;
  }

  // -- DOM helpers ------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === false || value === null || value === undefined) { return; }
      if (name === "text") { node.textContent = value; } else { node.setAttribute(name, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  // -- the frame ----------------------------------------------------------------------

  var host = el("div", { "data-wa-widget": true, "data-step": "", "data-mode": inline ? "inline" : "launcher", lang: state.locale });
  var target = inline ? document.getElementById("wa-onboarding") : null;
  if (target) { target.appendChild(host); } else if (inline) { script.parentNode.insertBefore(host, script.nextSibling); } else { document.body.appendChild(host); }
  var root = host.attachShadow({ mode: "open" });
  var styleLink = el("link", { rel: "stylesheet", href: base + "/widget.css" });
  var launcher = el("button", { type: "button", "class": "launcher", "data-action": "open", "aria-expanded": "false", "aria-controls": "wa-panel" });
  var title = el("h2", { id: "wa-title" });
  var langButtons = SUPPORTED.map(function (code) {
    return el("button", { type: "button", "class": "lang", "data-action": "lang", "data-lang": code, lang: code, text: code.toUpperCase() });
  });
  var langGroup = el("div", { role: "group", "class": "langs" }, langButtons);
  var closeButton = el("button", { type: "button", "class": "close", "data-action": "close", text: "×" });
  var progress = el("p", { "class": "progress" });
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-relevant": "additions" });
  var errorBox = el("p", { "class": "error", role: "alert", id: "wa-error" });
  var controls = el("div", { "class": "controls" });
  var backButton = el("button", { type: "button", "class": "secondary", "data-action": "back" });
  var restartButton = el("button", { type: "button", "class": "secondary", "data-action": "restart" });
  var panel = el("section", { "class": "panel", id: "wa-panel", role: "region", "aria-labelledby": "wa-title", hidden: !inline }, [
    el("header", {}, [title, langGroup, inline ? null : closeButton]),
    progress,
    log,
    errorBox,
    controls,
    el("footer", {}, [backButton, restartButton])
  ]);
  root.appendChild(styleLink);
  if (!inline) { root.appendChild(launcher); }
  root.appendChild(panel);

  function paintChrome() {
    host.setAttribute("lang", state.locale);
    launcher.textContent = t("open");
    title.textContent = t("title");
    closeButton.setAttribute("aria-label", t("close"));
    backButton.textContent = t("back");
    restartButton.textContent = t("restart");
    langGroup.setAttribute("aria-label", t("language"));
    langButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-lang") === state.locale));
    });
  }

  // -- talking to the chat API -------------------------------------------------------

  function request(method, path, body) {
    var options = { method: method, headers: {}, credentials: "omit" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(base + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function loadTexts() {
    return fetch(base + "/widget/texts.json?lang=" + state.locale, { credentials: "omit" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        state.texts = data.texts;
        styleLink.setAttribute("href", base + data.style);
        paintChrome();
      });
  }

  function remember(token) {
    state.token = token;
    try {
      if (token) { window.localStorage.setItem(storageKey, token); } else { window.localStorage.removeItem(storageKey); }
    } catch (e) { /* private mode: the conversation still works, only without resume */ }
  }

  function stored() {
    try { return window.localStorage.getItem(storageKey); } catch (e) { return null; }
  }

  /* Send a request; on a network failure offer "try again" with the same request. */
  function send(method, path, body, onResult) {
    if (state.busy) { return; }
    state.busy = true;
    host.setAttribute("aria-busy", "true");
    clearError();
    request(method, path, body).then(function (result) {
      state.busy = false;
      host.removeAttribute("aria-busy");
      if (result.status === 429) {
        showError(t("wait"));
      } else if (result.status >= 500) {
        showError(t("error"), function () { send(method, path, body, onResult); });
      } else {
        onResult(result);
      }
    }, function () {
      state.busy = false;
      host.removeAttribute("aria-busy");
      showError(t("offline"), function () { send(method, path, body, onResult); });
    });
  }

  function start(focus) {
    send("POST", "/api/v1/assessments", { embed_key: embedKey, locale: state.locale, channel: "widget" }, function (result) {
      if (result.status !== 201) { showError((result.data.error || {}).message || t("error")); return; }
      remember(result.data.token);
      log.textContent = "";
      say(t("intro"));
      show(result.data.prompt, focus);
    });
  }

  function resume(focus) {
    send("GET", "/api/v1/assessments/" + encodeURIComponent(state.token) + "?lang=" + state.locale, undefined, function (result) {
      if (result.status === 404) { remember(null); start(focus); return; }
      if (result.status !== 200) { showError((result.data.error || {}).message || t("error")); return; }
      say(t("resumed"));
      show(result.data.prompt, focus);
    });
  }

  function turn(path, body, echo) {
    send("POST", "/api/v1/assessments/" + encodeURIComponent(state.token) + path, body, function (result) {
      if (result.status === 200) {
        if (echo !== null) { userSays(echo); }
        show(result.data.prompt, true);
      } else if (result.status === 409 && result.data.prompt) {
        show(result.data.prompt, true); // another tab moved on: quietly continue from there
      } else if (result.status === 404) {
        remember(null);
        start(true);
      } else {
        showError((result.data.error || {}).message || t("error"));
      }
    });
  }

  // -- rendering ---------------------------------------------------------------------------

  function say(text) {
    log.appendChild(el("p", { "class": "bubble bot", text: text }));
    log.scrollTop = log.scrollHeight;
  }

  function userSays(text) {
    log.appendChild(el("p", { "class": "bubble user", text: text }));
    log.scrollTop = log.scrollHeight;
  }

  function clearError() {
    errorBox.textContent = "";
    state.retry = null;
  }

  function showError(message, retry) {
    errorBox.textContent = message;
    if (retry) {
      var again = el("button", { type: "button", "class": "secondary", "data-action": "retry", text: t("retry") });
      again.addEventListener("click", function () { clearError(); retry(); });
      errorBox.appendChild(document.createTextNode(" "));
      errorBox.appendChild(again);
      state.retry = retry;
    }
  }

  function labelOf(prompt, value) {
    var values = Array.isArray(value) ? value : [value];
    return values.map(function (v) {
      var option = prompt.options.filter(function (o) { return o.value === v; })[0];
      return option ? option.label : v;
    }).join(", ");
  }

  function show(prompt, focus) {
    state.prompt = prompt;
    host.setAttribute("data-step", prompt.step);
    controls.textContent = "";
    clearError();
    backButton.disabled = prompt.progress.answered === 0;
    progress.textContent = prompt.kind === "done" ? "" : t("progress", { answered: prompt.progress.answered + 1, total: prompt.progress.total });

    var question = el("div", { "class": "bubble bot question" });
    var heading = el("h3", { tabindex: "-1", text: prompt.text });
    question.appendChild(heading);
    if (prompt.recommendation) {
      question.appendChild(el("p", { "class": "recommendation", text: prompt.recommendation.title }));
      question.appendChild(el("p", { text: prompt.recommendation.text }));
      question.appendChild(el("p", { "class": "why", text: t("why") }));
      question.appendChild(el("ul", {}, prompt.recommendation.reason_texts.map(function (reason) { return el("li", { text: reason }); })));
    }
    if (prompt.kind === "done" && prompt.summary) {
      question.appendChild(el("p", { "class": "counts", text: t("done_counts", prompt.summary) }));
    }
    if (prompt.help) {
      if (prompt.kind === "done") {
        question.appendChild(el("p", { text: prompt.help }));
      } else {
        question.appendChild(el("details", {}, [el("summary", { text: t("help") }), el("p", { text: prompt.help })]));
      }
    }
    log.appendChild(question);
    log.scrollTop = log.scrollHeight;

    if (prompt.kind === "choice") { renderChoice(prompt); }
    else if (prompt.kind === "multi") { renderMulti(prompt); }
    else if (prompt.kind === "text") { renderText(prompt); }
    else if (prompt.kind === "info") { renderInfo(prompt); }
    if (focus) { heading.focus(); }
  }

  function answer(prompt, value, echo) {
    turn("/answers", { step: prompt.step, value: value, channel: "widget" }, echo);
  }

  function renderChoice(prompt) {
    var group = el("div", { role: "group", "class": "options", "aria-label": prompt.text });
    prompt.options.forEach(function (option) {
      var button = el("button", { type: "button", "class": "option", "data-value": option.value, text: option.label });
      if (prompt.value === option.value) { button.setAttribute("aria-pressed", "true"); }
      button.addEventListener("click", function () { answer(prompt, option.value, option.label); });
      group.appendChild(button);
    });
    controls.appendChild(group);
  }

  function renderMulti(prompt) {
    var form = el("form", { "class": "multi" });
    var fieldset = el("fieldset", { "aria-describedby": "wa-error" }, [el("legend", { text: t("choose_all") })]);
    var boxes = prompt.options.map(function (option) {
      var box = el("input", { type: "checkbox", value: option.value, "data-value": option.value, "data-exclusive": option.exclusive ? "true" : null });
      if (Array.isArray(prompt.value) && prompt.value.indexOf(option.value) >= 0) { box.checked = true; }
      var text = option.label + (option.exclusive ? " (" + t("exclusive") + ")" : "");
      fieldset.appendChild(el("label", { "class": "check" }, [box, el("span", { text: text })]));
      return box;
    });
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        if (!box.checked) { return; }
        // An exclusive option ("none") stands alone: choosing it clears the others and vice versa.
        boxes.forEach(function (other) {
          if (other !== box && (box.hasAttribute("data-exclusive") || other.hasAttribute("data-exclusive"))) { other.checked = false; }
        });
      });
    });
    form.appendChild(fieldset);
    form.appendChild(el("button", { type: "submit", "class": "primary", "data-action": "submit", text: t("send") }));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
      answer(prompt, chosen, labelOf(prompt, chosen));
    });
    controls.appendChild(form);
  }

  function renderText(prompt) {
    var form = el("form", { "class": "text" });
    var input = el("input", { type: "text", id: "wa-input", maxlength: "2000", "aria-describedby": "wa-error" + (prompt.optional ? " wa-optional" : "") });
    input.value = typeof prompt.value === "string" ? prompt.value : "";
    form.appendChild(el("label", { "for": "wa-input", text: t("your_answer") }));
    if (prompt.optional) { form.appendChild(el("p", { "class": "hint", id: "wa-optional", text: t("optional") })); }
    form.appendChild(input);
    var buttons = el("div", { "class": "buttons" }, [el("button", { type: "submit", "class": "primary", "data-action": "submit", text: t("send") })]);
    if (prompt.optional) {
      var skip = el("button", { type: "button", "class": "secondary", "data-action": "skip", text: t("skip") });
      skip.addEventListener("click", function () { answer(prompt, null, t("skipped")); });
      buttons.appendChild(skip);
    }
    form.appendChild(buttons);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = input.value;
      answer(prompt, value, value.trim() ? value : t("skipped"));
    });
    controls.appendChild(form);
  }

  function renderInfo(prompt) {
    var button = el("button", { type: "button", "class": "primary", "data-action": "submit", "data-value": "ok", text: t("continue") });
    button.addEventListener("click", function () { answer(prompt, "ok", t("continue")); });
    controls.appendChild(button);
  }

  // -- controls ---------------------------------------------------------------------------

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    begin(true);
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function begin(focus) {
    if (state.started) {
      var heading = log.querySelector(".question:last-of-type h3");
      if (focus && heading) { heading.focus(); }
      return;
    }
    state.started = true;
    state.token = stored();
    if (state.token) { resume(focus); } else { start(focus); }
  }

  launcher.addEventListener("click", function () { if (panel.hidden) { open(); } else { close(); } });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !inline) { close(); }
  });
  backButton.addEventListener("click", function () {
    if (state.prompt) { turn("/back", { step: state.prompt.step, channel: "widget" }, null); }
  });
  restartButton.addEventListener("click", function () {
    remember(null);
    log.textContent = "";
    start(true);
  });
  langButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      var code = button.getAttribute("data-lang");
      if (code === state.locale) { return; }
      state.locale = code;
      try { window.localStorage.setItem(storageKey + ":lang", code); } catch (e) { /* not remembered, still switched */ }
      loadTexts().then(function () {
        if (!state.token) { return; }
        send("PATCH", "/api/v1/assessments/" + encodeURIComponent(state.token), { locale: code }, function (result) {
          if (result.status === 200) { show(result.data.prompt, true); }
        });
      });
    });
  });

  loadTexts().then(function () {
    if (inline) { begin(false); }
  }, function () {
    paintChrome();
    showError(t("offline"), function () { window.location.reload(); });
  });
})();
