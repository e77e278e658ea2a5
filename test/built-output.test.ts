import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { functionDefinitions } from "../src/functions/index.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const sample = JSON.parse(readFileSync(new URL("../local.settings.sample.json", import.meta.url), "utf8")) as { Values: Record<string, string> };

function ensureBuilt(): void {
  // `npm test` builds first; building here too keeps this test runnable on its own.
  if (!existsSync(`${root}dist/index.js`)) execFileSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
}

function loadBuiltApp(env: Record<string, string>) {
  return spawnSync(process.execPath, [`${root}test/support/load-built-app.cjs`, `${root}dist/index.js`], {
    cwd: root,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    encoding: "utf8",
  });
}

test("the built output runs under plain node and registers every function in the table", () => {
  ensureBuilt();
  const result = loadBuiltApp(sample.Values);
  assert.equal(result.status, 0, result.stderr);
  const output = JSON.parse(result.stdout) as { exported: string[]; registrations: { name: string; bindings: Record<string, { type: string; direction: string }> }[] };
  const expected = functionDefinitions.map((d) => d.name).sort();
  assert.deepEqual(output.registrations.map((r) => r.name).sort(), expected);
  assert.deepEqual([...output.exported].sort(), expected);
  const triggerType = { http: "httpTrigger", eventGrid: "eventGridTrigger", timer: "timerTrigger" } as const;
  for (const definition of functionDefinitions) {
    const registration = output.registrations.find((r) => r.name === definition.name)!;
    const types = Object.values(registration.bindings).map((b) => b.type);
    assert.ok(types.includes(triggerType[definition.kind]), `${definition.name} registered with ${types.join(", ")}`);
  }
});

test("the built output refuses to start with bad settings and names each one", () => {
  ensureBuilt();
  const result = loadBuiltApp({ PORTCULLIS_MODE: "sometimes" });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /PORTCULLIS_MODE/);
  assert.match(result.stderr, /PORTCULLIS_AUTH_ISSUER/);
});
