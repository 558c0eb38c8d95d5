// Loads a built om-bridge extension's build/module.js and checks it against @cognigy/extension-tools:
// the default export must equal createExtension({nodes, connections, options}) and every node must
// equal createNodeDescriptor(node). Then it runs node functions with a recording `cognigy.api`
// (they call the bridge over HTTP) and prints a JSON report on stdout for the Python test.
// Usage: node check_extension.js <extracted extension dir> <JSON: platform field types> <JSON: calls>
"use strict";
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const tools = require("@cognigy/extension-tools");

const [dir, platformTypesJson, callsJson] = process.argv.slice(2);
const platformTypes = JSON.parse(platformTypesJson);
const calls = JSON.parse(callsJson || "[]");
const toolsDir = path.dirname(require.resolve("@cognigy/extension-tools"));
// extension-tools 0.14.0 keeps its allow-list of field types in a non-exported constant.
const dts = fs.readFileSync(path.join(toolsDir, "interfaces", "descriptor.d.ts"), "utf8");
const etTypes = JSON.parse(dts.match(/nodeFieldTypes: readonly (\[[^\]]*\])/)[1]);

const plain = (v) => JSON.parse(JSON.stringify(v)); // drops functions / undefined, as Cognigy stores it
const mod = require(path.resolve(dir, "build", "module.js")).default;
const report = { types: [], fieldTypesOutside014: [], results: [] };

assert.deepStrictEqual(Object.keys(mod).sort(), ["connections", "nodes", "options"]);
assert.deepStrictEqual(plain(tools.createExtension(mod)), plain(mod));
for (const node of mod.nodes) {
  const rebuilt = tools.createNodeDescriptor(node);
  assert.deepStrictEqual(plain(rebuilt), plain(node), `descriptor ${node.type} differs from createNodeDescriptor`);
  assert.strictEqual(rebuilt.function, node.function);
  for (const field of node.fields) {
    if (!etTypes.includes(field.type)) {
      assert.ok(platformTypes.includes(field.type), `${node.type}.${field.key}: unknown type ${field.type}`);
      report.fieldTypesOutside014.push(`${node.type}.${field.key}:${field.type}`);
    }
    if (field.type === "connection") {
      assert.ok(mod.connections.some((c) => c.type === field.params.connectionType), `${node.type}: no connection schema`);
    }
  }
  report.types.push({ type: node.type, hasFunction: typeof node.function === "function", parentType: node.parentType });
}

function recordingApi(log) {
  const api = {};
  for (const name of ["say", "addToContext", "setNextNode", "stopExecution"]) {
    api[name] = (...args) => log.push([name, ...args]);
  }
  return api;
}

(async () => {
  for (const call of calls) {
    const node = mod.nodes.find((n) => n.type === call.type);
    const log = [];
    const cognigy = { api: recordingApi(log), input: call.input, context: call.context || {}, profile: {} };
    try {
      await node.function({ cognigy, config: call.config, childConfigs: call.childConfigs || [], nodeId: call.nodeId });
      report.results.push({ api: log });
    } catch (e) {
      report.results.push({ api: log, error: String(e.message || e) });
    }
  }
  process.stdout.write(JSON.stringify(report));
})().catch((e) => { console.error(e); process.exit(1); });
