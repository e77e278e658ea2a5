import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseSettings, SettingsError, settingsSchema } from "../src/config.ts";

const minimal = {
  PORTCULLIS_MANAGED_SUBSCRIPTIONS: "00000000-0000-0000-0000-000000000001",
  PORTCULLIS_TABLES_ENDPOINT: "https://acct.table.core.windows.net",
  PORTCULLIS_AUTH_ISSUER: "https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa/v2.0",
  PORTCULLIS_AUTH_AUDIENCE: "api://portcullis",
};

test("a minimal Azure configuration parses with safe defaults (dry-run, manual default action)", () => {
  const s = parseSettings(minimal);
  assert.equal(s.PORTCULLIS_MODE, "dry-run");
  assert.equal(s.PORTCULLIS_DEFAULT_ACTION, "manual");
  assert.equal(s.PORTCULLIS_ARM_ENDPOINT, "https://management.azure.com");
  assert.deepEqual(s.PORTCULLIS_MANAGED_SUBSCRIPTIONS, ["00000000-0000-0000-0000-000000000001"]);
  assert.equal(s.PORTCULLIS_RECONCILE_SCHEDULE, "0 */5 * * * *");
});

test("every problem is reported at once, each with the setting's name", () => {
  let error: unknown;
  try {
    parseSettings({ PORTCULLIS_MODE: "yolo", PORTCULLIS_MANAGED_INSTANCES: "not-an-id", PORTCULLIS_ARM_ENDPOINT: "http://insecure" });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof SettingsError);
  const names = error.problems.map((p) => p.split(":")[0]);
  for (const name of ["PORTCULLIS_MODE", "PORTCULLIS_MANAGED_INSTANCES", "PORTCULLIS_ARM_ENDPOINT", "PORTCULLIS_AUTH_ISSUER", "PORTCULLIS_AUTH_AUDIENCE", "PORTCULLIS_TABLES_ENDPOINT"]) {
    assert.ok(names.includes(name), `expected a problem for ${name} in:\n${error.message}`);
  }
});

test("an invalid ticket pattern is refused rather than crashing at first use", () => {
  assert.throws(() => parseSettings({ ...minimal, PORTCULLIS_TICKET_PATTERN: "([" }), /PORTCULLIS_TICKET_PATTERN/);
});

test("local.settings.sample.json lists every setting of the schema and parses", () => {
  const sample = JSON.parse(readFileSync(new URL("../local.settings.sample.json", import.meta.url), "utf8")) as { Values: Record<string, string> };
  for (const name of Object.keys(settingsSchema.shape)) {
    if (name === "WEBSITE_AUTH_ENABLED") continue; // set by the platform, never by hand
    assert.ok(name in sample.Values, `local.settings.sample.json lacks ${name}`);
  }
  assert.doesNotThrow(() => parseSettings(sample.Values));
});

test("a settings error names the setting and the problem but never echoes the value: a connection string pasted into the wrong setting leaks no key", () => {
  const connectionString = "DefaultEndpointsProtocol=https;AccountName=stprodacct;AccountKey=c2VjcmV0LWtleS1tYXRlcmlhbC0xMjM0NTY3ODkw;EndpointSuffix=core.windows.net";
  let error: unknown;
  try {
    parseSettings({
      ...minimal,
      PORTCULLIS_TABLES_ENDPOINT: connectionString,
      PORTCULLIS_ARM_ENDPOINT: connectionString,
      PORTCULLIS_MODE: connectionString,
      PORTCULLIS_MANAGED_INSTANCES: `${connectionString},also-bad`,
      PORTCULLIS_ARM_CONCURRENCY: connectionString,
    });
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof SettingsError);
  for (const name of ["PORTCULLIS_TABLES_ENDPOINT", "PORTCULLIS_ARM_ENDPOINT", "PORTCULLIS_MODE", "PORTCULLIS_MANAGED_INSTANCES", "PORTCULLIS_ARM_CONCURRENCY"]) {
    assert.ok(error.message.includes(name), `names ${name}:\n${error.message}`);
  }
  for (let i = 0; i + 6 <= connectionString.length; i++) {
    const piece = connectionString.slice(i, i + 6);
    assert.ok(!error.message.includes(piece), `the message echoes "${piece}" of the value:\n${error.message}`);
  }
  assert.match(error.message, /PORTCULLIS_MANAGED_INSTANCES: .*entry 1/);
  assert.match(error.message, /not shown/);
});

test("managed scope: API Management only unless resource types are named; '*' governs every registered type; names are case-insensitive", async () => {
  const { managedScopeOf } = await import("../src/config.ts");
  const { REGISTERED_RESOURCE_TYPES } = await import("../src/domain/providers/registry.ts");
  assert.deepEqual(parseSettings(minimal).PORTCULLIS_MANAGED_RESOURCE_TYPES, ["Microsoft.ApiManagement/service"]);
  assert.deepEqual(parseSettings({ ...minimal, PORTCULLIS_MANAGED_RESOURCE_TYPES: "*" }).PORTCULLIS_MANAGED_RESOURCE_TYPES, REGISTERED_RESOURCE_TYPES);
  const s = parseSettings({ ...minimal, PORTCULLIS_MANAGED_RESOURCE_TYPES: "microsoft.storage/STORAGEACCOUNTS, Microsoft.KeyVault/vaults" });
  assert.deepEqual(s.PORTCULLIS_MANAGED_RESOURCE_TYPES, ["Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults"]);
  const apim = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim";
  const storage = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1";
  const both = parseSettings({ ...minimal, PORTCULLIS_MANAGED_RESOURCE_TYPES: "*", PORTCULLIS_MANAGED_RESOURCES: storage, PORTCULLIS_MANAGED_INSTANCES: apim });
  assert.deepEqual(managedScopeOf(both).resourceIds, [storage, apim], "the deprecated instances are read as managed resources");
});

test("an unknown resource type is a settings error naming it and listing the registered types; a listed resource of an ungoverned type is refused", () => {
  assert.throws(
    () => parseSettings({ ...minimal, PORTCULLIS_MANAGED_RESOURCE_TYPES: "Microsoft.ApiManagement/service,Microsoft.Fake/widgets" }),
    (e: unknown) =>
      e instanceof SettingsError &&
      /PORTCULLIS_MANAGED_RESOURCE_TYPES: 'Microsoft.Fake\/widgets' is not a registered resource type; registered: Microsoft.ApiManagement\/service, Microsoft.Storage\/storageAccounts/.test(e.message),
  );
  const storage = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1";
  assert.throws(
    () => parseSettings({ ...minimal, PORTCULLIS_MANAGED_RESOURCES: storage }),
    (e: unknown) => e instanceof SettingsError && /PORTCULLIS_MANAGED_RESOURCES: entry 1: is a Microsoft.Storage\/storageAccounts, which PORTCULLIS_MANAGED_RESOURCE_TYPES \(Microsoft.ApiManagement\/service\) does not govern/.test(e.message),
  );
  assert.throws(() => parseSettings({ ...minimal, PORTCULLIS_MANAGED_RESOURCES: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm" }), /PORTCULLIS_MANAGED_RESOURCES: entry 1: expected the resource ID of a registered type/);
});

test("the deprecated PORTCULLIS_MANAGED_INSTANCES still works and start-up warns about it", async () => {
  const { settingsWarnings } = await import("../src/config.ts");
  const apim = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim";
  const s = parseSettings({ ...minimal, PORTCULLIS_MANAGED_SUBSCRIPTIONS: undefined, PORTCULLIS_MANAGED_INSTANCES: apim });
  assert.match(settingsWarnings(s).join("\n"), /PORTCULLIS_MANAGED_INSTANCES is deprecated.*PORTCULLIS_MANAGED_RESOURCES/);
  assert.deepEqual(settingsWarnings(parseSettings(minimal)), []);
});

test("PORTCULLIS_INVENTORY: ARM listing unless Resource Graph is chosen; anything else is refused by name", () => {
  assert.equal(parseSettings(minimal).PORTCULLIS_INVENTORY, "arm-listing");
  assert.equal(parseSettings({ ...minimal, PORTCULLIS_INVENTORY: "resource-graph" }).PORTCULLIS_INVENTORY, "resource-graph");
  const error = (() => {
    try {
      parseSettings({ ...minimal, PORTCULLIS_INVENTORY: "graph" });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(error instanceof SettingsError);
  assert.match(error.problems.join("\n"), /^PORTCULLIS_INVENTORY: .*arm-listing.*resource-graph/m);
});
