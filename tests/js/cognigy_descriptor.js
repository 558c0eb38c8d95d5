"use strict";
// Prints one built-in node descriptor of @cognigy/rest-api-client as JSON (fields with their
// types and defaults), so tests can build a node config exactly as Cognigy's own node declares it.
// Usage: node cognigy_descriptor.js <module path under build/> <export name>
const path = require("path");
const [modulePath, exportName] = process.argv.slice(2);
const pkg = path.dirname(require.resolve("@cognigy/rest-api-client/package.json"));
const descriptor = require(path.join(pkg, "build", modulePath))[exportName];
if (!descriptor) throw new Error("no export " + exportName + " in " + modulePath);
process.stdout.write(JSON.stringify({
  type: descriptor.type,
  fields: descriptor.fields.map((f) => ({ key: f.key, type: f.type, defaultValue: f.defaultValue })),
}));
