/**
 * The Bicep reads as an experienced engineer writes it: every parameter documented, nothing environment-specific
 * hard-coded (no GUIDs but named built-in role IDs, no subscription IDs, names, or regions), the azd layout with
 * UPPER_SNAKE outputs and a parameters file fed from the azd environment.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { INFRA_DIR, outputNames, paramDeclarations, propertyValue, readBicep, readBicepFiles, resourceDeclarations } from "./bicep.ts";

const files = readBicepFiles();
const main = readBicep("infra/main.bicep");
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** Child resource names fixed by the resource provider's API, not chosen by us. */
const API_FIXED_NAMES = new Set(["'default'", "'ftp'", "'scm'"]);

describe("Bicep style in infra/", () => {
  it("documents every parameter with @description", () => {
    const params = files.flatMap(paramDeclarations);
    assert.ok(params.length > 40, "the reader finds the parameters");
    const undocumented = params.filter((p) => !p.decorators.includes("description")).map((p) => `${p.file}: ${p.name}`);
    assert.deepEqual(undocumented, []);
  });

  it("has no GUID but built-in role IDs, each a named constant with the role's name in a comment", () => {
    for (const file of files) {
      file.source.split("\n").forEach((line, index) => {
        if (!GUID.test(line)) return;
        assert.match(
          line,
          /^var [a-z]\w*RoleId = '[0-9a-f-]{36}' \/\/ \S.*$/,
          `${file.path}:${index + 1} holds a GUID that is not a named, commented built-in role ID`,
        );
      });
    }
  });

  it("hard-codes no resource name, except child names the API fixes", () => {
    for (const d of files.flatMap(resourceDeclarations).filter((r) => !r.existing)) {
      const name = propertyValue(d.body, "name") ?? propertyValue(d.body, "uniqueName");
      if (name === undefined) continue;
      const isPlainLiteral = /^'[^']*'$/.test(name) && !name.includes("${");
      assert.ok(!isPlainLiteral || API_FIXED_NAMES.has(name), `${d.file} ${d.symbol}: name ${name} is hard-coded`);
    }
  });

  it("hard-codes no region: locations come from parameters (system topics of a subscription are global by definition)", () => {
    for (const d of files.flatMap(resourceDeclarations).filter((r) => !r.existing)) {
      const location = propertyValue(d.body, "location");
      if (location === undefined) continue;
      assert.ok(!/^'/.test(location) || (location === "'global'" && d.type === "Microsoft.EventGrid/systemTopics"), `${d.file} ${d.symbol}: location ${location}`);
    }
  });

  it("follows the azd layout: subscription-scoped main.bicep composing modules under infra/app/, UPPER_SNAKE outputs", () => {
    assert.match(main.code, /^targetScope = 'subscription'$/m);
    const modules = [...main.code.matchAll(/^module\s+\w+\s+'([^']+)'/gm)].map((m) => m[1] ?? "");
    assert.ok(modules.length >= 10);
    for (const file of files) {
      for (const m of file.code.matchAll(/^module\s+\w+\s+'([^']+)'/gm)) {
        const target = path.join(path.dirname(path.join(INFRA_DIR, "..", file.path)), m[1] ?? "");
        assert.ok(existsSync(target), `${file.path}: module ${m[1]} exists`);
      }
    }
    const outputs = outputNames(main);
    assert.ok(outputs.includes("AZURE_LOCATION") && outputs.includes("PORTCULLIS_API_BASE_URL"));
    for (const output of outputs) assert.match(output, /^[A-Z][A-Z0-9_]*$/, `output ${output} is UPPER_SNAKE`);
  });

  it("feeds main.bicep from the azd environment through main.parameters.json", () => {
    const parametersFile = JSON.parse(readFileSync(path.join(INFRA_DIR, "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: unknown }>;
    };
    const params = paramDeclarations(main);
    const names = params.map((p) => p.name);
    for (const [name, { value }] of Object.entries(parametersFile.parameters)) {
      assert.ok(names.includes(name), `main.parameters.json sets ${name}, which main.bicep declares`);
      assert.match(String(value), /^\$\{[A-Z][A-Z0-9_]*\}$/, `${name} comes from one azd environment variable`);
    }
    for (const p of params.filter((x) => !x.declaration.includes(" = "))) {
      assert.ok(p.name in parametersFile.parameters, `${p.name} has no default, so main.parameters.json supplies it`);
    }
    // azd convention: AZURE_LOCATION goes in and comes back unchanged; any other echo would feed a provision its own output.
    const outputs = new Set(outputNames(main).filter((name) => name !== "AZURE_LOCATION"));
    for (const { value } of Object.values(parametersFile.parameters)) {
      const variable = /^\$\{(\w+)\}$/.exec(String(value))?.[1] ?? "";
      assert.ok(!outputs.has(variable), `${variable} is both an input and an output: a provision would feed itself`);
    }
  });
});
