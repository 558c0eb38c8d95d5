"use strict";
// The Cognigy emulator's extension runner: loads a built extension's build/module.js once and runs
// its node functions on request, the way Cognigy's execution service calls them:
// fn({ cognigy: { api, input, context, profile }, config, childConfigs, nodeId }).
// Protocol: one JSON object per line on stdin ({id, type, nodeId, config, childConfigs, input,
// context, profile}); one JSON object per line on stdout ({id, outputs, context, profile, next,
// stop, logs, error?}). The first stdout line is {ready: true, descriptors: [...]}.
// As in Cognigy, CognigyScript in the node's config (per the descriptor's field types) is
// evaluated before the function runs. Also {id, op: "eval", mode: "text" | "condition" |
// "value", source, scope: {input, context, profile}} evaluates CognigyScript for the emulator's
// built-in nodes and answers {id, value}: CognigyScript is JavaScript (docs.cognigy.com,
// "CognigyScript"): `{{ expression }}` in texts (an expression that fails or gives undefined or
// null becomes ""), a plain expression in conditions (one that fails is false).
// Usage: node runner.js <extracted extension directory>
const path = require("path");
const readline = require("readline");
const vm = require("vm");

const dir = process.argv[2];
const mod = require(path.resolve(dir, "build", "module.js")).default;
const nodes = new Map(mod.nodes.map((n) => [n.type, n]));
const plain = (v) => JSON.parse(JSON.stringify(v === undefined ? null : v));

function setPath(target, key, value, mode) {
  const parts = String(key).split(".").filter(Boolean);
  if (!parts.length) throw new Error("context key " + JSON.stringify(key) + " names no property");
  const last = parts.pop();
  for (const p of parts) {
    if (typeof target[p] !== "object" || target[p] === null) target[p] = {};
    target = target[p];
  }
  if (mode === "array") {
    const current = target[last];
    target[last] = (Array.isArray(current) ? current : current === undefined ? [] : [current]).concat([value]);
  } else {
    target[last] = value;
  }
}

function getPath(target, key) {
  for (const p of String(key).split(".").filter(Boolean)) {
    if (target === null || typeof target !== "object") return undefined;
    target = target[p];
  }
  return target;
}

function sandboxOf(scope) {
  const input = (scope && scope.input) || {};
  const context = (scope && scope.context) || {};
  const profile = (scope && scope.profile) || {};
  return { input, context, profile, ci: input, cc: context, cp: profile };
}

function evaluate(source, sandbox) {
  return vm.runInNewContext("(" + source + "\n)", sandbox, { timeout: 1000 });
}

function renderText(text, sandbox) {
  return String(text).replace(/\{\{([\s\S]*?)\}\}/g, (_, expr) => {
    let value;
    try {
      value = evaluate(expr, sandbox);
    } catch (e) {
      return "";
    }
    if (value === undefined || value === null) return "";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  });
}

function renderDeep(value, sandbox) {
  if (typeof value === "string") return value.includes("{{") ? renderText(value, sandbox) : value;
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, sandbox));
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDeep(v, sandbox);
    return out;
  }
  return value;
}

function evalRequest(req) {
  const sandbox = sandboxOf(plain(req.scope || {}));
  const source = String(req.source === undefined || req.source === null ? "" : req.source);
  if (req.mode === "text") return { value: renderDeep(plain(req.source), sandbox) };
  if (!source.trim()) return { value: req.mode === "condition" ? false : null };
  try {
    const value = evaluate(source, sandbox);
    return { value: req.mode === "condition" ? Boolean(value) : plain(value) };
  } catch (e) {
    if (req.mode === "condition") return { value: false, problem: String(e && e.message) };
    return { value: null, problem: String(e && e.message) };
  }
}

// Field types whose CognigyScript Cognigy evaluates before an extension node runs.
const TEXT_TYPES = new Set(["cognigyText", "textArray", "cognigyTextArray", "chipInput", "json"]);

function evaluatedConfig(descriptor, config, scope) {
  const out = {};
  for (const f of (descriptor && descriptor.fields) || []) {
    if (f.defaultValue !== undefined) out[f.key] = plain(f.defaultValue);
  }
  Object.assign(out, plain(config || {}));
  const sandbox = sandboxOf(scope);
  for (const f of (descriptor && descriptor.fields) || []) {
    if (TEXT_TYPES.has(f.type) && out[f.key] !== undefined) out[f.key] = renderDeep(out[f.key], sandbox);
  }
  return out;
}

async function run(req) {
  const node = nodes.get(req.type);
  if (!node || typeof node.function !== "function") {
    throw new Error("the extension has no node function of type " + JSON.stringify(req.type));
  }
  const result = { outputs: [], next: null, stop: false, logs: [] };
  const context = req.context || {};
  const profile = req.profile || {};
  const input = req.input || {};
  const output = (text, data, settings) => {
    const destination = settings && settings.liveAgentSettings
      ? settings.liveAgentSettings.outputDestination : null;
    result.outputs.push({ text: text === undefined ? null : text, data: plain(data), destination });
  };
  // The api methods Cognigy offers that an om-bridge module may use (extension-tools'
  // INodeExecutionAPI); anything else is undefined here, as a typo would be in Cognigy.
  const api = {
    say: output,
    output,
    addToContext: (key, value, mode) => setPath(context, key, plain(value), mode || "simple"),
    setContext: (key, value) => setPath(context, key, plain(value), "simple"),
    getContext: (key) => getPath(context, key),
    removeFromContext: (key) => {
      const parts = String(key).split(".");
      const last = parts.pop();
      const parent = parts.length ? getPath(context, parts.join(".")) : context;
      if (parent && typeof parent === "object") delete parent[last];
    },
    updateProfile: async (key, value) => { profile[key] = plain(value); },
    setNextNode: (nodeId) => { result.next = String(nodeId); },
    stopExecution: () => { result.stop = true; },
    log: (level, text) => { result.logs.push([String(level), String(text)]); },
  };
  await node.function({
    cognigy: { api, input, context, profile },
    config: evaluatedConfig(node, req.config, { input, context, profile }),
    childConfigs: req.childConfigs || [],
    nodeId: req.nodeId,
  });
  result.context = plain(context);
  result.profile = plain(profile);
  return result;
}

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

reply({
  ready: true,
  descriptors: plain(mod.nodes),
  connections: plain(mod.connections || []),
  options: plain(mod.options || {}),
});
const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    reply({ id: null, error: "not JSON: " + e.message });
    return;
  }
  // Cognigy stops an extension after 20 s (docs/reference/cognigy-model.md §1.1).
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error("the node function did not finish within 20 s")), 20000).unref());
  if (req.op === "eval") {
    let answer;
    try {
      answer = evalRequest(req);
    } catch (e) {
      answer = { error: String((e && e.message) || e) };
    }
    reply(Object.assign({ id: req.id }, answer));
    return;
  }
  Promise.race([run(req), timeout])
    .then((result) => reply(Object.assign({ id: req.id }, result)))
    .catch((e) => reply({ id: req.id, error: String((e && e.message) || e) }));
});
rl.on("close", () => process.exit(0));
