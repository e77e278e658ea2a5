/**
 * The Function App's settings in infra/ against the settings schema (src/config.ts): a deployment that misses a
 * required setting would stop at start-up, so the templates must set every one of them, and nothing unknown.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSettings, REMEDIABLE_CHECKS, settingsSchema } from "../../src/config.ts";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { allTemplates, evaluate, moduleTemplate, resourcesOf } from "../support/arm-template.ts";
import { compileBicep, REPO_ROOT } from "../support/compiled-infra.ts";

const main = compileBicep("infra/main.bicep").template;
const functionAppModule = moduleTemplate(main, "functionApp");
const appSettingsExpression = (resourcesOf(main).find(([name]) => name === "functionApp")![1].properties?.["parameters"] as Record<string, { value: unknown }>)["appSettings"]?.value;

/** The Portcullis settings main.bicep passes to the Function App, as ARM evaluates them for these parameters. */
function settingsFor(parameters: Record<string, unknown> = {}): Record<string, unknown> {
  return evaluate(main, appSettingsExpression, { environmentName: "dev", location: "westeurope", ...parameters }) as Record<string, unknown>;
}

/** Settings and values of the local stack (emulator CAs, Azurite connection string, test credential): never in Azure. */
const LOCAL_STACK_ONLY = ["PORTCULLIS_ARM_CA_FILE", "PORTCULLIS_AUTH_CA_FILE", "PORTCULLIS_TABLES_CONNECTION_STRING", "local-emulator"];

/** Settings the platform sets itself, never the template. */
const PLATFORM_SETTINGS = new Set(["WEBSITE_AUTH_ENABLED"]);

const schemaKeys = Object.keys(settingsSchema.shape);

/** A setting is required when the schema rejects it missing: it is neither optional nor defaulted. */
function isRequired(key: string): boolean {
  const field = settingsSchema.shape[key as keyof typeof settingsSchema.shape];
  return !field.safeParse(undefined).success;
}

/** Set whatever the parameters: the defaults, with no optional feature on. */
const alwaysSet = Object.keys(settingsFor());
/** Set only when their feature is used. */
const setWhenUsed = Object.keys(settingsFor({ ticketPattern: "^CHG\\d{7}$", notificationsTopicEnabled: true })).filter((key) => !alwaysSet.includes(key));

/** Valid sample values for every setting the templates write, standing in for the values parameters produce. */
const SAMPLE_VALUES: Readonly<Record<string, string>> = {
  PORTCULLIS_MODE: "dry-run",
  PORTCULLIS_DEFAULT_ACTION: "manual",
  PORTCULLIS_MANAGED_RESOURCE_TYPES: "Microsoft.ApiManagement/service,Microsoft.KeyVault/vaults",
  PORTCULLIS_MANAGED_RESOURCES:
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-prod,/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-prod",
  PORTCULLIS_MANAGED_SUBSCRIPTIONS: "11111111-2222-3333-4444-555555555555",
  PORTCULLIS_RECONCILE_SCHEDULE: "0 */5 * * * *",
  PORTCULLIS_AUDIT_SCHEDULE: "0 0 6 * * *",
  PORTCULLIS_TABLES_ENDPOINT: "https://stexample.table.core.windows.net/",
  PORTCULLIS_TABLE_PREFIX: "portcullis",
  PORTCULLIS_ARM_ENDPOINT: "https://management.azure.com",
  PORTCULLIS_ARM_CREDENTIAL: "default",
  PORTCULLIS_ARM_CONCURRENCY: "8",
  PORTCULLIS_INVENTORY: "resource-graph",
  PORTCULLIS_AUTH_ISSUER: "https://login.microsoftonline.com/99999999-8888-7777-6666-555555555555/v2.0",
  PORTCULLIS_AUTH_AUDIENCE: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
  PORTCULLIS_DNS_ZONE_IDS: "",
  PORTCULLIS_PUBLIC_ACCESS_EXEMPT: "",
  PORTCULLIS_REMEDIATE: "",
  PORTCULLIS_TICKET_PATTERN: "^CHG\\d{7}$",
  PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT: "https://evgt-example.westeurope-1.eventgrid.azure.net/api/events",
};

function sampleEnvironment(keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    keys.map((key) => {
      const value = SAMPLE_VALUES[key];
      assert.ok(value !== undefined, `the test has no sample value for ${key}: add one`);
      return [key, value];
    }),
  );
}

describe("Function App settings in infra/", () => {
  it("sets every setting the schema requires, unconditionally", () => {
    const required = schemaKeys.filter((key) => !PLATFORM_SETTINGS.has(key) && isRequired(key));
    assert.ok(required.includes("PORTCULLIS_AUTH_ISSUER"), "the schema still requires the issuer (sanity check of isRequired)");
    const missing = required.filter((key) => !alwaysSet.includes(key));
    assert.deepEqual(missing, [], `required settings missing from portcullisSettings in infra/main.bicep: ${missing.join(", ")}`);
  });

  it("sets only settings the schema knows", () => {
    const unknown = [...alwaysSet, ...setWhenUsed].filter((key) => !schemaKeys.includes(key));
    assert.deepEqual(unknown, [], `settings not in src/config.ts: ${unknown.join(", ")}`);
  });

  it("gives the app a complete configuration: the settings it always gets parse, cross-field rules included", () => {
    assert.doesNotThrow(() => parseSettings(sampleEnvironment(alwaysSet)));
  });

  it("would fail start-up if any always-set required setting were dropped (the check above can fail)", () => {
    for (const key of alwaysSet.filter((k) => isRequired(k))) {
      const environment = sampleEnvironment(alwaysSet.filter((k) => k !== key));
      assert.throws(() => parseSettings(environment), new RegExp(key));
    }
  });

  it("turns on each optional setting with its feature only", () => {
    assert.deepEqual(setWhenUsed.sort(), ["PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT", "PORTCULLIS_TICKET_PATTERN"]);
    assert.equal(settingsFor({ ticketPattern: "^CHG\\d{7}$" })["PORTCULLIS_TICKET_PATTERN"], "^CHG\\d{7}$");
    assert.equal(String(settingsFor({ notificationsTopicEnabled: true })["PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT"]), `<reference("notificationsTopic").outputs.endpoint.value>`);
  });

  it("reaches ARM with the managed identity and Table Storage by endpoint, never the local-stack settings", () => {
    const settings = settingsFor();
    assert.equal(settings["PORTCULLIS_ARM_CREDENTIAL"], "default");
    assert.equal(settings["PORTCULLIS_ARM_ENDPOINT"], "https://management.azure.com", "environment().resourceManager without its trailing slash");
    assert.equal(String(settings["PORTCULLIS_TABLES_ENDPOINT"]), `<reference("storage").outputs.tableEndpoint.value>`);
    for (const file of readdirSync(path.join(REPO_ROOT, "infra"), { recursive: true }).map(String).filter((f) => f.endsWith(".bicep"))) {
      const source = readFileSync(path.join(REPO_ROOT, "infra", file), "utf8");
      for (const forbidden of LOCAL_STACK_ONLY) assert.ok(!source.includes(forbidden), `infra/${file} mentions ${forbidden}, which is for the local stack only`);
    }
    for (const { template } of allTemplates(main)) {
      for (const forbidden of LOCAL_STACK_ONLY) assert.ok(!JSON.stringify(template).includes(forbidden), `the compiled template mentions ${forbidden}`);
    }
  });

  it("starts in dry-run and trusts Entra ID v2.0 tokens of this tenant for the API's own app registration", () => {
    assert.equal(main.parameters?.["mode"]?.defaultValue, "dry-run");
    const settings = settingsFor();
    assert.equal(settings["PORTCULLIS_MODE"], "dry-run");
    assert.equal(settings["PORTCULLIS_AUTH_ISSUER"], "https://login.microsoftonline.com/99999999-8888-7777-6666-555555555555/v2.0");
    assert.equal(String(settings["PORTCULLIS_AUTH_AUDIENCE"]), `<reference("apiRegistration").outputs.appId.value>`, "the created app registration");
    assert.equal(settingsFor({ existingApiAppId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" })["PORTCULLIS_AUTH_AUDIENCE"], "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  });

  it("passes the Portcullis settings to the Function App, whose host reaches storage and telemetry by identity", () => {
    const [, site] = resourcesOf(functionAppModule).find(([, r]) => r.type === "Microsoft.Web/sites")!;
    const siteConfig = evaluate(functionAppModule, site.properties?.["siteConfig"], {
      name: "func-x",
      planName: "plan-x",
      location: "westeurope",
      tags: {},
      identityId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x",
      identityClientId: "cccccccc-0000-4000-8000-000000000000",
      storageAccountName: "stx",
      deploymentContainerName: "app-package",
      applicationInsightsConnectionString: "InstrumentationKey=x",
      appSettings: { PORTCULLIS_MODE: "dry-run" },
    }) as { appSettings: { name: string; value: string }[]; ftpsState: string };
    const byName = Object.fromEntries(siteConfig.appSettings.map((s) => [s.name, s.value]));
    assert.equal(siteConfig.ftpsState, "Disabled");
    assert.equal(byName["PORTCULLIS_MODE"], "dry-run", "the Portcullis settings reach the site");
    assert.equal(byName["AzureWebJobsStorage__accountName"], "stx");
    assert.equal(byName["AzureWebJobsStorage__credential"], "managedidentity");
    assert.equal(byName["AzureWebJobsStorage__clientId"], "cccccccc-0000-4000-8000-000000000000");
    assert.equal(byName["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], "ClientId=cccccccc-0000-4000-8000-000000000000;Authorization=AAD");
    assert.equal(byName["AZURE_CLIENT_ID"], "cccccccc-0000-4000-8000-000000000000");
    assert.ok(!("AzureWebJobsStorage" in byName), "no connection-string AzureWebJobsStorage");
  });

  it("names in PORTCULLIS_REMEDIATE every remediation the app knows, each behind its switch", () => {
    const all = String(settingsFor({ remediatePublicNetworkAccess: true, remediateDnsRecords: true })["PORTCULLIS_REMEDIATE"]).split(",");
    assert.deepEqual(all.sort(), [...REMEDIABLE_CHECKS].sort(), "every remediation the app knows has its switch");
    assert.equal(settingsFor()["PORTCULLIS_REMEDIATE"], "");
  });
});
