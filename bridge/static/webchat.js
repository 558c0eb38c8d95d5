// om-bridge webchat: a small client of the endpoint routes (POST input, SSE outputs, connect/disconnect,
// typing). Vanilla JS, no external resources.
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
  var errorBox = root.querySelector("[data-testid=error]");

  var TYPING_THROTTLE_MS = 3000;   // at most one typing event per 3 s while the user types
  var TYPING_SHOW_MS = 6000;       // hide the agent typing indicator if no message follows
  var STATUS_TEXT = {
    requested: "Connecting you to an agent…",
    queue: "Waiting for an agent…",
    completed: "Back with the bot",
    cancelled: "Back with the bot",
    error: "We could not reach an agent."
  };

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
  var lastSeq = parseInt(localStorage.getItem(storageKey("lastSeq:" + sessionId)) || "0", 10) || 0;
  var agentName = null;
  var handoverStatus = null;
  var source = null;
  var connected = false;
  var lastTypingSent = 0;
  var typingTimer = null;

  function sessionUrl(action) {
    return endpoint + "/sessions/" + encodeURIComponent(sessionId) + "/" + action +
      "?userId=" + encodeURIComponent(userId);
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addMessage(kind, text, opts) {
    opts = opts || {};
    var item = document.createElement("li");
    item.className = "msg " + kind;
    item.dataset.testid = "message";
    item.dataset.source = kind;
    if (opts.agent && opts.agent.avatar) {
      var img = document.createElement("img");
      img.className = "avatar";
      img.src = opts.agent.avatar;
      img.alt = (opts.agent.name || "Agent") + " avatar";
      img.dataset.testid = "agent-avatar";
      item.appendChild(img);
    }
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    if (kind === "agent" || kind === "bot") {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = kind === "agent" ? ((opts.agent && opts.agent.name) || "Agent") : "Bot";
      if (kind === "agent") { who.dataset.testid = "agent-name"; }
      bubble.appendChild(who);
    }
    var body = document.createElement("span");
    body.dataset.testid = "message-text";
    body.textContent = text;
    bubble.appendChild(body);
    if (opts.quickReplies && opts.quickReplies.length) {
      var row = document.createElement("div");
      row.className = "quick-replies";
      opts.quickReplies.forEach(function (qr) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = qr.title || qr.payload;
        b.dataset.testid = "quick-reply";
        b.addEventListener("click", function () { send(qr.payload || qr.title); });
        row.appendChild(b);
      });
      bubble.appendChild(row);
    }
    if (opts.buttons && opts.buttons.length) {
      var bar = document.createElement("div");
      bar.className = "quick-replies buttons";
      opts.buttons.forEach(function (btn) {
        var el;
        if (btn.type === "web_url" && btn.url) {
          el = document.createElement("a");
          el.href = btn.url;
          el.target = "_blank";
          el.rel = "noopener";
        } else {
          el = document.createElement("button");
          el.type = "button";
          el.addEventListener("click", function () { send(btn.payload || btn.title); });
        }
        el.textContent = btn.title || btn.payload || btn.url;
        el.dataset.testid = "button";
        bar.appendChild(el);
      });
      bubble.appendChild(bar);
    }
    item.appendChild(bubble);
    log.appendChild(item);
    scrollDown();
  }

  function quickReplies(data) {
    // Cognigy's default channel payload: data._cognigy._default._quickReplies.quickReplies[{title, payload}]
    try { return data._cognigy._default._quickReplies.quickReplies || []; } catch (e) { return []; }
  }

  function buttons(data) {
    // Cognigy's default channel payload: data._cognigy._default._buttons.buttons[{type, title, payload, url}]
    try { return data._cognigy._default._buttons.buttons || []; } catch (e) { return []; }
  }

  function setBanner(status, agent) {
    handoverStatus = status;
    var text = STATUS_TEXT[status];
    if (status === "active") {
      text = "You are chatting with " + (agent || agentName || "an agent");
    }
    if (!text) { return; }
    banner.textContent = text;
    banner.dataset.status = status;
    banner.hidden = false;
  }

  function hideTyping() {
    typing.hidden = true;
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
  }

  function showTyping(name) {
    typing.querySelector(".typing-name").textContent = name || agentName || "The agent";
    typing.hidden = false;
    if (typingTimer) { clearTimeout(typingTimer); }
    typingTimer = setTimeout(hideTyping, TYPING_SHOW_MS);
  }

  function renderOutput(out) {
    var data = out.data || {};
    if (out.source === "system") {
      if (data.handover && data.handover.status) {
        var agent = data.agent && data.agent.name;
        if (agent) { agentName = agent; }
        setBanner(data.handover.status, agent);
        if (data.handover.status !== "active") { hideTyping(); }
      }
      if (out.text) { addMessage("system", out.text); }
      return;
    }
    if (out.source === "agent") {
      if (data.agent && data.agent.name) {
        agentName = data.agent.name;
        if (handoverStatus === "active" || handoverStatus === "queue" || handoverStatus === null) {
          setBanner("active", agentName);
        }
      }
      if (data.typing) { showTyping(data.agent && data.agent.name); return; }
      if (out.text) {
        hideTyping();
        addMessage("agent", out.text, { agent: data.agent, quickReplies: quickReplies(data) });
      }
      return;
    }
    if (out.text || quickReplies(data).length || buttons(data).length) {
      addMessage("bot", out.text || "", { quickReplies: quickReplies(data), buttons: buttons(data) });
    }
  }

  function onOutput(event) {
    var out;
    try { out = JSON.parse(event.data); } catch (e) { return; }
    if (typeof out.seq === "number") {
      if (out.seq <= lastSeq) { return; }
      lastSeq = out.seq;
      localStorage.setItem(storageKey("lastSeq:" + sessionId), String(lastSeq));
    }
    renderOutput(out);
  }

  function openStream() {
    if (source) { source.close(); }
    // EventSource sends Last-Event-ID itself on reconnects; `after` covers a page reload.
    source = new EventSource(endpoint + "/sessions/" + encodeURIComponent(sessionId) +
      "/events?userId=" + encodeURIComponent(userId) + "&after=" + lastSeq);
    source.addEventListener("output", onOutput);
    source.addEventListener("open", function () { showError(""); });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    });
  }

  function send(text) {
    text = (text || "").trim();
    if (!text) { return; }
    addMessage("user", text);
    post(endpoint, { userId: userId, sessionId: sessionId, text: text })
      .then(function (resp) {
        return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
      })
      .then(function (result) {
        if (!result.ok) { showError(result.body.message || "The message could not be sent."); return; }
        showError("");
        var stack = result.body.outputStack || [];
        stack.forEach(function (out) { renderOutput({ source: out.source || "bot", text: out.text, data: out.data }); });
      })
      .catch(function () { showError("The message could not be sent: check your connection."); });
  }

  function connect() {
    if (connected) { return; }
    connected = true;
    post(sessionUrl("connect"), { userId: userId }).catch(function () { connected = false; });
  }

  function disconnect() {
    if (!connected) { return; }
    connected = false;
    var blob = new Blob([JSON.stringify({ userId: userId })], { type: "application/json" });
    // sendBeacon survives the page going away, which fetch does not guarantee.
    if (!(navigator.sendBeacon && navigator.sendBeacon(sessionUrl("disconnect"), blob))) {
      fetch(sessionUrl("disconnect"), { method: "POST", keepalive: true, body: blob });
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });

  input.addEventListener("input", function () {
    var now = Date.now();
    if (!input.value || now - lastTypingSent < TYPING_THROTTLE_MS) { return; }
    lastTypingSent = now;
    post(sessionUrl("typing"), { userId: userId }).catch(function () {});
  });

  root.querySelector("[data-testid=new-conversation]").addEventListener("click", function () {
    disconnect();
    sessionId = randomId("s-");
    localStorage.setItem(storageKey("sessionId"), sessionId);
    lastSeq = 0;
    log.innerHTML = "";
    banner.hidden = true;
    handoverStatus = null;
    agentName = null;
    hideTyping();
    openStream();
    connect();
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { connect(); }
  });
  window.addEventListener("pageshow", function (event) { if (event.persisted) { connect(); openStream(); } });
  window.addEventListener("pagehide", disconnect);

  openStream();
  connect();
  input.focus();
}());
