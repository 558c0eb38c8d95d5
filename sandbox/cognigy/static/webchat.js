"use strict";
// The emulator's webchat: user messages go to the REST endpoint (POST /<URLToken>), everything the
// user gets (flow outputs, Notify messages from the agent) comes from the session's output stream.
// It draws what Cognigy's webchat draws from the shapes Cognigy defines: a Notify's top-level
// `attachments` (image, video, audio, file/document, sticker, location), the default channel's
// quick replies, buttons, gallery cards, image/video/audio (`data._cognigy._default`,
// @cognigy/socket-client `IDefaultMessage`), and the agent's name and avatar from
// `data._webchat.agentAvatarOverrideNameOnce` / `agentAvatarOverrideUrlOnce`.
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
  const status = document.getElementById("status");
  let after = 0;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function bubble(kind, who, avatar) {
    const li = el("li", { className: kind, "data-testid": "message", "data-source": kind });
    if (who) {
      const label = el("span", { className: "who", "data-testid": "message-author" });
      if (avatar) label.appendChild(el("img", { src: avatar, alt: "", "data-testid": "message-avatar" }));
      label.appendChild(document.createTextNode(who));
      li.appendChild(label);
    }
    log.appendChild(li);
    return li;
  }

  function addText(li, text) {
    li.appendChild(el("span", { "data-testid": "message-text" }, text));
  }

  function safeUrl(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      const u = new URL(String(url), location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  // A postback sends its payload as the user's message; web_url opens the link.
  function button(b) {
    const title = b.title || b.payload || "";
    if (b.type === "web_url" && safeUrl(b.url)) {
      return el("a", { href: safeUrl(b.url), target: "_blank", rel: "noopener", className: "button",
        "data-testid": "message-button" }, title);
    }
    const node = el("button", { type: "button", className: "button", "data-testid": "message-button" }, title);
    node.addEventListener("click", () => sendText(String(b.payload || b.title || ""), title));
    return node;
  }

  function attachment(file) {
    const url = safeUrl(file.url);
    const wrap = el("div", { className: "attachment", "data-testid": "message-attachment" });
    wrap.dataset.type = file.type || "file";
    if ((file.type === "image" || file.type === "sticker") && url) {
      wrap.appendChild(el("img", { src: url, alt: file.name || "" }));
    } else if (file.type === "video" && url) {
      wrap.appendChild(el("video", { src: url, controls: true }));
    } else if (file.type === "audio" && url) {
      wrap.appendChild(el("audio", { src: url, controls: true }));
    } else if (file.type === "location") {
      wrap.appendChild(el("span", {}, (file.title || file.name || "Location") + " (" + file.latitude + ", " + file.longitude + ")"));
      return wrap;
    }
    if (url) {
      wrap.appendChild(el("a", { href: url, target: "_blank", rel: "noopener", download: file.name || "",
        "data-testid": "attachment-link" }, file.name || url));
    }
    if (file.caption) wrap.appendChild(el("span", { className: "caption" }, file.caption));
    return wrap;
  }

  function rich(li, def) {
    const qr = def._quickReplies;
    if (qr && Array.isArray(qr.quickReplies)) {
      const row = el("div", { className: "quick-replies", "data-testid": "quick-replies" });
      for (const q of qr.quickReplies) row.appendChild(button({ type: "postback", title: q.title, payload: q.payload }));
      li.appendChild(row);
    }
    const buttons = def._buttons;
    if (buttons && Array.isArray(buttons.buttons)) {
      const row = el("div", { className: "buttons" });
      for (const b of buttons.buttons) row.appendChild(button(b));
      li.appendChild(row);
    }
    const gallery = def._gallery || def._list;
    if (gallery && Array.isArray(gallery.items)) {
      const row = el("div", { className: "gallery", "data-testid": "gallery" });
      for (const item of gallery.items) {
        const card = el("div", { className: "card", "data-testid": "card" });
        if (safeUrl(item.imageUrl)) card.appendChild(el("img", { src: safeUrl(item.imageUrl), alt: item.imageAltText || "" }));
        card.appendChild(el("strong", { "data-testid": "card-title" }, item.title || ""));
        if (item.subtitle) card.appendChild(el("span", {}, item.subtitle));
        for (const b of item.buttons || []) card.appendChild(button(b));
        row.appendChild(card);
      }
      li.appendChild(row);
    }
    if (def._image && safeUrl(def._image.imageUrl)) {
      li.appendChild(attachment({ type: "image", url: def._image.imageUrl, name: def._image.imageAltText }));
    }
    if (def._video && safeUrl(def._video.videoUrl)) {
      li.appendChild(attachment({ type: "video", url: def._video.videoUrl, name: def._video.videoAltText }));
    }
    if (def._audio && safeUrl(def._audio.audioUrl)) {
      li.appendChild(attachment({ type: "audio", url: def._audio.audioUrl, name: def._audio.audioAltText }));
    }
  }

  function show(out) {
    const data = out.data || {};
    const webchat = data._webchat || {};
    const def = (data._cognigy && data._cognigy._default) || {};
    const files = Array.isArray(out.attachments) ? out.attachments : [];
    const agentName = webchat.agentAvatarOverrideNameOnce;
    const agentAvatar = safeUrl(webchat.agentAvatarOverrideUrlOnce);
    if (!out.text && !files.length && !Object.keys(def).length) return;
    const kind = agentName || agentAvatar || out.source === "notify" ? "agent" : "bot";
    const li = bubble(kind, agentName || (kind === "agent" ? "Agent" : "Bot"), agentAvatar);
    if (out.text) addText(li, out.text);
    rich(li, def);
    for (const file of files) li.appendChild(attachment(file));
    li.scrollIntoView({ block: "end" });
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

  async function sendText(text, shown) {
    addText(bubble("user", null), shown || text);
    const res = await fetch("/" + encodeURIComponent(token), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId, sessionId, text }),
    });
    if (!res.ok) status.textContent = "Not sent: HTTP " + res.status;
  }

  document.getElementById("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    sendText(text);
  });
  poll();
})();
