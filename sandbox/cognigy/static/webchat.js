"use strict";
// The emulator's webchat: user messages go to the REST endpoint (POST /<URLToken>), everything the
// user gets (flow outputs, Notify messages from the agent) comes from the session's output stream.
(function () {
  const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
  const store = window.localStorage;
  const id = (name) => {
    let value = store.getItem("cognigy-emulator-" + name + "-" + token);
    if (!value) {
      value = name + "-" + Math.random().toString(36).slice(2, 12);
      store.setItem("cognigy-emulator-" + name + "-" + token, value);
    }
    return value;
  };
  const userId = id("user");
  const sessionId = id("session");
  const log = document.getElementById("log");
  const typing = document.getElementById("typing");
  const status = document.getElementById("status");
  let after = 0;
  let typingTimer = null;

  function add(kind, text, who, avatar) {
    const li = document.createElement("li");
    li.className = kind;
    li.dataset.testid = "message";
    li.dataset.source = kind;
    if (who) {
      const label = document.createElement("span");
      label.className = "who";
      label.dataset.testid = "message-author";
      if (avatar) {
        const img = document.createElement("img");
        img.src = avatar;
        img.alt = "";
        label.appendChild(img);
      }
      label.appendChild(document.createTextNode(who));
      li.appendChild(label);
    }
    const body = document.createElement("span");
    body.dataset.testid = "message-text";
    body.textContent = text;
    li.appendChild(body);
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function show(out) {
    const data = out.data || {};
    const agent = data.agent || null;
    if (data.typing && !out.text) {
      typing.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => { typing.hidden = true; }, data.duration || 5000);
      return;
    }
    if (out.source === "notify") typing.hidden = true;
    const files = Array.isArray(data.attachments) ? data.attachments : [];
    if (out.text) {
      if (out.source === "notify") add("agent", out.text, agent ? agent.name : "Agent", agent && agent.avatar);
      else add("bot", out.text, "Bot");
    }
    for (const file of files) add("agent", (file.filename || file.url || "attachment"), agent ? agent.name : "Agent");
  }

  async function poll() {
    for (;;) {
      try {
        const url = "/_emulator/sessions/" + encodeURIComponent(token) + "/" + encodeURIComponent(sessionId) +
          "/outputs?userId=" + encodeURIComponent(userId) + "&after=" + after + "&wait=25";
        const res = await fetch(url);
        if (!res.ok) throw new Error("HTTP " + res.status);
        const page = await res.json();
        for (const out of page.outputs) show(out);
        after = page.next;
        status.textContent = "";
      } catch (e) {
        status.textContent = "Reconnecting… (" + e.message + ")";
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  document.getElementById("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    add("user", text, null);
    const res = await fetch("/" + encodeURIComponent(token), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId, sessionId, text }),
    });
    if (!res.ok) status.textContent = "Not sent: HTTP " + res.status;
  });
  poll();
})();
