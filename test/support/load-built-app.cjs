// Loads the built app (dist/index.js) with plain `node` the way the Azure Functions Node.js worker does:
// the worker provides the `@azure/functions-core` module that `@azure/functions` registers functions with.
// This stand-in records each registration and prints them as JSON on stdout.
"use strict";
const Module = require("node:module");
const path = require("node:path");

const registrations = [];
const coreApi = {
  setProgrammingModel() {},
  registerFunction(metadata) {
    registrations.push(metadata);
    return { dispose() {} };
  },
  registerHook() {
    return { dispose() {} };
  },
};
const originalRequire = Module.prototype.require;
Module.prototype.require = function requireWithCore(id) {
  if (id === "@azure/functions-core") return coreApi;
  return originalRequire.apply(this, arguments);
};

const entry = path.resolve(process.argv[2] ?? "dist/index.js");
import(require("node:url").pathToFileURL(entry).href).then(
  (module) => {
    process.stdout.write(JSON.stringify({ exported: module.registeredFunctionNames, registrations }));
  },
  (error) => {
    process.stderr.write(String(error && error.stack ? error.stack : error));
    process.exit(1);
  },
);
