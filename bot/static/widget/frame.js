/*
 * WA Onboarding chat widget: the conversation, inside the iframe the loader (widget.js) puts on
 * the host page. This page is served by the app (/widget/frame), so it talks to the chat API on
 * its own origin, and the host page can read neither its DOM nor its storage.
 *
 * What the host page can learn is only what this script posts to it (see `tell`): that the chat
 * wants to close, its height, the id of the current step and the language. Never the token, never
 * an answer. It posts only to the origin the loader named (`data-parent-origin`), and it listens
 * only to its parent window on that origin, and only for "wa:open".
 *
 * The assessment token lives in this origin's localStorage, per embed key or respondent link, so
 * a reload continues where the person was. A respondent link arrives in the URL fragment
 * (#link=…), which browsers never send to a server.
 *
 * Layout: a fixed-height panel (launcher mode) whose only scrolling part holds the conversation and
 * the current controls, so nothing the widget renders moves what is already on screen (no layout
 * shift); after each question and its controls render, the conversation scrolls so the question's
 * start is in view. "Start over" sits at the top, away from "Back", and asks first (a <dialog>).
 *
 * Test hooks (a public contract): <main data-wa-chat data-step="<step id>"> ("done" at the end,
 * aria-busy while a request runs); option buttons data-value; back data-action="back", send
 * data-action="submit", close data-action="close", the consent form's button data-action="consent";
 * "Start over" data-action="restart", its dialog [data-wa-confirm] with data-action="restart-confirm"
 * and "restart-cancel"; the end card [data-wa-result] with its "start here" items
 * li[data-item="<item id>"] and the links data-action="result-page" and "result-pdf".
 */
(function () {
  "use strict";

  var SUPPORTED = ["de", "en"];
  var STEP_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
  var body = document.body;
  var inline = body.getAttribute("data-mode") === "inline";
  var embedKey = body.getAttribute("data-embed-key") || "";
  var respondentLink = linkFromFragment();
  var parentOrigin = trustedParentOrigin(body.getAttribute("data-parent-origin"));
  var storageKey = "wa-onboarding:" + (respondentLink ? "link:" + respondentLink : "embed:" + embedKey);

  function linkFromFragment() {
    var match = /(?:^#|&)link=([^&]+)/.exec(window.location.hash || "");
    if (!match) { return ""; }
    try { return decodeURIComponent(match[1]); } catch (e) { return ""; }
  }

  /* The origin to post to: the one the loader named, if it is really the parent's (where the browser says so). */
  function trustedParentOrigin(named) {
    if (!named || window.parent === window) { return null; }
    // Belt and braces: a page that names another origin than its own would get nothing anyway,
    // since the browser delivers a message only to the origin it is addressed to.
    var ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length && ancestors[0] !== "null" && ancestors[0] !== named) { return null; }
    return named;
  }

  function storedLanguage() {
    try { return window.localStorage.getItem(storageKey + ":lang"); } catch (e) { return null; }
  }

  var state = {
    token: null, prompt: null, locale: pickLocale(), texts: null, busy: false, started: false,
    // Started with the public embed key: the respondent's own self-assessment (a respondent link's is the organisation's).
    consent: null, organisation: null, selfAssessment: !respondentLink,
    newest: null, revealed: null  // the newest message, and where the conversation was last scrolled to show it
  };

  // -- language ---------------------------------------------------------------------

  function normalise(value) {
    var code = String(value || "").toLowerCase().split(/[-_]/)[0];
    return SUPPORTED.indexOf(code) >= 0 ? code : null;
  }

  function pickLocale() {
    // The person's own switch wins, then the language the loader chose (data-lang or the page's lang), then the browser.
    var query = new URLSearchParams(window.location.search);
    var chosen = normalise(storedLanguage()) || normalise(query.get("lang"));
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

  // -- talking to the loader on the host page -----------------------------------------

  /* Post one of the documented messages to the host page; nothing else ever leaves this frame. */
  function tell(message) {
    if (parentOrigin) { window.parent.postMessage(message, parentOrigin); }
  }

  window.addEventListener("message", function (event) {
    if (!parentOrigin || event.source !== window.parent || event.origin !== parentOrigin) { return; }
    var data = event.data;
    if (data && data.type === "wa:open") { begin(true); }
  });

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

  // -- the panel ----------------------------------------------------------------------

  var title = el("h1", { id: "wa-title" });
  var langButtons = SUPPORTED.map(function (code) {
    return el("button", { type: "button", "class": "lang", "data-action": "lang", "data-lang": code, lang: code, text: code.toUpperCase() });
  });
  var langGroup = el("div", { role: "group", "class": "langs" }, langButtons);
  var closeButton = el("button", { type: "button", "class": "close", "data-action": "close", text: "×" });
  var progress = el("p", { "class": "progress" });
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-relevant": "additions" });
  var errorBox = el("p", { "class": "error", role: "alert", id: "wa-error" });
  // The current question's controls follow it inside the scrolling part; each question gets a new container.
  var controls = el("div", { "class": "controls" });
  var scroller = el("div", { "class": "scroller" }, [log, controls]);
  var backButton = el("button", { type: "button", "class": "secondary", "data-action": "back" });
  var restartButton = el("button", { type: "button", "class": "secondary restart", "data-action": "restart", "aria-haspopup": "dialog" });
  var panel = el("main", { "class": "panel", "data-wa-chat": true, "data-step": "", "aria-labelledby": "wa-title" }, [
    el("header", {}, [title, langGroup, inline ? null : closeButton]),
    // The progress line keeps its height with or without text, and holds "Start over", far from "Back".
    el("div", { "class": "bar" }, [progress, restartButton]),
    scroller,
    errorBox,
    el("footer", {}, [backButton])
  ]);
  body.appendChild(panel);

  // "Start over" asks first, inside the widget: a modal dialog (focus stays in it; Escape cancels).
  var confirmTitle = el("h2", { id: "wa-confirm-title" });
  var confirmText = el("p", { id: "wa-confirm-text" });
  var confirmYes = el("button", { type: "button", "class": "primary", "data-action": "restart-confirm" });
  var confirmNo = el("button", { type: "button", "class": "secondary", "data-action": "restart-cancel", autofocus: true });
  var confirmDialog = el("dialog", {
    "class": "confirm-restart", "data-wa-confirm": true, role: "alertdialog",
    "aria-labelledby": "wa-confirm-title", "aria-describedby": "wa-confirm-text"
  }, [confirmTitle, confirmText, el("div", { "class": "buttons" }, [confirmNo, confirmYes])]);
  body.appendChild(confirmDialog);

  function paintChrome() {
    document.documentElement.setAttribute("lang", state.locale);
    document.title = t("title");
    title.textContent = t("title");
    closeButton.setAttribute("aria-label", t("close"));
    backButton.textContent = t("back");
    restartButton.textContent = t("restart");
    confirmTitle.textContent = t("restart_title");
    confirmText.textContent = t("restart_text");
    confirmYes.textContent = t("restart_confirm");
    confirmNo.textContent = t("restart_cancel");
    langGroup.setAttribute("aria-label", t("language"));
    langButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-lang") === state.locale));
    });
    tell({ type: "wa:lang", lang: state.locale });
  }

  // In inline mode the frame is as tall as its content: the loader sets the iframe's height.
  if (inline && window.ResizeObserver) {
    new window.ResizeObserver(function () {
      tell({ type: "wa:resize", height: Math.ceil(panel.getBoundingClientRect().height) });
    }).observe(panel);
  }

  // -- talking to the chat API (same origin) -------------------------------------------

  function request(method, path, payload) {
    var options = { method: method, headers: {}, credentials: "omit" };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function loadTexts() {
    return fetch("/widget/texts.json?lang=" + state.locale, { credentials: "omit" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        state.texts = data.texts;
        paintChrome();
      });
  }

  function remember(token) {
    state.token = token;
    try {
      if (token) { window.localStorage.setItem(storageKey, token); } else { window.localStorage.removeItem(storageKey); }
    } catch (e) { /* storage blocked: the conversation still works, only without resume */ }
  }

  function stored() {
    try { return window.localStorage.getItem(storageKey); } catch (e) { return null; }
  }

  function setBusy(busy) {
    state.busy = busy;
    if (busy) { panel.setAttribute("aria-busy", "true"); } else { panel.removeAttribute("aria-busy"); }
  }

  function errorMessage(result) {
    return (result.data.error || {}).message || t("error");
  }

  /* Send a request; on a network failure offer "try again" with the same request. */
  function send(method, path, payload, onResult) {
    if (state.busy) { return; }
    setBusy(true);
    clearError();
    request(method, path, payload).then(function (result) {
      setBusy(false);
      if (result.status === 429) {
        showError(t("wait"));
      } else if (result.status >= 500) {
        showError(t("error"), function () { send(method, path, payload, onResult); });
      } else {
        onResult(result);
      }
    }, function () {
      setBusy(false);
      showError(t("offline"), function () { send(method, path, payload, onResult); });
    });
  }

  function assessmentPath(suffix) {
    return "/api/v1/assessments/" + encodeURIComponent(state.token) + (suffix || "");
  }

  function start(focus) {
    var payload = { locale: state.locale, channel: "widget" };
    if (respondentLink) { payload.respondent_link = respondentLink; } else { payload.embed_key = embedKey; }
    send("POST", "/api/v1/assessments", payload, function (result) {
      if (result.status !== 201) { showError(errorMessage(result)); return; }
      remember(result.data.token);
      state.consent = null;
      log.textContent = "";
      state.revealed = null;
      say(t("intro"));
      show(result.data.prompt, focus);
    });
  }

  function resume(focus) {
    send("GET", assessmentPath("?lang=" + state.locale), undefined, function (result) {
      if (result.status === 404 || result.status === 410) { remember(null); start(focus); return; }
      if (result.status !== 200) { showError(errorMessage(result)); return; }
      learn(result.data);
      say(t("resumed"));
      show(result.data.prompt, focus);
    });
  }

  /* What the assessment says about itself: whether it is a public self-assessment, and its consent. */
  function learn(assessment) {
    state.selfAssessment = assessment.self_assessment === true;
    state.organisation = (assessment.organisation || {}).name || "";
    state.consent = assessment.consent || null;
  }

  function turn(path, payload, echo) {
    send("POST", assessmentPath(path), payload, function (result) {
      if (result.status === 200) {
        if (echo !== null) { userSays(echo); }
        show(result.data.prompt, true);
      } else if (result.status === 409 && result.data.prompt) {
        show(result.data.prompt, true); // another tab moved on: quietly continue from there
      } else if (result.status === 404 || result.status === 410) {
        remember(null);
        start(true);
      } else {
        showError(errorMessage(result));
      }
    });
  }

  // -- rendering ---------------------------------------------------------------------------

  function say(text) {
    log.appendChild(el("p", { "class": "bubble bot", text: text }));
  }

  function userSays(text) {
    log.appendChild(el("p", { "class": "bubble user", text: text }));
  }

  /* Scroll the conversation to its end, but never past the newest message's start (its reasons stay readable). */
  function reveal(message, again) {
    if (inline || !message) { return; }
    // What comes later (the consent form, an error message) moves the view only if the person has not scrolled since.
    if (again && scroller.scrollTop !== state.revealed) { return; }
    var end = scroller.scrollHeight - scroller.clientHeight;
    scroller.scrollTop = Math.max(0, Math.min(end, message.offsetTop - 8));
    state.revealed = scroller.scrollTop;
  }

  /* A fresh controls container after the newest message: new elements appear, nothing on screen moves. */
  function freshControls() {
    var next = el("div", { "class": "controls" });
    scroller.replaceChild(next, controls);
    controls = next;
  }

  function clearError() {
    errorBox.textContent = "";
  }

  function showError(message, retry) {
    errorBox.textContent = message;
    if (retry) {
      var again = el("button", { type: "button", "class": "secondary", "data-action": "retry", text: t("retry") });
      again.addEventListener("click", function () { clearError(); retry(); });
      errorBox.appendChild(document.createTextNode(" "));
      errorBox.appendChild(again);
    }
    reveal(state.newest, true);  // the message took room from the conversation: keep the question and its field in view
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
    panel.setAttribute("data-step", prompt.step);
    if (STEP_PATTERN.test(prompt.step)) { tell({ type: "wa:step", step: prompt.step }); }
    freshControls();
    clearError();
    backButton.disabled = prompt.progress.answered === 0;
    progress.textContent = prompt.kind === "done" ? "" : t("progress", { answered: prompt.progress.answered + 1, total: prompt.progress.total });

    var question = el("div", { "class": "bubble bot question" });
    var heading = el("h2", { tabindex: "-1", text: prompt.text });
    question.appendChild(heading);
    if (prompt.kind === "done" && prompt.result) {
      renderResult(question, prompt);
    } else if (prompt.recommendation) {
      question.appendChild(el("p", { "class": "recommendation", text: prompt.recommendation.title }));
      question.appendChild(el("p", { text: prompt.recommendation.text }));
      question.appendChild(el("p", { "class": "why", text: t("why") }));
      question.appendChild(el("ul", {}, prompt.recommendation.reason_texts.map(function (reason) { return el("li", { text: reason }); })));
    }
    if (prompt.kind === "done" && prompt.summary && !prompt.result) {
      question.appendChild(el("p", { "class": "counts", text: t("done_counts", prompt.summary) }));
    }
    if (prompt.help) {
      if (prompt.kind !== "done") {
        question.appendChild(el("details", {}, [el("summary", { text: t("help") }), el("p", { text: prompt.help })]));
      } else if (!state.selfAssessment) {
        // "Your managers can see the full checklist" holds for the organisation's own people only.
        question.appendChild(el("p", { "class": "hint", text: prompt.help }));
      }
    }
    log.appendChild(question);

    if (prompt.kind === "choice") { renderChoice(prompt); }
    else if (prompt.kind === "multi") { renderMulti(prompt); }
    else if (prompt.kind === "text") { renderText(prompt); }
    else if (prompt.kind === "info") { renderInfo(prompt); }
    else if (prompt.kind === "done") { offerConsent(); }
    state.newest = question;
    reveal(question);
    // In launcher mode the conversation scrolls itself (above); inline, the host page scrolls to the question.
    if (focus) { heading.focus({ preventScroll: !inline }); }
  }

  /* The end card: what to do first, the counts, the chosen channel beside the recommendation, the full result and its PDF. */
  function renderResult(card, prompt) {
    var result = prompt.result;
    card.classList.add("result");
    card.setAttribute("data-wa-result", "");
    var facts = el("dl", { "class": "facts" }, [
      el("div", {}, [el("dt", { text: t("result_recommendation") }), el("dd", { "class": "recommendation", text: result.recommendation.title })])
    ]);
    if (result.channel && result.channel.chosen_label) {
      facts.appendChild(el("div", {}, [el("dt", { text: t("result_channel") }), el("dd", { text: result.channel.chosen_label })]));
    }
    card.appendChild(facts);
    if (result.channel && result.channel.matches === false && result.channel.note) {
      card.appendChild(el("p", { "class": "note", text: result.channel.note }));
    }
    card.appendChild(el("h3", { text: t("start_here") }));
    if (result.start_here.length) {
      card.appendChild(el("ol", { "class": "start-here" }, result.start_here.map(function (item) {
        return el("li", { "data-item": item.id }, [el("strong", { text: item.title }), item.action ? el("p", { text: item.action }) : null]);
      })));
    } else {
      card.appendChild(el("p", { text: t("nothing_critical") }));
    }
    card.appendChild(el("p", { "class": "counts", text: t("done_counts", result.counts) }));
    // Both open outside the widget (a new tab), never inside this frame; noopener: the new page cannot reach back.
    card.appendChild(el("p", { "class": "links" }, [
      el("a", { "class": "button-link primary", href: result.page_url, target: "_blank", rel: "noopener", "data-action": "result-page", text: t("result_page") }),
      el("a", { "class": "button-link", href: result.pdf_url, target: "_blank", rel: "noopener", type: "application/pdf", "data-action": "result-pdf", text: t("result_pdf") })
    ]));
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

  // -- the end of a public self-assessment: passing the result on, if the person wants ----

  function offerConsent() {
    if (!state.token) { return; }
    // The assessment says whether it is a self-assessment and whether consent was given (another tab, a reload).
    send("GET", assessmentPath("?lang=" + state.locale), undefined, function (result) {
      if (result.status !== 200 || !state.prompt || state.prompt.kind !== "done") { return; }
      learn(result.data);
      if (state.selfAssessment) { renderConsent(); reveal(state.newest, true); }
    });
  }

  function consentThanks() {
    var email = state.consent && state.consent.contact_email;
    var text = email ? t("consent_given_email", { organisation: state.organisation, email: email }) : t("consent_given", { organisation: state.organisation });
    return el("p", { "class": "confirm", role: "status", text: text });
  }

  function renderConsent() {
    controls.textContent = "";
    if (state.consent && state.consent.given_at) {
      controls.appendChild(consentThanks());
      return;
    }
    var names = { organisation: state.organisation };
    var box = el("input", { type: "checkbox", id: "wa-consent", "data-value": "consent", "aria-describedby": "wa-consent-hint" });
    var email = el("input", { type: "email", id: "wa-contact-email", maxlength: "254", autocomplete: "email", "aria-describedby": "wa-consent-error" });
    var problem = el("p", { "class": "error", id: "wa-consent-error", role: "alert" });
    var form = el("form", { "class": "consent", "aria-labelledby": "wa-consent-title", novalidate: true }, [
      el("h2", { id: "wa-consent-title", text: t("consent_title") }),
      el("p", { "class": "hint", id: "wa-consent-hint", text: t("consent_hint", names) }),
      el("label", { "class": "check" }, [box, el("span", { text: t("consent_label", names) })]),
      el("label", { "for": "wa-contact-email", text: t("consent_email") }),
      email,
      problem,
      el("button", { type: "submit", "class": "primary", "data-action": "consent", text: t("consent_send") })
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      problem.textContent = "";
      email.removeAttribute("aria-invalid");
      if (!box.checked) {
        problem.textContent = t("consent_missing");
        box.focus();
        return;
      }
      var address = email.value.trim();
      send("POST", assessmentPath("/consent"), address ? { contact_email: address } : {}, function (result) {
        if (result.status === 200) {
          state.consent = result.data;
          controls.textContent = "";
          var thanks = consentThanks();
          thanks.setAttribute("tabindex", "-1");
          controls.appendChild(thanks);
          thanks.focus();
        } else if (result.status === 422) {
          problem.textContent = errorMessage(result);
          email.setAttribute("aria-invalid", "true");
          email.focus();
        } else if (result.status === 409 && (result.data.error || {}).code === "not_a_self_assessment") {
          controls.textContent = "";
        } else {
          problem.textContent = errorMessage(result);
        }
      });
    });
    controls.appendChild(form);
  }

  // -- controls ---------------------------------------------------------------------------

  function begin(focus) {
    if (state.started) {
      var headings = log.querySelectorAll(".question h2");
      var heading = headings[headings.length - 1];
      if (focus && heading) { heading.focus({ preventScroll: !inline }); }
      return;
    }
    state.started = true;
    state.token = stored();
    if (state.token) { resume(focus); } else { start(focus); }
  }

  function close() {
    tell({ type: "wa:close" });
  }

  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !inline) { close(); }
  });
  backButton.addEventListener("click", function () {
    if (state.prompt) { turn("/back", { step: state.prompt.step, channel: "widget" }, null); }
  });
  restartButton.addEventListener("click", function () {
    if (state.busy) { return; }
    confirmDialog.showModal();
    confirmNo.focus();
  });
  confirmNo.addEventListener("click", function () { confirmDialog.close(); });
  confirmYes.addEventListener("click", function () {
    confirmDialog.close();
    remember(null);
    log.textContent = "";
    start(true);
  });
  // Closing by "No" or Escape keeps everything as it was; focus goes back to "Start over".
  confirmDialog.addEventListener("close", function () {
    if (state.token) { restartButton.focus(); }
  });
  langButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      var code = button.getAttribute("data-lang");
      if (code === state.locale) { return; }
      state.locale = code;
      try { window.localStorage.setItem(storageKey + ":lang", code); } catch (e) { /* not remembered, still switched */ }
      loadTexts().then(function () {
        if (!state.token) { return; }
        send("PATCH", assessmentPath(), { locale: code }, function (result) {
          if (result.status === 200) { show(result.data.prompt, true); }
        });
      });
    });
  });

  loadTexts().then(function () {
    tell({ type: "wa:ready" });
    if (inline) { begin(false); }
  }, function () {
    paintChrome();
    tell({ type: "wa:ready" });
    showError(t("offline"), function () { window.location.reload(); });
  });
})();
