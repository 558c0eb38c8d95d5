// Agent console of the Genesys Cloud sandbox. It talks only to the public Genesys routes an agent
// desktop uses: OAuth password grant, Users, Routing, and the message conversation APIs.
(function () {
  "use strict";

  var POLL_MS = 1000;
  var TYPING_THROTTLE_MS = 3000;
  var state = { token: null, me: null, queues: [], conversations: [], selected: null,
                commIds: {}, transcriptKey: null, lastTyping: 0, pollTimer: null, routing: null };

  function $(id) { return document.getElementById(id); }

  function setStatus(text) { $("status").textContent = text || ""; }

  function api(method, path, body) {
    var opts = { method: method, headers: { "Authorization": "Bearer " + state.token } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (resp) {
      if (resp.status === 401) { logout("Your session expired; log in again."); throw new Error("401"); }
      return resp.text().then(function (text) {
        var data = text ? JSON.parse(text) : null;
        if (!resp.ok) {
          var msg = (data && data.message) || ("HTTP " + resp.status);
          throw new Error(msg);
        }
        return data;
      });
    });
  }

  // ---- login ------------------------------------------------------------------------------
  function login(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    var form = new URLSearchParams();
    form.set("grant_type", "password");
    form.set("username", $("username").value);
    form.set("password", $("password").value);
    fetch("/oauth/token", {
      method: "POST",
      headers: { "Authorization": "Basic " + btoa($("client-id").value + ":" + $("client-secret").value),
                 "Content-Type": "application/x-www-form-urlencoded" },
      body: form.toString()
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok) { throw new Error(data.error_description || data.error || data.message || "Login failed"); }
        return data;
      });
    }).then(function (data) {
      state.token = data.access_token;
      sessionStorage.setItem("sandbox-console-token", state.token);
      return start();
    }).catch(function (err) { $("login-error").textContent = err.message; });
  }

  function logout(message) {
    state.token = null;
    sessionStorage.removeItem("sandbox-console-token");
    clearInterval(state.pollTimer);
    $("workspace").hidden = true;
    $("who").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
  }

  function start() {
    return api("GET", "/api/v2/users/me").then(function (me) {
      state.me = me;
      $("agent-name").textContent = me.name;
      var img = (me.images || [])[0];
      if (img) { $("avatar").src = img.imageUri; $("avatar").alt = me.name; }
      $("avatar").hidden = !img;
      $("login").hidden = true;
      $("workspace").hidden = false;
      $("who").hidden = false;
      loadQueues();
      loadRouting();
      poll();
      state.pollTimer = setInterval(poll, POLL_MS);
    });
  }

  // ---- routing status and queues ------------------------------------------------
  function loadRouting() {
    api("GET", "/api/v2/users/" + state.me.id + "/routingstatus").then(showRouting)
      .catch(function () { $("routing-toggle").hidden = true; });
  }

  function showRouting(status) {
    state.routing = status && status.status;
    var off = state.routing === "OFF_QUEUE";
    $("routing-toggle").textContent = off ? "Go on queue" : "Go off queue";
    $("routing-toggle").setAttribute("data-status", state.routing || "");
  }

  function toggleRouting() {
    var next = state.routing === "OFF_QUEUE" ? "IDLE" : "OFF_QUEUE";
    api("PUT", "/api/v2/users/" + state.me.id + "/routingstatus", { status: next })
      .then(showRouting).catch(function (err) { setStatus(err.message); });
  }

  function loadQueues() {
    api("GET", "/api/v2/routing/queues?pageSize=100").then(function (listing) {
      state.queues = listing.entities || [];
      var select = $("transfer-queue");
      select.textContent = "";
      state.queues.forEach(function (q) {
        var opt = document.createElement("option");
        opt.value = q.id; opt.textContent = q.name;
        select.appendChild(opt);
      });
    }).catch(function (err) { setStatus(err.message); });
  }

  // ---- conversations ------------------------------------------------------------------------
  function myLeg(conv) {
    var mine = (conv.participants || []).filter(function (p) {
      return p.purpose === "agent" && p.user && p.user.id === state.me.id;
    });
    return mine.length ? mine[mine.length - 1] : null;
  }

  function customerOf(conv) {
    return (conv.participants || []).filter(function (p) { return p.purpose === "customer"; })[0] || null;
  }

  // The customer's display name: the Open Messaging profile name, else the bridge's custom
  // attributes (name / userId), else the customer's address (the Open Messaging customer id).
  function customerLabel(cust) {
    if (!cust) { return "Customer"; }
    var attrs = cust.attributes || {};
    return cust.name || attrs.name || attrs.userName || attrs.userId || cust.address ||
      (cust.fromAddress && cust.fromAddress.addressNormalized) || "Customer";
  }

  function legPhase(leg) {
    if (!leg) { return "gone"; }
    if (leg.state === "alerting") { return "offered"; }
    if (leg.state === "connected") { return "active"; }
    if (leg.wrapupRequired && !leg.wrapup) { return "wrap-up"; }
    return "done";
  }

  function poll() {
    if (!state.token) { return; }
    api("GET", "/api/v2/conversations/messages").then(function (listing) {
      state.conversations = (listing.entities || []).filter(function (c) {
        var phase = legPhase(myLeg(c));
        return phase !== "done" && phase !== "gone";
      });
      renderList();
      if (state.selected && !findConv(state.selected)) { state.selected = null; }
      if (!state.selected && state.conversations.length) { state.selected = state.conversations[0].id; }
      renderDetail();
    }).catch(function (err) { if (err.message !== "401") { setStatus(err.message); } });
  }

  function findConv(id) {
    return state.conversations.filter(function (c) { return c.id === id; })[0] || null;
  }

  function renderList() {
    var ul = $("conversations");
    ul.textContent = "";
    $("no-conversations").hidden = state.conversations.length > 0;
    state.conversations.forEach(function (conv) {
      var cust = customerOf(conv);
      var li = document.createElement("li");
      var btn = document.createElement("button");
      btn.type = "button";
      btn.setAttribute("data-testid", "conversation-" + conv.id);
      btn.setAttribute("data-phase", legPhase(myLeg(conv)));
      btn.setAttribute("aria-current", conv.id === state.selected ? "true" : "false");
      btn.textContent = customerLabel(cust) + " — " + legPhase(myLeg(conv));
      btn.addEventListener("click", function () { state.selected = conv.id; state.transcriptKey = null; renderList(); renderDetail(); });
      li.appendChild(btn);
      ul.appendChild(li);
    });
  }

  function renderDetail() {
    var conv = state.selected && findConv(state.selected);
    $("detail").hidden = !conv;
    if (!conv) { return; }
    var leg = myLeg(conv), phase = legPhase(leg), cust = customerOf(conv);
    $("detail").setAttribute("data-conversation-id", conv.id);
    $("detail-title").textContent = customerLabel(cust);
    $("detail-state").textContent = phase;
    $("answer").hidden = phase !== "offered";
    $("end").hidden = phase !== "active" && phase !== "offered";
    $("end").textContent = phase === "offered" ? "Decline" : "End conversation";
    $("transfer-form").hidden = phase !== "active";
    $("send-form").hidden = phase !== "active";
    $("wrapup-form").hidden = phase !== "wrap-up";
    renderAttributes(cust ? cust.attributes || {} : {});
    renderCustomerTyping(conv, cust, phase);
    loadTranscript(conv);
  }

  // Customer typing: the time of the customer's last Typing event (sandbox listing field
  // `sandboxCustomerTypingTime`), shown for a few seconds like the agent side of a chat.
  var CUSTOMER_TYPING_MS = 6000;
  function renderCustomerTyping(conv, cust, phase) {
    var note = $("customer-typing");
    var at = conv.sandboxCustomerTypingTime ? Date.parse(conv.sandboxCustomerTypingTime) : NaN;
    var fresh = phase === "active" && !isNaN(at) && Date.now() - at < CUSTOMER_TYPING_MS;
    note.textContent = fresh ? customerLabel(cust) + " is typing…" : "";
    note.hidden = !fresh;
  }

  function renderAttributes(attrs) {
    var dl = $("attributes");
    dl.textContent = "";
    Object.keys(attrs).sort().forEach(function (key) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      var value = String(attrs[key]);
      dt.textContent = key; dd.textContent = value; dd.title = value;
      // An id (no spaces) stays on one line; a sentence wraps between its words.
      dd.className = /\s/.test(value) ? "words" : "id";
      dd.setAttribute("data-testid", "attribute-" + key);
      dl.appendChild(dt); dl.appendChild(dd);
    });
  }

  function messageIds(conv) {
    var ids = [];
    (conv.participants || []).forEach(function (p) {
      (p.messages || []).forEach(function (m) { if (m.messageId) { ids.push(m.messageId); } });
    });
    return ids;
  }

  function loadTranscript(conv) {
    var ids = messageIds(conv);
    var key = conv.id + ":" + ids.join(",");
    if (key === state.transcriptKey) { return; }
    state.transcriptKey = key;
    if (!ids.length) { $("transcript").textContent = ""; return; }
    api("POST", "/api/v2/conversations/messages/" + conv.id + "/messages/bulk?useNormalizedMessage=true", ids)
      .then(function (listing) { renderTranscript(listing.entities || []); })
      .catch(function (err) { state.transcriptKey = null; setStatus(err.message); });
  }

  function formatSize(bytes) {
    if (typeof bytes !== "number") { return ""; }
    if (bytes < 1024) { return bytes + " B"; }
    if (bytes < 1024 * 1024) { return (bytes / 1024).toFixed(1) + " KB"; }
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function buttonsOf(actions) {
    var row = el("div", "buttons");
    (actions || []).forEach(function (a) {
      var label = a.text || a.title || a.payload || "";
      row.appendChild(el("span", null, a.type === "Link" ? label + " ↗" : label));
    });
    return row;
  }

  function cardOf(card) {
    var box = el("div", "card");
    box.setAttribute("data-testid", "transcript-card");
    if (card.image) {
      var img = el("img", "attachment"); img.src = card.image; img.alt = card.title || "";
      box.appendChild(img);
    }
    box.appendChild(el("strong", null, card.title || ""));
    if (card.description) { box.appendChild(el("div", null, card.description)); }
    box.appendChild(buttonsOf(card.actions));
    return box;
  }

  // One content element of a normalized message (attachments, quick replies, cards, carousels,
  // button responses).
  function renderContent(li, item) {
    var a = item.attachment;
    if (item.contentType === "Attachment" || (a && !item.contentType)) {
      var name = a.filename || a.url;
      if (a.mediaType === "Image") {
        var img = el("img", "attachment"); img.src = a.url; img.alt = name;
        img.setAttribute("data-testid", "transcript-image");
        li.appendChild(img);
      }
      var link = el("a", null, name + (a.contentSizeBytes ? " (" + formatSize(a.contentSizeBytes) + ")" : ""));
      link.href = a.url; link.target = "_blank"; link.rel = "noopener";
      link.setAttribute("data-testid", "transcript-attachment");
      if (li.childNodes.length > 1 && li.lastChild.textContent) { li.appendChild(el("br")); }
      li.appendChild(link);
    } else if (item.contentType === "QuickReply" && item.quickReply) {
      var last = li.lastChild;
      if (!last || last.className !== "buttons") { last = el("div", "buttons"); li.appendChild(last); }
      last.appendChild(el("span", null, item.quickReply.text));
    } else if (item.contentType === "Card" && item.card) {
      li.appendChild(cardOf(item.card));
    } else if (item.contentType === "Carousel" && item.carousel) {
      (item.carousel.cards || []).forEach(function (c) { li.appendChild(cardOf(c)); });
    } else if (item.contentType === "ButtonResponse" && item.buttonResponse) {
      // The customer's choice (Genesys ButtonResponse {type, text, payload}): its label, else
      // its payload, marked with the kind of control it answered.
      var br = item.buttonResponse, label = br.text || br.payload || "";
      var shown = Array.prototype.some.call(li.childNodes, function (n) {
        return n.nodeType === 3 && n.textContent === label;
      });
      if (label && !shown) {
        var choice = el("span", "choice", label);
        choice.setAttribute("data-testid", "button-response");
        li.appendChild(choice);
      }
      var kindLabel = { QuickReply: "quick reply", Button: "button", DatePicker: "date picker" }[br.type];
      li.appendChild(el("span", "choice-kind", " · chose a " + (kindLabel || "button")));
    }
  }

  function renderTranscript(messages) {
    var ol = $("transcript");
    ol.textContent = "";
    messages.slice().sort(function (a, b) { return (a.timestamp || "").localeCompare(b.timestamp || ""); })
      .forEach(function (m) {
        var li = document.createElement("li"), who = el("span", "who");
        var norm = m.normalizedMessage || {};
        var origin = norm.originatingEntity || "";
        li.className = m.direction;
        li.setAttribute("data-testid", "message");
        who.textContent = m.direction === "inbound" ? "Customer" : (origin === "Bot" ? "Bot" : "Agent");
        li.appendChild(who);
        var text = m.textBody || norm.text || "";
        if (text) { li.appendChild(document.createTextNode(text)); }
        (norm.content || []).forEach(function (item) { renderContent(li, item); });
        ol.appendChild(li);
      });
    ol.scrollTop = ol.scrollHeight;
  }

  // ---- agent actions ------------------------------------------------------------------------
  function selectedLeg() {
    var conv = state.selected && findConv(state.selected);
    return conv ? { conv: conv, leg: myLeg(conv) } : null;
  }

  function patchLeg(body, done) {
    var sel = selectedLeg();
    if (!sel || !sel.leg) { return; }
    api("PATCH", "/api/v2/conversations/messages/" + sel.conv.id + "/participants/" + sel.leg.id, body)
      .then(function () { setStatus(done); poll(); })
      .catch(function (err) { setStatus(err.message); });
  }

  // The communication id of the agent's leg comes from GET /api/v2/conversations/{id}.
  function communicationId(conv, leg) {
    var cached = state.commIds[leg.id];
    if (cached) { return Promise.resolve(cached); }
    return api("GET", "/api/v2/conversations/" + conv.id).then(function (full) {
      var part = (full.participants || []).filter(function (p) { return p.id === leg.id; })[0];
      var comm = part && (part.messages || [])[0];
      if (!comm) { throw new Error("No message communication on this participant."); }
      state.commIds[leg.id] = comm.id;
      return comm.id;
    });
  }

  function parseButtons(raw, kind) {
    return (raw || "").split(",").map(function (x) { return x.trim(); }).filter(Boolean).map(function (b) {
      var bar = b.indexOf("|");
      var label = bar < 0 ? b : b.slice(0, bar).trim(), url = bar < 0 ? "" : b.slice(bar + 1).trim();
      if (kind === "quickreplies") { return { text: label, payload: label }; }
      return url ? { type: "Link", text: label, url: url } : { type: "Postback", text: label, payload: label };
    });
  }

  // Structured content of the message being sent (sandbox extension of AdditionalMessage:
  // `content`, Open Messaging normalized content elements).
  function richContent(text) {
    var kind = $("rich-kind").value, buttons = parseButtons($("rich-buttons").value, kind);
    if (kind === "quickreplies") {
      return buttons.map(function (b) {
        return { contentType: "QuickReply", quickReply: { text: b.text, payload: b.payload, action: "Message" } };
      });
    }
    if (kind === "card") {
      return [{ contentType: "Card", card: { title: text, actions: buttons } }];
    }
    if (kind === "carousel") {
      var cards = text.split("\n").map(function (t) { return t.trim(); }).filter(Boolean)
        .map(function (t) { return { title: t, actions: buttons }; });
      return [{ contentType: "Carousel", carousel: { cards: cards } }];
    }
    return [];
  }

  // Genesys media upload: create an upload, PUT the bytes to its URL, then send the media id.
  function uploadFile(conv, commId, file) {
    var base = "/api/v2/conversations/messages/" + conv.id + "/communications/" + commId + "/messages/media";
    return api("POST", base + "/uploads", { fileName: file.name, contentLengthBytes: file.size })
      .then(function (upload) {
        var headers = upload.uploadHeaders || {};
        if (!headers["Content-Type"] && file.type) { headers["Content-Type"] = file.type; }
        return fetch(upload.uploadUrl, { method: "PUT", headers: headers, body: file }).then(function (resp) {
          if (!resp.ok) { throw new Error("Upload failed: HTTP " + resp.status); }
          return upload.id;
        });
      });
  }

  function send(event) {
    event.preventDefault();
    var sel = selectedLeg(), text = $("message-text").value.trim();
    var fileInput = $("attach-file"), file = fileInput.files && fileInput.files[0];
    if (!sel || !sel.leg || (!text && !file)) { return; }
    var content = text ? richContent(text) : [];
    var kind = $("rich-kind").value;
    communicationId(sel.conv, sel.leg).then(function (commId) {
      var media = file ? uploadFile(sel.conv, commId, file) : Promise.resolve(null);
      return media.then(function (mediaId) {
        var body = {};
        if (text && kind !== "card" && kind !== "carousel") { body.textBody = text; }
        if (mediaId) { body.mediaIds = [mediaId]; }
        if (content.length) { body.content = content; }
        return api("POST", "/api/v2/conversations/messages/" + sel.conv.id + "/communications/" + commId + "/messages", body);
      });
    }).then(function () {
      $("message-text").value = ""; fileInput.value = ""; $("rich-buttons").value = ""; $("rich-kind").value = "text";
      showSendHint();
      setStatus("Message sent."); state.transcriptKey = null; poll();
    }).catch(function (err) { setStatus(err.message); });
  }

  // How the reply box sends: Enter sends (Shift+Enter adds a line); a carousel takes a card per
  // line, so there Enter adds a line and Ctrl+Enter (or the Send button) sends.
  function multiLine() { return $("rich-kind").value === "carousel"; }

  function showSendHint() {
    var carousel = multiLine();
    $("send-hint").textContent = carousel
      ? "One card per line: Enter adds a line; Ctrl+Enter or Send sends the carousel."
      : "Enter sends; Shift+Enter adds a line.";
    $("message-text").rows = carousel ? 4 : 2;
  }

  function typing() {
    var now = Date.now(), sel = selectedLeg();
    if (!sel || !sel.leg || now - state.lastTyping < TYPING_THROTTLE_MS) { return; }
    state.lastTyping = now;
    communicationId(sel.conv, sel.leg).then(function (commId) {
      return api("POST", "/api/v2/conversations/messages/" + sel.conv.id + "/communications/" + commId + "/typing",
                 { typing: { type: "On", duration: 5000 } });
    }).catch(function () { /* typing is best effort */ });
  }

  function transfer(event) {
    event.preventDefault();
    var sel = selectedLeg(), queueId = $("transfer-queue").value;
    if (!sel || !sel.leg || !queueId) { return; }
    api("POST", "/api/v2/conversations/messages/" + sel.conv.id + "/participants/" + sel.leg.id + "/replace",
        { queueId: queueId })
      .then(function () { setStatus("Transferred."); poll(); })
      .catch(function (err) { setStatus(err.message); });
  }

  function wrapup(event) {
    event.preventDefault();
    var body = { wrapup: { code: $("wrapup-code").value.trim() } };
    var notes = $("wrapup-notes").value.trim();
    if (notes) { body.wrapup.notes = notes; }
    patchLeg(body, "Wrap-up saved.");
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("login-form").addEventListener("submit", login);
    $("logout").addEventListener("click", function () { logout(""); });
    $("routing-toggle").addEventListener("click", toggleRouting);
    $("answer").addEventListener("click", function () { patchLeg({ state: "connected" }, "Answered."); });
    $("end").addEventListener("click", function () { patchLeg({ state: "disconnected" }, "Disconnected."); });
    $("send-form").addEventListener("submit", send);
    $("message-text").addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && (!multiLine() || e.ctrlKey || e.metaKey)) { send(e); return; }
      typing();
    });
    $("rich-kind").addEventListener("change", showSendHint);
    $("message-text").addEventListener("focus", showSendHint);
    showSendHint();
    $("transfer-form").addEventListener("submit", transfer);
    $("wrapup-form").addEventListener("submit", wrapup);
    var saved = sessionStorage.getItem("sandbox-console-token");
    if (saved) { state.token = saved; start().catch(function () { logout(""); }); }
  });
})();
