/**
 * The Bicep reads as an experienced engineer writes it, checked on the templates the Bicep CLI compiles: every
 * parameter and output documented, nothing environment-specific hard-coded (no names or regions; GUIDs only as named
 * built-in role IDs), the azd layout with UPPER_SNAKE outputs and a parameters file fed from the azd environment.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { allResources, allTemplates, isExpression } from "../support/arm-template.ts";
import { BICEP_ENTRY_POINTS, compileBicep, REPO_ROOT } from "../support/compiled-infra.ts";

const compiled = BICEP_ENTRY_POINTS.map((entry) => ({ entry, template: compileBicep(entry).template }));
const main = compiled.find((c) => c.entry === "infra/main.bicep")!.template;
const templates = compiled.flatMap(({ entry, template }) => allTemplates(template).map((t) => ({ entry, ...t })));
const resources = compiled.flatMap(({ entry, template }) => allResources(template).map((r) => ({ entry, ...r })));
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** Child resource names fixed by the resource provider's API, not chosen by us. */
const API_FIXED_NAMES = new Set(["default", "ftp", "scm"]);

const where = (t: { entry: string; path: readonly string[] }) => [t.entry, ...t.path].join(" > ");

describe("Bicep style (compiled templates)", () => {
  it("documents every parameter and every output with a description, in every module", () => {
    assert.ok(templates.length > 15, "the entry points and their modules");
    const undocumented = templates.flatMap((t) => [
      ...Object.entries(t.template.parameters ?? {}).filter(([, p]) => !(p.metadata?.description ?? "").trim()).map(([name]) => `${where(t)}: param ${name}`),
      ...Object.entries(t.template.outputs ?? {}).filter(([, o]) => !(o.metadata?.description ?? "").trim()).map(([name]) => `${where(t)}: output ${name}`),
    ]);
    assert.deepEqual(undocumented, []);
  });

  it("has no GUID in the sources but built-in role IDs, each a named constant with the role's name in a comment", () => {
    const files = readdirSync(path.join(REPO_ROOT, "infra"), { recursive: true }).map(String).filter((f) => f.endsWith(".bicep"));
    for (const file of files) {
      readFileSync(path.join(REPO_ROOT, "infra", file), "utf8")
        .split("\n")
        .forEach((line, index) => {
          if (!GUID.test(line)) return;
          assert.match(line, /^var [a-z]\w*RoleId = '[0-9a-f-]{36}' \/\/ \S.*$/, `infra/${file}:${index + 1} holds a GUID that is not a named, commented built-in role ID`);
        });
    }
  });

  it("hard-codes no resource name, except child names the API fixes", () => {
    for (const r of resources.filter((x) => x.resource.existing !== true && x.resource.type !== "Microsoft.Resources/deployments")) {
      const name = r.resource.name ?? r.resource.properties?.["uniqueName"] ?? r.resource["uniqueName"];
      if (name === undefined) continue;
      assert.ok(isExpression(name) || API_FIXED_NAMES.has(String(name)), `${where(r)}: name ${String(name)} is hard-coded`);
    }
  });

  it("hard-codes no region: locations come from parameters (system topics of a subscription are global by definition)", () => {
    for (const r of resources) {
      const location = r.resource["location"];
      if (location === undefined || isExpression(location)) continue;
      assert.ok(location === "global" && r.resource.type === "Microsoft.EventGrid/systemTopics", `${where(r)}: location ${String(location)}`);
    }
  });

  it("follows the azd layout: a subscription-scoped main.bicep composing modules, UPPER_SNAKE outputs", () => {
    assert.match(String(main.$schema), /subscriptionDeploymentTemplate\.json#$/);
    const modules = resources.filter((r) => r.entry === "infra/main.bicep" && r.path.length === 1 && r.resource.type === "Microsoft.Resources/deployments");
    assert.ok(modules.length >= 10);
    const outputs = Object.keys(main.outputs ?? {});
    assert.ok(outputs.includes("AZURE_LOCATION") && outputs.includes("PORTCULLIS_API_BASE_URL"));
    for (const output of outputs) assert.match(output, /^[A-Z][A-Z0-9_]*$/, `output ${output} is UPPER_SNAKE`);
  });

  it("feeds main.bicep from the azd environment through main.parameters.json", () => {
    const parametersFile = JSON.parse(readFileSync(path.join(REPO_ROOT, "infra", "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: unknown }>;
    };
    const declared = main.parameters ?? {};
    for (const [name, { value }] of Object.entries(parametersFile.parameters)) {
      assert.ok(name in declared, `main.parameters.json sets ${name}, which main.bicep declares`);
      assert.match(String(value), /^\$\{[A-Z][A-Z0-9_]*\}$/, `${name} comes from one azd environment variable`);
    }
    for (const [name, p] of Object.entries(declared).filter(([, p]) => !("defaultValue" in p))) {
      assert.ok(name in parametersFile.parameters, `${name} (${p.type}) has no default, so main.parameters.json supplies it`);
    }
    // azd convention: AZURE_LOCATION goes in and comes back unchanged; any other echo would feed a provision its own output.
    const outputs = new Set(Object.keys(main.outputs ?? {}).filter((name) => name !== "AZURE_LOCATION"));
    for (const { value } of Object.values(parametersFile.parameters)) {
      const variable = /^\$\{(\w+)\}$/.exec(String(value))?.[1] ?? "";
      assert.ok(!outputs.has(variable), `${variable} is both an input and an output: a provision would feed itself`);
    }
  });

  it("states in azure.yaml the azd version whose parameter handling and Bicep the templates rely on", () => {
    const azureYaml = parseYaml(readFileSync(path.join(REPO_ROOT, "azure.yaml"), "utf8")) as { requiredVersions?: { azd?: string }; infra?: { path?: string; module?: string } };
    const constraint = azureYaml.requiredVersions?.azd ?? "";
    const minimum = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(constraint);
    assert.ok(minimum, `requiredVersions.azd is a minimum version (">= x.y.z"), not ${JSON.stringify(constraint)}`);
    const [major, minor, patch] = minimum.slice(1).map(Number) as [number, number, number];
    // 1.23.8: the first azd that provisions with Bicep 0.41.2 or later (its changelog, Azure/azure-dev#6953); older
    // ones may bring a Bicep without the Graph extension or user-defined functions.
    assert.ok(major > 1 || (major === 1 && (minor > 23 || (minor === 23 && patch >= 8))), `${constraint} admits an azd with too old a Bicep`);
    assert.deepEqual([azureYaml.infra?.path, azureYaml.infra?.module], ["infra", "main"]);
  });
});
