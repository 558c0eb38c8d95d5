// Drives the Genesys Cloud sandbox with the official Node.js SDK (purecloud-platform-client-v2), as
// a Node Open Messaging middleware would: client-credentials login through the SDK's gateway
// setting, its own webhook server (signature checked), the inbound routes (current and legacy), an
// agent answering, receipts, a structured response, the end and the wrap-up, and Notifications
// WebSocket channels. Every API response, webhook body and notification frame is checked strictly
// against the model definitions the SDK ships (index.d.ts `Models`): every key a field of the
// model, every value of the field's type, every required field present. The SDK's definitions carry
// no enum values (the Python suite checks those). Prints a JSON report on stdout.
// Usage: node --experimental-websocket sdk_conformance.js '<JSON config>'
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const path = require("path");
const platformClient = require("purecloud-platform-client-v2");

const config = JSON.parse(process.argv[2]);
const sdkDir = path.dirname(require.resolve("purecloud-platform-client-v2/package.json"));
const dts = fs.readFileSync(path.join(sdkDir, "index.d.ts"), "utf8");
const wire = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "sandbox", "sdk_wire_models.json"), "utf8"));
const report = { sdkVersion: require("purecloud-platform-client-v2/package.json").version, checked: { responses: 0, webhooks: 0, frames: 0 }, calls: [], problems: [] };

// ---------------------------------------------------------------- the SDK's model definitions
function parseModels(text) {
  const start = text.indexOf("declare namespace Models {");
  const models = {};
  let current = null;
  for (const line of text.slice(start).split("\n")) {
    const head = line.match(/^\s*export interface (\w+) \{/);
    if (head) { current = models[head[1]] = {}; continue; }
    if (current && /^\s*\}\s*$/.test(line)) { current = null; continue; }
    const field = current && line.match(/^\s*"([^"]+)"(\?)?: (.*);\s*$/);
    if (field) current[field[1]] = { type: field[3].trim(), required: !field[2] };
  }
  return models;
}

function parseReturnTypes(text) {
  const out = {};
  let cls = null;
  for (const line of text.split("\n")) {
    const head = line.match(/^declare class (\w+Api) \{/);
    if (head) { cls = head[1]; continue; }
    if (cls && /^\}/.test(line)) { cls = null; continue; }
    const method = cls && line.match(/^\s+(\w+)\(.*\): Promise<(.*)>;\s*$/);
    if (method) out[`${cls}.${method[1]}`] = method[2];
  }
  return out;
}

const MODELS = parseModels(dts);
const RETURNS = parseReturnTypes(dts);
const EXTRAS = new Set(wire.knownExtras.map((e) => `${e.model}.${e.field}`));
// The API definition marks `version` required on entities because PUT/PATCH bodies must carry it;
// Genesys' references to an entity (e.g. MessageData.createdBy, UserMe.organization) omit it.
const REQUEST_ONLY_REQUIRED = new Set(["version"]);

function violations(value, type, where) {
  if (value === null || value === undefined) return [];
  type = type.trim();
  let m;
  if ((m = type.match(/^Array<(.*)>$/))) {
    if (!Array.isArray(value)) return [`${where}: expected an array`];
    return value.flatMap((item, i) => violations(item, m[1], `${where}[${i}]`));
  }
  if ((m = type.match(/^Record<string, (.*)>$/)) || (m = type.match(/^\{ \[key: string\]: (.*); \}$/))) {
    if (typeof value !== "object" || Array.isArray(value)) return [`${where}: expected a map`];
    return Object.entries(value).flatMap(([k, v]) => violations(v, m[1], `${where}.${k}`));
  }
  if (["string", "number", "boolean"].includes(type)) {
    return typeof value === type ? [] : [`${where}: expected ${type}, got ${JSON.stringify(value)}`];
  }
  if (type === "object" || type === "any") return [];
  if ((m = type.match(/^Models\.(\w+)$/))) type = m[1];
  const model = MODELS[type];
  if (!model) return [`${where}: the SDK defines no model ${type}`];
  if (typeof value !== "object" || Array.isArray(value)) return [`${where}: expected a ${type} object`];
  const out = [];
  for (const [key, item] of Object.entries(value)) {
    if (!(key in model)) {
      if (!EXTRAS.has(`${type}.${key}`)) out.push(`${where}.${key}: not a field of ${type}`);
      continue;
    }
    out.push(...violations(item, model[key].type, `${where}.${key}`));
  }
  for (const [key, field] of Object.entries(model)) {
    if (field.required && !REQUEST_ONLY_REQUIRED.has(key) && !(key in value)) out.push(`${where}.${key}: required by ${type}, missing`);
  }
  return out;
}

function check(label, value, type) {
  const found = violations(value, type, "$");
  report.problems.push(...found.map((p) => `${label} (${type}): ${p}`));
}

// ---------------------------------------------------------------- strict API objects
function strict(api, cls) {
  return new Proxy(api, {
    get(target, name) {
      const fn = target[name];
      if (typeof fn !== "function") return fn;
      return async (...args) => {
        const data = await fn.apply(target, args);
        const type = RETURNS[`${cls}.${String(name)}`];
        report.calls.push(`${cls}.${String(name)}`);
        if (type && type !== "void") {
          report.checked.responses += 1;
          check(`${cls}.${String(name)}`, data, type);
        }
        return data;
      };
    },
  });
}

function apis(client) {
  return {
    conversations: strict(new platformClient.ConversationsApi(client), "ConversationsApi"),
    notifications: strict(new platformClient.NotificationsApi(client), "NotificationsApi"),
    routing: strict(new platformClient.RoutingApi(client), "RoutingApi"),
    users: strict(new platformClient.UsersApi(client), "UsersApi"),
  };
}

function gateway(client) {
  const url = new URL(config.url);
  client.setGateway({ host: url.hostname, protocol: url.protocol.replace(":", ""), port: Number(url.port) });
}

// ---------------------------------------------------------------- webhook and sockets
const hooks = [];
function webhookServer() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const expected = "sha256=" + crypto.createHmac("sha256", config.webhookSecret).update(raw).digest("base64");
      if (req.headers["x-hub-signature-256"] !== expected) report.problems.push("webhook: bad X-Hub-Signature-256");
      const body = JSON.parse(raw.toString("utf8"));
      hooks.push(body);
      report.checked.webhooks += 1;
      // Genesys' outbound schema has `conversationId` (docs/reference/genesys-open-messaging.md §5.2)
      const { conversationId, ...rest } = body;
      if (conversationId !== undefined && typeof conversationId !== "string") report.problems.push("webhook: conversationId not a string");
      check(`webhook ${body.type}`, rest, wire.webhook);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("{}");
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const TOPICS = Object.entries(wire.topics).map(([pattern, model]) => [
  new RegExp("^" + pattern.replace(/[.]/g, "\\.").replace("{id}", "[^.]+") + "$"),
  model,
]);
const FRAME_KEYS = new Set(["topicName", "version", "eventBody", "metadata"]);

function openSocket(uri, frames) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(uri);
    ws.onopen = () => resolve(ws);
    ws.onerror = (e) => reject(new Error(`WebSocket ${uri}: ${e.message || "error"}`));
    ws.onmessage = (msg) => {
      const frame = JSON.parse(msg.data);
      if (frame.topicName === "channel.metadata") return;
      frames.push(frame);
      report.checked.frames += 1;
      for (const key of Object.keys(frame)) if (!FRAME_KEYS.has(key)) report.problems.push(`frame ${frame.topicName}: $.${key} not a frame field`);
      const model = (TOPICS.find(([rx]) => rx.test(frame.topicName)) || [])[1];
      if (!model) report.problems.push(`frame ${frame.topicName}: no SDK model known`);
      else check(`frame ${frame.topicName}`, frame.eventBody, model);
    };
  });
}

async function until(what, predicate, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function channel(api, topics, frames) {
  const ch = await api.notifications.postNotificationsChannels();
  const listing = await api.notifications.putNotificationsChannelSubscriptions(ch.id, topics.map((id) => ({ id })));
  const refused = listing.entities.filter((t) => t.state !== "Permitted");
  if (refused.length) throw new Error(`subscriptions refused: ${JSON.stringify(refused)}`);
  const ws = await openSocket(ch.connectUri, frames);
  // the socket is attached once the sandbox lists the channel as connected (a sandbox route)
  await until("socket attached", async () => {
    const resp = await fetch(`${config.url}/sandbox/notifications/channels`);
    return (await resp.json()).entities.some((c) => c.id === ch.id && c.connected);
  });
  return ws;
}

// ---------------------------------------------------------------- the scenario
async function main() {
  const bridge = platformClient.ApiClient.instance;
  gateway(bridge);
  await bridge.loginClientCredentialsGrant(config.clientId, config.clientSecret);
  const agentClient = new platformClient.ApiClientClass();
  gateway(agentClient);
  agentClient.setAccessToken(config.agentToken);
  const api = apis(bridge);
  const agent = apis(agentClient);
  const hookServer = await webhookServer();
  const sockets = [];
  try {
    const hookUrl = `http://127.0.0.1:${hookServer.address().port}/webhook`;
    await api.conversations.patchConversationsMessagingIntegrationsOpenIntegrationId(config.integrationId, { outboundNotificationWebhookUrl: hookUrl });
    await api.conversations.getConversationsMessagingIntegrationsOpen({ pageSize: 25 });
    await api.conversations.getConversationsMessagingIntegrationsOpenIntegrationId(config.integrationId);
    await api.notifications.getNotificationsAvailabletopics();
    await api.routing.getRoutingQueues({ pageSize: 5 });
    await api.routing.getRoutingQueue(config.queueId);
    await api.users.getUser(config.agentId);
    await agent.users.getUsersMe();

    const userFrames = [];
    const conversationTopics = [
      `v2.routing.queues.${config.queueId}.conversations`,
      `v2.routing.queues.${config.queueId}.conversations.messages`,
      `v2.users.${config.agentId}.conversations`,
      `v2.users.${config.agentId}.conversations.messages`,
    ];
    sockets.push(await channel(agent, conversationTopics, userFrames));

    const customer = "cust-node-1";
    const from = { id: customer, idType: "Opaque", nickname: "Node Customer" };
    const echo = await api.conversations.postConversationsMessageInboundOpenMessage(
      config.integrationId,
      { channel: { from, time: new Date().toISOString(), messageId: "node-1", metadata: { customAttributes: { source: "node" } } }, text: "hello from node" },
      { prefetchConversationId: true },
    );
    const cid = echo.conversationId;
    const detailFrames = [];
    const suffixes = ["customer.end", "user.start", "user.end", "acd.end", "acw", "wrapup"];
    sockets.push(await channel(api, suffixes.map((s) => `v2.detail.events.conversation.${cid}.${s}`), detailFrames));
    await api.conversations.postConversationsMessagesInboundOpen({
      channel: { platform: "Open", type: "Private", messageId: "node-legacy-1", to: { id: config.integrationId }, from, time: new Date().toISOString() },
      type: "Text",
      text: "and via the legacy route",
      direction: "Inbound",
    });
    await api.conversations.postConversationsMessageInboundOpenEvent(config.integrationId, {
      channel: { from, time: new Date().toISOString() },
      events: [{ eventType: "Typing" }],
    });

    // a flow message with quick replies (a sandbox route: Architect flows have no public API)
    const bot = await fetch(`${config.url}/sandbox/conversations/${cid}/bot-messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: "Pick one", quickReplies: ["Yes", "No"] }),
    });
    if (bot.status !== 202) throw new Error(`bot message: ${bot.status}`);
    await until("the quick replies at the webhook", () => hooks.some((h) => h.type === "Structured"));

    await agent.users.putUserRoutingstatus(config.agentId, { status: "IDLE" });
    const leg = await until("the offer", async () => {
      const mine = await agent.conversations.getConversationsMessages();
      const conv = mine.entities.find((c) => c.id === cid);
      return conv && conv.participants.find((p) => p.purpose === "agent" && p.state === "alerting");
    });
    await agent.conversations.patchConversationsMessageParticipant(cid, leg.id, { body: { state: "connected" } });
    const generic = await agent.conversations.getConversation(cid);
    const comm = generic.participants.find((p) => p.id === leg.id).messages[0].id;
    await agent.conversations.postConversationsMessageCommunicationTyping(cid, comm, { typing: { type: "On", duration: 3000 } });
    const sent = await agent.conversations.postConversationsMessageCommunicationMessages(cid, comm, { textBody: "Hi from the agent" });
    const answer = await until("the agent's answer at the webhook", () => hooks.find((h) => h.type === "Text" && h.text === "Hi from the agent"));
    if (answer.channel.to.id !== customer || answer.id !== sent.id) report.problems.push("webhook: the agent's answer is not addressed to the customer");

    await api.conversations.postConversationsMessageInboundOpenReceipt(config.integrationId, {
      id: sent.id,
      channel: { to: { id: customer }, time: new Date().toISOString() },
      status: "Delivered",
    });
    await api.conversations.postConversationsMessageInboundOpenStructuredResponse(config.integrationId, {
      channel: { from, time: new Date().toISOString(), messageId: "node-button-1" },
      buttonResponse: { type: "QuickReply", text: "Yes", payload: "yes" },
      originatingMessageId: sent.id,
    });
    await api.conversations.getConversationsMessageMessage(cid, sent.id);
    await api.conversations.getConversationsMessageDetails(sent.id);
    await api.conversations.getConversationsMessage(cid);

    await agent.conversations.patchConversationsMessageParticipant(cid, leg.id, { body: { state: "disconnected" } });
    await agent.conversations.postConversationsMessageParticipantCommunicationWrapup(cid, leg.id, comm, { body: { code: "Resolved", notes: "node" } });
    await api.conversations.getConversation(cid);

    await until("the wrap-up frame", () => detailFrames.some((f) => f.topicName.endsWith(".wrapup")));
    await until("the frames of every conversation topic", () => conversationTopics.every((t) => userFrames.some((f) => f.topicName === t)));
    report.topics = [...new Set(userFrames.concat(detailFrames).map((f) => f.topicName.replace(cid, "{cid}")))].sort();
    report.webhookTypes = [...new Set(hooks.map((h) => h.type))].sort();
  } finally {
    for (const ws of sockets) ws.close();
    hookServer.close();
  }
}

main()
  .then(() => {
    process.stdout.write(JSON.stringify(report));
    process.exit(0);
  })
  .catch((err) => {
    const body = err && err.body ? ` ${JSON.stringify(err.body)}` : "";
    process.stderr.write(`${(err && err.stack) || JSON.stringify(err)}${body}\n`);
    process.stdout.write(JSON.stringify(report));
    process.exit(1);
  });
