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
      btn.textContent = ((cust && cust.name) || "Customer") + " — " + legPhase(myLeg(conv));
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
    $("detail-title").textContent = (cust && cust.name) || "Customer";
    $("detail-state").textContent = phase;
    $("answer").hidden = phase !== "offered";
    $("end").hidden = phase !== "active" && phase !== "offered";
    $("end").textContent = phase === "offered" ? "Decline" : "End conversation";
    $("transfer-form").hidden = phase !== "active";
    $("send-form").hidden = phase !== "active";
    $("wrapup-form").hidden = phase !== "wrap-up";
    renderAttributes(cust ? cust.attributes || {} : {});
    loadTranscript(conv);
  }

  function renderAttributes(attrs) {
    var dl = $("attributes");
    dl.textContent = "";
    Object.keys(attrs).sort().forEach(function (key) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = key; dd.textContent = attrs[key];
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

  function renderTranscript(messages) {
    var ol = $("transcript");
    ol.textContent = "";
    messages.slice().sort(function (a, b) { return (a.timestamp || "").localeCompare(b.timestamp || ""); })
      .forEach(function (m) {
        var li = document.createElement("li"), who = document.createElement("span");
        var origin = (m.normalizedMessage && m.normalizedMessage.originatingEntity) || "";
        li.className = m.direction;
        li.setAttribute("data-testid", "message");
        who.className = "who";
        who.textContent = m.direction === "inbound" ? "Customer" : (origin === "Bot" ? "Bot" : "Agent");
        li.appendChild(who);
        li.appendChild(document.createTextNode(m.textBody || (m.normalizedMessage && m.normalizedMessage.text) || ""));
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

  function send(event) {
    event.preventDefault();
    var sel = selectedLeg(), text = $("message-text").value.trim();
    if (!sel || !sel.leg || !text) { return; }
    communicationId(sel.conv, sel.leg).then(function (commId) {
      return api("POST", "/api/v2/conversations/messages/" + sel.conv.id + "/communications/" + commId + "/messages",
                 { textBody: text });
    }).then(function () { $("message-text").value = ""; setStatus("Message sent."); poll(); })
      .catch(function (err) { setStatus(err.message); });
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
      if (e.key === "Enter" && !e.shiftKey) { send(e); return; }
      typing();
    });
    $("transfer-form").addEventListener("submit", transfer);
    $("wrapup-form").addEventListener("submit", wrapup);
    var saved = sessionStorage.getItem("sandbox-console-token");
    if (saved) { state.token = saved; start().catch(function () { logout(""); }); }
  });
})();
