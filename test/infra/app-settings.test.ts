/**
 * The Function App's settings in infra/ against the settings schema (src/config.ts): a deployment that misses a
 * required setting would stop at start-up, so the templates must set every one of them, and nothing unknown.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSettings, REMEDIABLE_CHECKS, settingsSchema } from "../../src/config.ts";
import { objectKeys, propertyValue, readBicep, readBicepFiles, resourceDeclarations, stringLiterals, variableExpression } from "./bicep.ts";

const main = readBicep("infra/main.bicep");
const functionAppModule = readBicep("infra/app/function-app.bicep");

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

const alwaysSet = objectKeys(variableExpression(main, "portcullisSettings"));
const optionalSettingsCode = ["ticketPatternSetting", "notificationsSetting"].map((name) => variableExpression(main, name)).join("\n");
const setWhenUsed = [...optionalSettingsCode.matchAll(/\b(PORTCULLIS_[A-Z_]+)\s*:/g)].map((m) => m[1] ?? "");

/** Valid sample values for every setting the templates write, standing in for the values parameters produce. */
const SAMPLE_VALUES: Readonly<Record<string, string>> = {
  PORTCULLIS_MODE: "dry-run",
  PORTCULLIS_DEFAULT_ACTION: "manual",
  PORTCULLIS_MANAGED_INSTANCES:
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-prod",
  PORTCULLIS_MANAGED_SUBSCRIPTIONS: "11111111-2222-3333-4444-555555555555",
  PORTCULLIS_RECONCILE_SCHEDULE: "0 */5 * * * *",
  PORTCULLIS_AUDIT_SCHEDULE: "0 0 6 * * *",
  PORTCULLIS_TABLES_ENDPOINT: "https://stexample.table.core.windows.net/",
  PORTCULLIS_TABLE_PREFIX: "portcullis",
  PORTCULLIS_ARM_ENDPOINT: "https://management.azure.com",
  PORTCULLIS_ARM_CREDENTIAL: "default",
  PORTCULLIS_ARM_CONCURRENCY: "8",
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

  it("reaches ARM with the managed identity and Table Storage by endpoint, never the local-stack settings", () => {
    assert.equal(propertyValue(variableExpression(main, "portcullisSettings"), "PORTCULLIS_ARM_CREDENTIAL"), "'default'");
    assert.match(propertyValue(variableExpression(main, "portcullisSettings"), "PORTCULLIS_TABLES_ENDPOINT") ?? "", /tableEndpoint/);
    for (const file of readBicepFiles()) {
      for (const forbidden of LOCAL_STACK_ONLY) {
        assert.ok(!file.code.includes(forbidden), `${file.path} mentions ${forbidden}, which is for the local stack only`);
      }
    }
  });

  it("starts in dry-run and trusts Entra ID v2.0 tokens of this tenant for the API's own app registration", () => {
    assert.match(main.code, /^param mode string = 'dry-run'$/m);
    const settings = variableExpression(main, "portcullisSettings");
    assert.equal(propertyValue(settings, "PORTCULLIS_AUTH_ISSUER"), "authIssuer");
    assert.equal(variableExpression(main, "authIssuer"), "'${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'");
    assert.equal(propertyValue(settings, "PORTCULLIS_AUTH_AUDIENCE"), "apiAppId");
    assert.match(variableExpression(main, "apiAppId"), /apiRegistration\.outputs\.appId/);
  });

  it("passes the Portcullis settings to the Function App, whose host reaches storage and telemetry by identity", () => {
    const moduleCall = /^module functionApp 'app\/function-app\.bicep' = /m.exec(main.code);
    assert.ok(moduleCall, "main.bicep deploys app/function-app.bicep");
    assert.match(main.code, /appSettings: union\(portcullisSettings, portcullisOptionalSettings\)/);
    const site = resourceDeclarations(functionAppModule).find((r) => r.type === "Microsoft.Web/sites");
    assert.ok(site, "function-app.bicep declares the site");
    assert.match(site.body, /for setting in items\(union\(appSettings, hostSettings\)\)/);
    const hostSettings = objectKeys(variableExpression(functionAppModule, "hostSettings"));
    for (const key of [
      "AzureWebJobsStorage__accountName",
      "AzureWebJobsStorage__credential",
      "AzureWebJobsStorage__clientId",
      "APPLICATIONINSIGHTS_CONNECTION_STRING",
      "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
      "AZURE_CLIENT_ID",
    ]) {
      assert.ok(hostSettings.includes(key), `host setting ${key} is set`);
    }
    assert.ok(!functionAppModule.code.includes("AzureWebJobsStorage:"), "no connection-string AzureWebJobsStorage");
  });

  it("uses the same switches for PORTCULLIS_REMEDIATE as for the write actions in the custom roles", () => {
    assert.equal(
      propertyValue(variableExpression(main, "portcullisSettings"), "PORTCULLIS_REMEDIATE"),
      "join(concat(publicAccessRemediation, dnsRecordRemediation), ',')",
    );
    assert.equal(variableExpression(main, "publicAccessRemediation"), "remediatePublicNetworkAccess ? ['public-network-access'] : []");
    assert.equal(variableExpression(main, "dnsRecordRemediation"), "remediateDnsRecords ? ['dns-record'] : []");
    const named = ["publicAccessRemediation", "dnsRecordRemediation"].flatMap((v) => stringLiterals(variableExpression(main, v)));
    assert.deepEqual(named.sort(), [...REMEDIABLE_CHECKS].sort(), "every remediation the app knows has its switch");
  });
});
