"use strict";
// Derives JSON Schemas from a package's published TypeScript declarations with the `typescript`
// compiler API, so tests hold bodies to the types as they are published (nothing typed by hand).
// Usage: node ts_schema.js <declaration file> <TypeName> [<TypeName>...]
// Prints {TypeName: schema, ...}. Mapping: string/number/boolean and literals as such, `object`
// as a JSON object, `any`/`unknown`/unresolved types as {}, arrays, unions as anyOf (literal
// unions as enum), interfaces and object types as objects with their required (non-optional)
// properties and no others unless they declare an index signature (TypeScript refuses excess
// properties in an object literal); methods are left out.
const ts = require("typescript");

const [file, ...names] = process.argv.slice(2);
const program = ts.createProgram([file], { strict: true, noEmit: true, skipLibCheck: true });
const checker = program.getTypeChecker();
const source = program.getSourceFile(file);
if (!source) throw new Error("cannot read " + file);

const declared = new Map();
function collect(node) {
  if ((ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) && node.name) {
    declared.set(node.name.text, node);
  }
  ts.forEachChild(node, collect);
}
collect(source);

const MAX_DEPTH = 12;

function schemaOf(type, depth) {
  if (depth > MAX_DEPTH) return {};
  const f = type.flags;
  if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return {};
  if (f & ts.TypeFlags.StringLiteral) return { const: type.value };
  if (f & ts.TypeFlags.NumberLiteral) return { const: type.value };
  if (f & ts.TypeFlags.BooleanLiteral) return { const: type.intrinsicName === "true" };
  if (f & ts.TypeFlags.String) return { type: "string" };
  if (f & ts.TypeFlags.Number) return { type: "number" };
  if (f & ts.TypeFlags.Boolean) return { type: "boolean" };
  if (f & ts.TypeFlags.Null) return { type: "null" };
  if (f & ts.TypeFlags.NonPrimitive) return { type: "object" };
  if (type.isUnion()) {
    const members = type.types.filter((t) => !(t.flags & ts.TypeFlags.Undefined));
    if (members.length && members.every((t) => t.flags & ts.TypeFlags.BooleanLiteral)) {
      return { type: "boolean" };
    }
    if (members.length && members.every((t) => t.isStringLiteral())) {
      return { enum: members.map((t) => t.value) };
    }
    const parts = members.map((t) => schemaOf(t, depth + 1));
    return parts.length === 1 ? parts[0] : { anyOf: parts };
  }
  if (checker.isArrayType(type)) {
    const [item] = checker.getTypeArguments(type);
    return { type: "array", items: item ? schemaOf(item, depth + 1) : {} };
  }
  if (f & ts.TypeFlags.Object || type.isIntersection()) {
    if (type.getCallSignatures().length) return {};
    const properties = {};
    const required = [];
    for (const prop of checker.getPropertiesOfType(type)) {
      const decl = prop.valueDeclaration || (prop.declarations || [])[0];
      const propType = checker.getTypeOfSymbolAtLocation(prop, decl || source);
      if (propType.getCallSignatures().length && !(propType.flags & ts.TypeFlags.Union)) continue;
      properties[prop.name] = schemaOf(propType, depth + 1);
      if (!(prop.flags & ts.SymbolFlags.Optional)) required.push(prop.name);
    }
    const index = checker.getIndexTypeOfType(type, ts.IndexKind.String);
    const out = { type: "object", properties };
    if (required.length) out.required = required;
    out.additionalProperties = index ? schemaOf(index, depth + 1) : false;
    return out;
  }
  return {};
}

const out = {};
for (const name of names) {
  const node = declared.get(name);
  if (!node) throw new Error(name + " is not declared in " + file);
  const symbol = checker.getSymbolAtLocation(node.name);
  out[name] = schemaOf(checker.getDeclaredTypeOfSymbol(symbol), 0);
}
process.stdout.write(JSON.stringify(out));
