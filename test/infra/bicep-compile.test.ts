/**
 * The Bicep under infra/ compiled and linted by the official Bicep CLI (pinned in scripts/bicep-cli/restore.csproj,
 * installed by scripts/ensure-bicep.sh from NuGet): every entry point builds, and neither the compiler nor any core
 * linter rule reports anything, not even a warning.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { BICEP_ENTRY_POINTS, bicepVersion, compileBicep, lintBicep, REPO_ROOT, type BicepDiagnostic } from "../support/compiled-infra.ts";

const PINNED_VERSION = /Version="\[([^\]]+)\]"/.exec(readFileSync(path.join(REPO_ROOT, "scripts", "bicep-cli", "restore.csproj"), "utf8"))?.[1];

/**
 * The core linter rules of Bicep 0.49 (Azure/bicep src/Bicep.Core/Analyzers/Linter/Rules, the `Code` of each rule;
 * listed with their settings at learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-config-linter) and the
 * level bicepconfig.json gives each. Off: see the reasons in infra/bicepconfig.json.
 */
const EXPECTED_RULE_LEVELS: Readonly<Record<string, "warning" | "error" | "off">> = {
  "adminusername-should-not-be-literal": "warning",
  "artifacts-parameters": "warning",
  "decompiler-cleanup": "warning",
  "explicit-values-for-loc-params": "warning",
  "max-asserts": "warning",
  "max-outputs": "warning",
  "max-params": "warning",
  "max-resources": "warning",
  "max-variables": "warning",
  "nested-deployment-template-scoping": "error",
  "no-conflicting-metadata": "warning",
  "no-deployments-resources": "warning",
  "no-explicit-any": "warning",
  "no-hardcoded-env-urls": "warning",
  "no-hardcoded-location": "warning",
  "no-loc-expr-outside-params": "warning",
  "no-unnecessary-dependson": "warning",
  "no-unused-existing-resources": "warning",
  "no-unused-imports": "warning",
  "no-unused-params": "warning",
  "no-unused-types": "warning",
  "no-unused-vars": "warning",
  "outputs-should-not-contain-secrets": "warning",
  "prefer-interpolation": "warning",
  "prefer-unquoted-property-names": "warning",
  "protect-commandtoexecute-secrets": "warning",
  "secure-parameter-default": "warning",
  "secure-params-in-nested-deploy": "warning",
  "secure-secrets-in-params": "warning",
  "simplify-interpolation": "warning",
  "simplify-json-null": "warning",
  "use-description-outputs": "warning",
  "use-description-params": "warning",
  "use-description-type-properties": "warning",
  "use-description-types": "warning",
  "use-parent-property": "warning",
  "use-recent-api-versions": "off",
  "use-recognized-resource-type": "warning",
  "use-resource-id-functions": "warning",
  "use-resource-symbol-reference": "warning",
  "use-safe-access": "warning",
  "use-secure-value-for-secure-inputs": "warning",
  "use-stable-resource-identifiers": "warning",
  "use-stable-vm-image": "warning",
  "use-user-defined-types": "warning",
  "what-if-short-circuiting": "off",
};

function show(diagnostics: readonly BicepDiagnostic[]): string {
  return diagnostics.map((d) => `${d.file}(${d.line},${d.column}) ${d.level} ${d.code}: ${d.message}`).join("\n");
}

function bicepFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? bicepFiles(path.join(dir, entry.name)) : entry.name.endsWith(".bicep") ? [path.join(dir, entry.name)] : [],
  );
}

describe("Bicep compiled by the pinned official CLI", () => {
  it("is the version scripts/bicep-cli/restore.csproj pins", () => {
    assert.ok(PINNED_VERSION, "restore.csproj pins Azure.Bicep.CommandLine.linux-x64 to one version");
    assert.equal(bicepVersion(), PINNED_VERSION);
  });

  for (const entry of BICEP_ENTRY_POINTS) {
    it(`builds ${entry} with no error and no warning`, () => {
      const { template, diagnostics } = compileBicep(entry);
      assert.deepEqual(show(diagnostics), "", `the compiler reported:\n${show(diagnostics)}`);
      assert.match(String(template.$schema), /[dD]eploymentTemplate\.json#$/);
    });
  }

  it("lints every .bicep file under infra/ with no finding", () => {
    const diagnostics = lintBicep();
    assert.deepEqual(show(diagnostics), "", `the linter reported:\n${show(diagnostics)}`);
  });

  it("has the entry points docs/deploy.md deploys, and no other deployable file outside infra/app/", () => {
    const topLevel = bicepFiles(path.join(REPO_ROOT, "infra"))
      .map((f) => path.relative(REPO_ROOT, f).split(path.sep).join("/"))
      .filter((f) => !f.startsWith("infra/app/"));
    // shared.bicep holds exported types and functions only (nothing to deploy); the rest are entry points.
    assert.deepEqual(topLevel.sort(), [...BICEP_ENTRY_POINTS, "infra/shared.bicep"].sort());
    const docs = readFileSync(path.join(REPO_ROOT, "docs", "deploy.md"), "utf8");
    for (const entry of BICEP_ENTRY_POINTS) assert.ok(docs.includes(entry), `docs/deploy.md explains ${entry}`);
  });
});

describe("bicepconfig.json", () => {
  const config = JSON.parse(
    readFileSync(path.join(REPO_ROOT, "infra", "bicepconfig.json"), "utf8").replace(/^\s*\/\/.*$/gm, ""),
  ) as { analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } } };

  it("enables the core linter with every rule at the level chosen for it (warnings fail the test above)", () => {
    assert.equal(config.analyzers.core.enabled, true);
    const levels = Object.fromEntries(Object.entries(config.analyzers.core.rules).map(([rule, { level }]) => [rule, level]));
    assert.deepEqual(levels, EXPECTED_RULE_LEVELS);
  });
});

describe("the compile on a machine without the vendored Graph types", () => {
  it("stops with an error that says what is missing and where to put it", () => {
    const saved = process.env.PORTCULLIS_MSGRAPH_BICEP_TYPES;
    process.env.PORTCULLIS_MSGRAPH_BICEP_TYPES = path.join(REPO_ROOT, ".artifacts", "no-such-msgraph-types");
    try {
      assert.throws(() => compileBicep("infra/main.bicep"), /Microsoft Graph Bicep extension.*no v1\.0\/1\.0\.0\/index\.json under .*no-such-msgraph-types.*PORTCULLIS_MSGRAPH_BICEP_TYPES/s);
    } finally {
      if (saved === undefined) delete process.env.PORTCULLIS_MSGRAPH_BICEP_TYPES;
      else process.env.PORTCULLIS_MSGRAPH_BICEP_TYPES = saved;
    }
  });
});
