import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { HANDLED_OPERATION_NAMES } from "../../../src/domain/decisions/arm-events.ts";
import { parseResourceEvent } from "../../../src/domain/decisions/events.ts";

const SUB = "22222222-2222-2222-2222-222222222222";
const TENANT = "44444444-4444-4444-4444-444444444444";
const PE = `/subscriptions/${SUB}/resourceGroups/rg-consumer/providers/Microsoft.Network/privateEndpoints/pe-1`;
const APIM = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-prod";

function eventGridEvent(operationName: string, resourceUri: string, overrides: Record<string, unknown> = {}) {
  return {
    id: "evt-1",
    topic: `/subscriptions/${SUB}`,
    subject: resourceUri,
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: "2025-06-01T12:00:00Z",
    data: { operationName, resourceUri, subscriptionId: SUB, tenantId: TENANT, status: "Succeeded", correlationId: "arm-corr" },
    dataVersion: "2",
    metadataVersion: "1",
    ...overrides,
  };
}

function cloudEvent(operationName: string, resourceUri: string, type = "Microsoft.Resources.ResourceWriteSuccess") {
  return {
    specversion: "1.0",
    id: "ce-1",
    source: `/subscriptions/${SUB}`,
    subject: resourceUri,
    type,
    time: "2025-06-01T12:00:00Z",
    data: { operationName, resourceUri, subscriptionId: SUB, tenantId: TENANT, status: "Succeeded" },
  };
}

test("a consumer private endpoint write in the Event Grid schema becomes an endpoint-written target with the tenant", () => {
  const parsed = parseResourceEvent(eventGridEvent("Microsoft.Network/privateEndpoints/write", PE));
  assert.equal(parsed.kind, "handled");
  if (parsed.kind !== "handled") return;
  assert.deepEqual(parsed.event.target, { kind: "endpoint-written", privateEndpointId: PE });
  assert.equal(parsed.event.tenantId, TENANT);
  assert.equal(parsed.event.schema, "EventGrid");
  assert.equal(parsed.event.eventTime?.toISOString(), "2025-06-01T12:00:00.000Z");
});

test("the same event in CloudEvents 1.0 is read the same way", () => {
  const parsed = parseResourceEvent(cloudEvent("microsoft.network/privateendpoints/write", PE));
  assert.equal(parsed.kind, "handled");
  if (parsed.kind !== "handled") return;
  assert.equal(parsed.event.schema, "CloudEvents");
  assert.deepEqual(parsed.event.target, { kind: "endpoint-written", privateEndpointId: PE });
});

test("provider-side proxy writes name the instance; connection writes and deletes name the connection", () => {
  const proxy = parseResourceEvent(eventGridEvent("Microsoft.ApiManagement/service/privateEndpointConnectionProxies/write", `${APIM}/privateEndpointConnectionProxies/pe-1.abc`));
  const write = parseResourceEvent(eventGridEvent("Microsoft.ApiManagement/service/privateEndpointConnections/write", `${APIM}/privateEndpointConnections/pe-1.abc`));
  const del = parseResourceEvent(
    eventGridEvent("Microsoft.ApiManagement/service/privateEndpointConnections/delete", `${APIM}/privateEndpointConnections/pe-1.abc`, {
      eventType: "Microsoft.Resources.ResourceDeleteSuccess",
    }),
  );
  assert.deepEqual(proxy.kind === "handled" && proxy.event.target, { kind: "resource-connections-changed", resourceId: APIM });
  assert.deepEqual(write.kind === "handled" && write.event.target, {
    kind: "connection-written",
    resourceId: APIM,
    connectionId: `${APIM}/privateEndpointConnections/pe-1.abc`,
  });
  assert.deepEqual(del.kind === "handled" && del.event.target, {
    kind: "connection-deleted",
    resourceId: APIM,
    connectionId: `${APIM}/privateEndpointConnections/pe-1.abc`,
  });
});

test("other operations and other event types are acknowledged and ignored", () => {
  const nic = parseResourceEvent(eventGridEvent("Microsoft.Network/networkInterfaces/write", PE.replace("privateEndpoints", "networkInterfaces")));
  const action = parseResourceEvent(cloudEvent("Microsoft.Network/privateEndpoints/write", PE, "Microsoft.Resources.ResourceActionSuccess"));
  const validation = parseResourceEvent({ ...eventGridEvent("x", PE), eventType: "Microsoft.EventGrid.SubscriptionValidationEvent", data: { validationCode: "c" } });
  assert.equal(nic.kind, "ignored");
  assert.equal(action.kind, "ignored");
  assert.equal(validation.kind, "ignored");
});

test("malformed events are acknowledged with the reason: not an ARM ID, missing fields, wrong schema, contradicting type", () => {
  const cases: [string, unknown, RegExp][] = [
    ["not an ARM resource ID", eventGridEvent("Microsoft.Network/privateEndpoints/write", "/not/an/arm/id"), /not a private endpoint ARM resource ID/],
    ["a connection ID for an endpoint operation", eventGridEvent("Microsoft.Network/privateEndpoints/write", `${APIM}/privateEndpointConnections/c`), /not a private endpoint/],
    ["missing operationName", { ...eventGridEvent("x", PE), data: { resourceUri: PE } }, /operationName/],
    ["missing data", { ...cloudEvent("x", PE), data: undefined }, /operationName|data/],
    ["a tenant that is not a GUID", { ...eventGridEvent("Microsoft.Network/privateEndpoints/write", PE), data: { operationName: "Microsoft.Network/privateEndpoints/write", resourceUri: PE, tenantId: "contoso" } }, /tenantId/],
    ["neither schema", { hello: "world" }, /neither/],
    ["not an object", "just text", /not a JSON object/],
    ["a CloudEvent of another spec version", { ...cloudEvent("x", PE), specversion: "0.3" }, /specversion/],
    ["an Event Grid event without id", { ...eventGridEvent("x", PE), id: undefined }, /id/],
    ["a write operation in a delete event", eventGridEvent("Microsoft.Network/privateEndpoints/write", PE, { eventType: "Microsoft.Resources.ResourceDeleteSuccess" }), /contradicts/],
    ["no resource named", { ...eventGridEvent("Microsoft.Network/privateEndpoints/write", PE), subject: "", data: { operationName: "Microsoft.Network/privateEndpoints/write" } }, /names the resource/],
  ];
  for (const [name, event, reason] of cases) {
    const parsed = parseResourceEvent(event);
    assert.equal(parsed.kind, "malformed", name);
    if (parsed.kind === "malformed") assert.match(parsed.reason, reason, name);
  }
});

// Microsoft's published subscription-level example events (azure-docs, articles/event-grid/event-schema-subscriptions.md),
// recorded as fixtures in test/fixtures/events/ (see its README): placeholders where GUIDs would be.
const FIXTURES = new URL("../../fixtures/events/", import.meta.url);
function fixture(name: string): unknown {
  const events = JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as unknown[];
  assert.equal(events.length, 1, `${name} holds one event`);
  return events[0];
}

test("each of Microsoft's published example events (write, delete, action; Event Grid and CloudEvents) is ignored, not malformed", () => {
  const published = readdirSync(FIXTURES).filter((f) => f.startsWith("published-") && f.endsWith(".json"));
  assert.equal(published.length, 6, "write, delete and action examples in both schemas");
  for (const name of published) {
    const parsed = parseResourceEvent(fixture(name));
    assert.equal(parsed.kind, "ignored", `${name}: ${parsed.kind === "handled" ? "handled" : parsed.reason}`);
  }
});

test("the four published write/delete examples are ignored for their operation, before their placeholder tenant ID is looked at", () => {
  for (const name of [
    "published-write-success.eventgrid.json",
    "published-delete-success.eventgrid.json",
    "published-write-success.cloudevents.json",
    "published-delete-success.cloudevents.json",
  ]) {
    const parsed = parseResourceEvent(fixture(name));
    assert.equal(parsed.kind, "ignored", name);
    if (parsed.kind === "ignored") {
      assert.match(parsed.reason, /operation 'Microsoft\.Storage\/storageAccounts\/(write|delete)' is not one Portcullis acts on/, name);
      assert.ok(parsed.eventId === "4db48cba-50a2-455a-93b4-de41a3b5b7f6" || parsed.eventId === "19a69642-1aad-4a96-a5ab-8d05494513ce", name);
    }
  }
});

test("the same placeholders on an operation Portcullis acts on are still malformed data, with the reason", () => {
  const parsed = parseResourceEvent(fixture("acted-on-with-placeholders.json"));
  assert.equal(parsed.kind, "malformed");
  if (parsed.kind === "malformed") assert.match(parsed.reason, /data\.tenantId is not a GUID/);
});

test("an event of a handled type whose data has no operation cannot be routed: malformed; its other data is not needed to ignore it", () => {
  const noOperation = parseResourceEvent({ ...eventGridEvent("x", PE), data: { tenantId: "{tenant-id}" } });
  assert.equal(noOperation.kind, "malformed");
  const otherOperationBadData = parseResourceEvent({
    ...eventGridEvent("x", PE),
    data: { operationName: "Microsoft.Compute/virtualMachines/write", tenantId: 42, subscriptionId: ["not", "text"] },
  });
  assert.equal(otherOperationBadData.kind, "ignored");
});

test("a deleted connection proxy on API Management names the instance, like a written one", () => {
  const parsed = parseResourceEvent(
    eventGridEvent("Microsoft.ApiManagement/service/privateEndpointConnectionProxies/delete", `${APIM}/privateEndpointConnectionProxies/pe-1.abc`, {
      eventType: "Microsoft.Resources.ResourceDeleteSuccess",
    }),
  );
  assert.equal(parsed.kind, "handled");
  if (parsed.kind === "handled") assert.deepEqual(parsed.event.target, { kind: "resource-connections-changed", resourceId: APIM });
  const asWrite = parseResourceEvent(eventGridEvent("Microsoft.ApiManagement/service/privateEndpointConnectionProxies/delete", `${APIM}/privateEndpointConnectionProxies/pe-1.abc`));
  assert.equal(asWrite.kind, "malformed", "a delete operation in a write event contradicts itself");
});

test("every operation the Event Grid filter lets through is routed to a target (none falls through as ignored)", () => {
  const resourceFor: Record<string, string> = {
    "Microsoft.Network/privateEndpoints/write": PE,
    "Microsoft.Network/privateEndpoints/delete": PE,
    "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/write": `${APIM}/privateEndpointConnectionProxies/p`,
    "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/delete": `${APIM}/privateEndpointConnectionProxies/p`,
    "Microsoft.ApiManagement/service/privateEndpointConnections/write": `${APIM}/privateEndpointConnections/c`,
    "Microsoft.ApiManagement/service/privateEndpointConnections/delete": `${APIM}/privateEndpointConnections/c`,
  };
  assert.deepEqual([...HANDLED_OPERATION_NAMES].sort(), Object.keys(resourceFor).sort());
  for (const operationName of HANDLED_OPERATION_NAMES) {
    const eventType = operationName.endsWith("/delete") ? "Microsoft.Resources.ResourceDeleteSuccess" : "Microsoft.Resources.ResourceWriteSuccess";
    const parsed = parseResourceEvent(eventGridEvent(operationName, resourceFor[operationName]!, { eventType }));
    assert.equal(parsed.kind, "handled", operationName);
  }
});

test("every registered type's connection writes and deletes are routed to its connection and owning resource; the operation's type must be the resource's", async () => {
  const { PRIVATE_LINK_PROVIDERS } = await import("../../../src/domain/providers/registry.ts");
  const { ROUTED_OPERATION_NAMES, handledOperationNames } = await import("../../../src/domain/decisions/arm-events.ts");
  for (const provider of PRIVATE_LINK_PROVIDERS) {
    const resource = `/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/${provider.resourceType}/res1`;
    const connectionId = `${resource}/privateEndpointConnections/pe-1.abc`;
    for (const verb of ["write", "delete"] as const) {
      const operationName = `${provider.resourceType}/privateEndpointConnections/${verb}`;
      assert.ok(ROUTED_OPERATION_NAMES.includes(operationName), operationName);
      const eventType = verb === "delete" ? "Microsoft.Resources.ResourceDeleteSuccess" : "Microsoft.Resources.ResourceWriteSuccess";
      const parsed = parseResourceEvent(eventGridEvent(operationName.toLowerCase(), connectionId, { eventType }));
      assert.equal(parsed.kind, "handled", operationName);
      if (parsed.kind === "handled") {
        assert.deepEqual(parsed.event.target, { kind: verb === "write" ? "connection-written" : "connection-deleted", resourceId: resource, connectionId });
      }
    }
    assert.deepEqual(handledOperationNames([provider.resourceType]).slice(0, 2), ["Microsoft.Network/privateEndpoints/write", "Microsoft.Network/privateEndpoints/delete"]);
  }
  const storageConnection = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1/privateEndpointConnections/c";
  const mismatch = parseResourceEvent(eventGridEvent("Microsoft.KeyVault/vaults/privateEndpointConnections/write", storageConnection));
  assert.equal(mismatch.kind, "malformed", "a Key Vault operation naming a storage account's connection");
  const unregistered = parseResourceEvent(eventGridEvent("Microsoft.Compute/virtualMachines/privateEndpointConnections/write", storageConnection));
  assert.equal(unregistered.kind, "ignored");
  const storageProxy = parseResourceEvent(eventGridEvent("Microsoft.Storage/storageAccounts/privateEndpointConnectionProxies/write", storageConnection));
  assert.equal(storageProxy.kind, "ignored", "only API Management's proxies are delivered and routed");
});

test("the delivered operations for a set of governed types: the consumer's, then each type's (APIM with its proxies), each once", async () => {
  const { handledOperationNames } = await import("../../../src/domain/decisions/arm-events.ts");
  assert.deepEqual(handledOperationNames(["Microsoft.ApiManagement/service", "microsoft.storage/storageaccounts", "Microsoft.Storage/storageAccounts"]), [
    "Microsoft.Network/privateEndpoints/write",
    "Microsoft.Network/privateEndpoints/delete",
    "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/write",
    "Microsoft.ApiManagement/service/privateEndpointConnectionProxies/delete",
    "Microsoft.ApiManagement/service/privateEndpointConnections/write",
    "Microsoft.ApiManagement/service/privateEndpointConnections/delete",
    "Microsoft.Storage/storageAccounts/privateEndpointConnections/write",
    "Microsoft.Storage/storageAccounts/privateEndpointConnections/delete",
  ]);
});
