// om-bridge webchat: a small client of the endpoint routes (POST input, outputs with history,
// SSE, uploads, connect/disconnect/end, typing). Vanilla JS, no external resources.
(function () {
  "use strict";

  var root = document.querySelector("[data-testid=webchat]");
  var token = root.dataset.token;
  var endpoint = root.dataset.endpoint;
  var log = root.querySelector("[data-testid=chat-log]");
  var banner = root.querySelector("[data-testid=handover-banner]");
  var typing = root.querySelector("[data-testid=typing-indicator]");
  var form = root.querySelector("[data-testid=composer]");
  var input = root.querySelector("[data-testid=message-input]");
  var attach = root.querySelector("[data-testid=attach-button]");
  var fileInput = root.querySelector("[data-testid=file-input]");
  var errorBox = root.querySelector("[data-testid=error]");

  var TYPING_THROTTLE_MS = 3000;   // at most one typing event per 3 s while the user types
  var TYPING_SHOW_MS = 6000;       // hide the agent typing indicator if no message follows
  var RETRY_DELAYS_MS = [2000, 4000, 8000];  // automatic re-sends of a failed message
  var MAX_FILE_BYTES = 10 * 1024 * 1024;     // the bridge's upload limit
  var FILE_TYPES = ["image/jpeg", "image/png", "image/gif", "application/pdf", "text/plain"];
  var OPEN_STATUSES = { requested: true, queue: true, active: true };
  var POSITION = /\b(?:number|position)\s*#?\s*(\d+)\b/i;
  // Cognigy's webchat "startBehavior: injection": a conversation that starts empty sends its
  // Get Started payload (Cognigy's default "GET_STARTED") so the flow greets before the user
  // types. The input is not shown as the user's message.
  var GET_STARTED = "GET_STARTED";
  var PLACEHOLDER = input.getAttribute("placeholder") || "";

  function storageKey(name) { return "om-bridge:" + token + ":" + name; }
  function randomId(prefix) {
    var bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    return prefix + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function remember(name, make) {
    var value = localStorage.getItem(storageKey(name));
    if (!value) { value = make(); localStorage.setItem(storageKey(name), value); }
    return value;
  }

  var userId = remember("userId", function () { return randomId("web-"); });
  var sessionId = remember("sessionId", function () { return randomId("s-"); });
  var lastSeq = 0;
  // What the banner shows: the handover status, the agent's name, the queue position, and
  // whether a transfer is under way.
  var handover = { status: null, agent: null, position: null, transferring: false };
  var source = null;
  var connected = false;
  var lastTypingSent = 0;
  var typingTimer = null;
  var pending = [];     // messages sent but not yet seen in the stored history, oldest first
  var startP = null;    // the Get Started input until the bridge has it; later messages wait
  var waiting = [];     // messages held back until then, oldest first
  var NOT_REACHED = "Not sent yet: the chat service cannot be reached. ";
  var generation = 0;   // bumped by "New conversation": late answers of the old one are ignored

  function sessionUrl(action, extra) {
    return endpoint + "/sessions/" + encodeURIComponent(sessionId) + "/" + action +
      "?userId=" + encodeURIComponent(userId) + (extra || "");
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function formatSize(bytes) {
    if (typeof bytes !== "number") { return ""; }
    if (bytes < 1024) { return bytes + " B"; }
    if (bytes < 1024 * 1024) { return (bytes / 1024).toFixed(1) + " KB"; }
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function safeUrl(url) {
    return /^(https?:)?\/\//i.test(url || "") || /^\//.test(url || "") ? url : null;
  }

  // ---- rendering ------------------------------------------------------------------------
  function attachmentsOf(data) {
    var list = (data && data.attachments) || [];
    return Array.isArray(list) ? list : [];
  }

  function renderAttachment(att) {
    var url = safeUrl(att.url);
    var name = att.filename || (url ? url.split("/").pop() : "file");
    var box = el("div", "attachment");
    box.dataset.testid = "attachment";
    var image = (att.mediaType === "Image") || /^image\//.test(att.mime || "");
    if (image && url) {
      var img = el("img");
      img.src = url;
      img.alt = att.text || name;
      img.dataset.testid = "attachment-image";
      box.appendChild(img);
    }
    if (url) {
      var link = el("a", null, name);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener";
      link.setAttribute("download", name);
      link.dataset.testid = "attachment-link";
      box.appendChild(link);
    } else {
      box.appendChild(el("span", null, name));
    }
    var size = att.contentSizeBytes || att.size;
    if (size) { box.appendChild(el("span", "size", " (" + formatSize(size) + ")")); }
    return box;
  }

  function quickReplies(data) {
    // Cognigy's default channel payload: data._cognigy._default._quickReplies.quickReplies[{title, payload}]
    try { return data._cognigy._default._quickReplies.quickReplies || []; } catch (e) { return []; }
  }

  function gallery(data) {
    // Cognigy's default channel gallery: data._cognigy._default._gallery.items[{title, subtitle, imageUrl, buttons}]
    try { return data._cognigy._default._gallery.items || []; } catch (e) { return []; }
  }

  function buttons(data) {
    // Cognigy's default channel payload: data._cognigy._default._buttons.buttons[{type, title, payload, url}]
    try { return data._cognigy._default._buttons.buttons || []; } catch (e) { return []; }
  }

  // Buttons and quick replies: a postback sends its payload as the user's message, a web_url
  // button is a link.
  function buttonRow(cls, testid, items, live, linkTestid) {
    var row = el("div", cls);
    items.forEach(function (item) {
      var url = item.type === "web_url" ? safeUrl(item.url) : null;
      var b;
      if (url) {
        b = el("a", "button-link", item.title || url);
        b.href = url; b.target = "_blank"; b.rel = "noopener";
        b.dataset.testid = linkTestid || (testid + "-link");
      } else {
        b = el("button", null, item.title || item.payload);
        b.type = "button";
        b.dataset.testid = testid;
        b.disabled = !live;
        b.addEventListener("click", function () {
          if (cls === "quick-replies") {
            Array.prototype.forEach.call(row.querySelectorAll("button"), function (x) { x.disabled = true; });
          }
          send(item.payload || item.title);
        });
      }
      row.appendChild(b);
    });
    return row;
  }

  function renderCards(items, live) {
    var strip = el("div", "gallery");
    strip.dataset.testid = "gallery";
    items.forEach(function (card) {
      var c = el("div", "card");
      c.dataset.testid = "card";
      var image = safeUrl(card.imageUrl);
      if (image) { var img = el("img"); img.src = image; img.alt = card.title || ""; c.appendChild(img); }
      c.appendChild(el("strong", "card-title", card.title || ""));
      if (card.subtitle) { c.appendChild(el("span", "card-subtitle", card.subtitle)); }
      c.appendChild(buttonRow("card-buttons", "card-button", card.buttons || [], live));
      strip.appendChild(c);
    });
    return strip;
  }

  function addMessage(kind, text, opts) {
    opts = opts || {};
    if (kind === "user") {
      // quick replies answer the latest question only
      Array.prototype.forEach.call(log.querySelectorAll(".quick-replies:not(.buttons) button"), function (b) { b.disabled = true; });
    }
    var item = el("li", "msg " + kind);
    item.dataset.testid = "message";
    item.dataset.source = kind;
    if (opts.agent && opts.agent.avatar && safeUrl(opts.agent.avatar)) {
      var img = el("img", "avatar");
      img.src = opts.agent.avatar;
      img.alt = (opts.agent.name || "Agent") + " avatar";
      img.dataset.testid = "agent-avatar";
      item.appendChild(img);
    }
    if (opts.from) { item.dataset.from = opts.from; item.classList.add(opts.from); }
    var bubble = el("div", "bubble");
    if (kind === "agent" || kind === "bot") {
      var label = kind === "agent" ? ((opts.agent && opts.agent.name) || "Agent") :
        (opts.from === "contact-centre" ? "Contact centre" : "Bot");
      var who = el("span", "who", label);
      who.dataset.testid = kind === "agent" ? "agent-name" : "sender";
      bubble.appendChild(who);
    }
    var body = el("span", null, text || "");
    body.dataset.testid = "message-text";
    bubble.appendChild(body);
    (opts.attachments || []).forEach(function (att) { bubble.appendChild(renderAttachment(att)); });
    var data = opts.data || {};
    var qrs = quickReplies(data);
    if (qrs.length) { bubble.appendChild(buttonRow("quick-replies", "quick-reply", qrs, true)); }
    var btns = buttons(data);
    if (btns.length) { bubble.appendChild(buttonRow("quick-replies buttons", "button", btns, true, "button")); }
    var cards = gallery(data);
    if (cards.length) { bubble.appendChild(renderCards(cards, true)); }
    item.appendChild(bubble);
    if (typeof opts.seq === "number") { item.dataset.seq = String(opts.seq); }
    // An agent message Genesys delivered late goes in front of the output it precedes.
    var next = typeof opts.before === "number" ? log.querySelector('li[data-seq="' + opts.before + '"]') : null;
    if (next) { log.insertBefore(item, next); } else { log.appendChild(item); }
    scrollDown();
    return item;
  }

  // ---- banner -----------------------------------------------------------------------------
  // The input's hint follows the handover: the demo's "try agent" only while the bot answers.
  function renderPlaceholder() {
    var s = handover.status, hint = PLACEHOLDER;
    if (s === "active" && !handover.transferring) {
      hint = "Message " + (handover.agent || "the agent") + "…";
    } else if (OPEN_STATUSES[s]) {
      hint = "Type a message for the agent…";
    }
    input.setAttribute("placeholder", hint);
  }

  function renderBanner() {
    renderPlaceholder();
    var s = handover.status, text = null, state = s;
    if (s === "requested") { text = "Connecting you to an agent…"; }
    if (s === "queue" || (s === "active" && handover.transferring)) {
      state = handover.transferring ? "transfer" : "queue";
      text = handover.transferring ? "You are being transferred to another agent…" : "Waiting for an agent…";
      if (handover.position) { text += " You are number " + handover.position + " in the queue."; }
    } else if (s === "active") {
      text = "You are chatting with " + (handover.agent || "an agent");
    } else if (s === "completed") {
      text = "Back with the bot: the agent ended the chat.";
    } else if (s === "cancelled") {
      text = "Back with the bot: the chat with the agent was closed.";
    } else if (s === "error") {
      text = "We could not reach an agent.";
    }
    if (!text) { banner.hidden = true; return; }
    banner.textContent = text;
    banner.dataset.status = state;
    banner.hidden = false;
    attach.hidden = !OPEN_STATUSES[s];
  }

  function setStatus(status) {
    if (status !== handover.status) { handover.position = null; }
    if (!OPEN_STATUSES[status]) { handover.transferring = false; handover.agent = null; }
    handover.status = status;
  }

  function agentSeen(agent) {
    if (agent && agent.name) { handover.agent = agent.name; }
    handover.transferring = false;
    handover.position = null;
    if (handover.status === "queue" || handover.status === "requested" || handover.status === null) {
      handover.status = "active";
    }
  }

  // ---- typing -----------------------------------------------------------------------------
  function hideTyping() {
    typing.hidden = true;
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
  }

  function showTyping(name) {
    typing.querySelector(".typing-name").textContent = name || handover.agent || "The agent";
    typing.hidden = false;
    if (typingTimer) { clearTimeout(typingTimer); }
    typingTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
  }

  // ---- outputs ----------------------------------------------------------------------------
  function renderOutput(out, replay) {
    var data = out.data || {};
    if (out.source === "user") { return userOutput(out); }
    if (out.source === "system") {
      var h = data.handover || {};
      if (h.status) {
        setStatus(h.status);
        if (data.agent && data.agent.name) { handover.agent = data.agent.name; }
        if (h.event === "transferred") {
          handover.transferring = true;
          handover.agent = null;
          handover.position = null;
        } else if (h.status === "active" && data.agent && data.agent.name) {
          handover.transferring = false;  // an agent connected
        }
        if (h.status !== "active" || h.event === "transferred") { hideTyping(); }
      }
      if (out.text) { addMessage("system", out.text); }
      renderBanner();
      return;
    }
    if (out.source === "agent") {
      agentSeen(data.agent);
      renderBanner();
      if (data.typing) {
        if (!replay) { showTyping(data.agent && data.agent.name); }
        return;
      }
      hideTyping();
      if (out.text || attachmentsOf(data).length || quickReplies(data).length || buttons(data).length ||
          gallery(data).length) {
        addMessage("agent", out.text, { agent: data.agent, data: data, attachments: attachmentsOf(data), replay: replay,
                                        seq: out.seq, before: out.before });
      }
      return;
    }
    // bot: also the Genesys bot / queue messages relayed by the flow
    if (out.text && (handover.status === "queue" || handover.transferring)) {
      var m = POSITION.exec(out.text);
      if (m) { handover.position = parseInt(m[1], 10); renderBanner(); }
    }
    // Not the flow's answer to an input but a message it relays while a handover is open: the
    // contact centre's (the Genesys inbound message flow's "Connected", queue notices).
    var from = !out.reply && OPEN_STATUSES[handover.status] ? "contact-centre" : null;
    if (out.text || quickReplies(data).length || buttons(data).length || gallery(data).length) {
      addMessage("bot", out.text || "", { data: data, replay: replay, from: from });
    }
  }

  // A stored user input: the confirmation of a message this page sent, or one sent elsewhere.
  function userOutput(out) {
    var atts = attachmentsOf(out.data);
    var key = outputKey(out);
    for (var i = 0; i < pending.length; i++) {
      if (pending[i].key === key) {
        var p = pending.splice(i, 1)[0];
        markSent(p);
        return;
      }
    }
    if (isGetStarted(out.text, out.data)) { return; }  // the conversation's start, not shown
    var item = addMessage("user", out.text, { attachments: atts });
    item.dataset.state = "sent";
  }

  function isGetStarted(text, data) {
    return text === GET_STARTED && !attachmentsOf(data).length;
  }

  function accept(out, replay) {
    if (typeof out.seq === "number") {
      if (out.seq <= lastSeq) { return; }
      lastSeq = out.seq;
    }
    renderOutput(out, replay);
  }

  function onOutput(event) {
    var out;
    try { out = JSON.parse(event.data); } catch (e) { return; }
    accept(out, false);
  }

  function openStream() {
    if (source) { source.close(); }
    // EventSource sends Last-Event-ID itself on reconnects; `after` starts after the history.
    source = new EventSource(sessionUrl("events", "&history=true&after=" + lastSeq));
    source.addEventListener("output", onOutput);
    source.addEventListener("open", function () { showError(""); retryFailed(); });
    source.addEventListener("error", function () {
      if (source && source.readyState !== EventSource.CLOSED) { showError("Reconnecting…"); }
    });
  }

  // The session's stored conversation (user, bot, agent and system lines, banner state).
  function loadHistory(gen) {
    var seen = [];
    function page() {
      return fetch(sessionUrl("outputs", "&history=true&after=" + lastSeq))
        .then(function (resp) { if (!resp.ok) { throw new Error("HTTP " + resp.status); } return resp.json(); })
        .then(function (body) {
          if (gen !== generation) { return null; }
          var outs = body.outputs || [];
          outs.forEach(function (out) { seen.push(out); accept(out, true); });
          if (typeof body.next === "number" && body.next > lastSeq) { lastSeq = body.next; }
          return outs.length ? page() : null;
        });
    }
    return page().then(function () { return seen; }, function () {
      return seen;  // the stream still delivers what comes next
    });
  }

  // ---- sending ----------------------------------------------------------------------------
  function post(url, body, idempotencyKey) {
    var headers = { "Content-Type": "application/json" };
    if (idempotencyKey) { headers["Idempotency-Key"] = idempotencyKey; }
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(body) });
  }

  // One Idempotency-Key per message, sent again with each of its re-sends (also after a
  // reload), so a message whose answer was lost reaches the agent once.
  function newIdempotencyKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // Messages not yet confirmed survive a reload: kept per session until the bridge has them.
  function savePending() {
    var unsent = pending.filter(function (p) { return !p.done; }).map(function (p) {
      return { body: p.body, key: p.key, after: p.after, idem: p.idem };
    });
    if (unsent.length) {
      localStorage.setItem(storageKey("unsent:" + sessionId), JSON.stringify(unsent));
    } else {
      localStorage.removeItem(storageKey("unsent:" + sessionId));
    }
  }

  // After the history is shown: what was still unsent is shown again and re-sent, unless the
  // history shows it arrived after all.
  function restorePending(history) {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(storageKey("unsent:" + sessionId)) || "[]"); } catch (e) { saved = []; }
    saved.forEach(function (s) {
      var arrived = history.some(function (out) { return out.source === "user" && out.seq > s.after && outputKey(out) === s.key; });
      if (!arrived && s.body) {
        if (isGetStarted(s.body.text, s.body.data)) { startConversation(s.after, s.idem); return; }
        sendInput(s.body.text || "", s.body.data || null, s.after, false, false, s.idem);
      }
    });
    savePending();
  }

  function outputKey(out) {
    return (out.text || "") + "|" + attachmentsOf(out.data).map(function (a) { return a.url; }).join(",");
  }

  function markSent(p) {
    p.done = true;
    startDelivered(p);
    if (p.timer) { clearTimeout(p.timer); p.timer = null; }
    p.item.dataset.state = "sent";
    var status = p.item.querySelector(".send-state");
    if (status) { status.remove(); }
    savePending();
  }

  function markFailed(p, reason) {
    p.item.dataset.state = "failed";
    var status = p.item.querySelector(".send-state");
    if (!status) {
      status = el("div", "send-state");
      p.item.querySelector(".bubble").appendChild(status);
    }
    // Built once and then only its reason changes: each automatic retry marks the message again,
    // and a Retry button replaced under the pointer would swallow the click.
    var why = status.querySelector(".reason");
    if (!why) {
      why = el("span", "reason");
      status.appendChild(why);
      var retry = el("button", "link", "Retry");
      retry.type = "button";
      retry.dataset.testid = "retry";
      retry.addEventListener("click", function () { p.attempts = 0; p.done = false; deliver(p); });
      status.appendChild(retry);
    }
    why.textContent = reason || "Not sent. ";
  }

  // The Get Started input goes first: a message typed before the bridge has it waits (shown as
  // not sent while the start cannot get through), so the flow greets before it answers anything.
  function deliver(p) {
    if (p.done || p.gen !== generation) { return; }
    if (startP && p !== startP) {
      if (waiting.indexOf(p) < 0) { waiting.push(p); }
      if (startP.item.dataset.state === "failed") {
        markFailed(p, NOT_REACHED);
        if (!startP.timer) { startP.attempts = 0; deliverNow(startP); }  // a Retry tries it too
      } else {
        p.item.dataset.state = "sending";
      }
      return;
    }
    deliverNow(p);
  }

  function startDelivered(p) {
    if (p !== startP) { return; }
    startP = null;
    var held = waiting;
    waiting = [];
    held.forEach(function (w) { w.attempts = 0; deliver(w); });
  }

  function deliverNow(p) {
    if (p.done || p.gen !== generation) { return; }
    if (p.timer) { clearTimeout(p.timer); p.timer = null; }
    p.item.dataset.state = "sending";
    post(endpoint, p.body, p.idem)
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (body) { return { resp: resp, body: body }; });
      })
      .then(function (result) {
        if (p.gen !== generation || p.done) { return; }
        if (result.resp.ok) { markSent(p); showError(""); return; }
        if (result.resp.status >= 400 && result.resp.status < 500 && [408, 409, 429].indexOf(result.resp.status) < 0) {
          // refused for good (e.g. too long): say why, no automatic retry
          p.done = true;
          startDelivered(p);
          savePending();
          markFailed(p, (result.body.message || "The message was refused.") + " ");
          return;
        }
        failed(p);
      })
      // (a message the stream already showed stored is done, whatever became of its answer)
      .catch(function () { if (p.gen === generation && !p.done) { failed(p); } });
  }

  function failed(p) {
    markFailed(p, NOT_REACHED);
    if (p === startP) { waiting.forEach(function (w) { markFailed(w, NOT_REACHED); }); }
    var delay = RETRY_DELAYS_MS[p.attempts];
    p.attempts += 1;
    if (delay !== undefined) { p.timer = setTimeout(function () { deliver(p); }, delay); }
  }

  function retryFailed() {
    pending.forEach(function (p) {
      if (!p.done && p.item.dataset.state === "failed") { p.attempts = 0; deliver(p); }
    });
  }

  function sendInput(text, data, after, hidden, start, idem) {
    var atts = attachmentsOf(data);
    var item = hidden ? detachedItem() : addMessage("user", text, { attachments: atts });
    var body = { userId: userId, sessionId: sessionId };
    if (text) { body.text = text; }
    if (data) { body.data = data; }
    var p = {
      item: item, body: body, attempts: 0, gen: generation, done: false, timer: null,
      key: outputKey({ text: text, data: data }), after: after === undefined ? lastSeq : after,
      idem: idem || newIdempotencyKey()
    };
    pending.push(p);
    savePending();
    if (start) { startP = p; }
    deliver(p);
    return p;
  }

  // The item of an input that is not shown (Get Started): its send state is kept off the page.
  function detachedItem() {
    var item = el("li", "msg user");
    item.appendChild(el("div", "bubble"));
    return item;
  }

  // A new, empty conversation starts the flow with Cognigy's Get Started input; remembered per
  // session, so a reload (even before the answer arrived) does not start it twice.
  function startConversation(after, idem) {
    localStorage.setItem(storageKey("started:" + sessionId), "1");
    sendInput(GET_STARTED, null, after, true, true, idem);
  }

  function started() {
    return !!localStorage.getItem(storageKey("started:" + sessionId));
  }

  function send(text) {
    text = (text || "").trim();
    if (!text) { return; }
    sendInput(text, null);
  }

  function sendFile(file) {
    if (FILE_TYPES.indexOf(file.type) < 0) {
      showError("This type of file cannot be sent. Allowed: images (JPEG, PNG, GIF), PDF and text files.");
      return;
    }
    if (file.size > MAX_FILE_BYTES) {
      showError("The file is too large: the limit is " + formatSize(MAX_FILE_BYTES) + ".");
      return;
    }
    showError("");
    fetch(sessionUrl("uploads", "&name=" + encodeURIComponent(file.name)), {
      method: "POST", headers: { "Content-Type": file.type }, body: file
    }).then(function (resp) {
      return resp.json().then(function (body) {
        if (!resp.ok) { throw new Error(body.message || "The file could not be sent."); }
        return body;
      });
    }).then(function (att) {
      sendInput("", { attachments: [{
        url: att.url, mime: att.mime, filename: att.filename, mediaType: att.mediaType,
        contentSizeBytes: att.contentSizeBytes
      }] });
    }).catch(function (err) { showError(err.message || "The file could not be sent."); });
  }

  // ---- presence ---------------------------------------------------------------------------
  function connect() {
    if (connected) { return; }
    connected = true;
    post(sessionUrl("connect"), { userId: userId }).catch(function () { connected = false; });
  }

  function beacon(url) {
    var blob = new Blob([JSON.stringify({ userId: userId })], { type: "application/json" });
    // sendBeacon survives the page going away, which fetch does not guarantee.
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, blob))) {
      fetch(url, { method: "POST", keepalive: true, body: blob });
    }
  }

  function disconnect() {
    if (!connected) { return; }
    connected = false;
    beacon(sessionUrl("disconnect"));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    lastTypingSent = 0;  // the next message's first keystroke is announced again
    send(text);
  });

  input.addEventListener("input", function () {
    var now = Date.now();
    if (!input.value || now - lastTypingSent < TYPING_THROTTLE_MS) { return; }
    lastTypingSent = now;
    post(sessionUrl("typing"), { userId: userId }).catch(function () {});
  });

  attach.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (file) { sendFile(file); }
    fileInput.value = "";
  });

  // "New conversation": the old one ends the way a user leaving does (the agent is told, the
  // Genesys conversation is disconnected and the handover ends), then a fresh session starts.
  root.querySelector("[data-testid=new-conversation]").addEventListener("click", function () {
    if (OPEN_STATUSES[handover.status]) { beacon(sessionUrl("end")); } else { disconnect(); }
    connected = false;
    generation += 1;
    pending.forEach(function (p) { if (p.timer) { clearTimeout(p.timer); } });
    pending = [];
    localStorage.removeItem(storageKey("unsent:" + sessionId));
    localStorage.removeItem(storageKey("started:" + sessionId));
    startP = null;
    waiting = [];
    sessionId = randomId("s-");
    localStorage.setItem(storageKey("sessionId"), sessionId);
    lastSeq = 0;
    log.innerHTML = "";
    handover = { status: null, agent: null, position: null, transferring: false };
    renderBanner();
    attach.hidden = true;
    hideTyping();
    showError("");
    openStream();
    connect();
    startConversation(0);
    input.focus();
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { connect(); }
  });
  window.addEventListener("online", retryFailed);
  window.addEventListener("pageshow", function (event) { if (event.persisted) { connect(); openStream(); } });
  window.addEventListener("pagehide", disconnect);

  var gen0 = generation;
  loadHistory(gen0).then(function (history) {
    if (gen0 !== generation) { return; }
    restorePending(history);
    // Cognigy starts a conversation only when its history is empty: a reload does not greet again.
    if (!history.length && !started()) { startConversation(lastSeq); }
    root.dataset.ready = "true";
    openStream();
  });
  connect();
  input.focus();
}());
