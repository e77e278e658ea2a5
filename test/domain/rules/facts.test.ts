import { test } from "node:test";
import assert from "node:assert/strict";
import { connectionFacts } from "../../../src/domain/rules/facts.ts";
import type { PrivateEndpoint, PrivateEndpointConnection } from "../../../src/domain/model.ts";
import { CONSUMER_PE, CONSUMER_SUB, PROD_APIM, TENANT, TEST_APIM } from "./fixtures.ts";

const connection: PrivateEndpointConnection = {
  id: `${PROD_APIM}/privateEndpointConnections/pe-orders.abc`,
  name: "pe-orders.abc",
  resourceId: PROD_APIM,
  privateEndpointId: CONSUMER_PE,
  status: "Pending",
  description: undefined,
  actionsRequired: undefined,
  provisioningState: "Succeeded",
  groupIds: ["Gateway"],
};

const endpoint: PrivateEndpoint = {
  id: CONSUMER_PE,
  name: "pe-orders",
  location: "westeurope",
  subnetId: undefined,
  networkInterfaceIds: [],
  customDnsConfigs: [],
  provisioningState: "Succeeded",
  connections: [
    { name: "to-test", privateLinkServiceId: TEST_APIM, groupIds: ["Gateway"], requestMessage: "for test", status: "Pending", manual: true },
    { name: "to-prod", privateLinkServiceId: PROD_APIM.toUpperCase(), groupIds: ["Gateway"], requestMessage: "for prod", status: "Pending", manual: true },
  ],
};

test("derives the requester subscription from the private endpoint's resource ID", () => {
  const facts = connectionFacts(connection);
  assert.equal(facts.requesterSubscriptionId, CONSUMER_SUB);
  assert.equal(facts.requestMessage, undefined);
  assert.equal(facts.requesterTenantId, undefined);
});

test("takes the request message of the endpoint's link to this instance, comparing IDs case-insensitively", () => {
  const facts = connectionFacts(connection, { endpoint, requesterTenantId: TENANT });
  assert.equal(facts.requestMessage, "for prod");
  assert.equal(facts.requesterTenantId, TENANT);
});

test("leaves the subscription unknown when the connection names no valid private endpoint", () => {
  assert.equal(connectionFacts({ ...connection, privateEndpointId: undefined }).requesterSubscriptionId, undefined);
  assert.equal(connectionFacts({ ...connection, privateEndpointId: "not-an-id" }).requesterSubscriptionId, undefined);
});

test("a readable endpoint whose link carries no request message has a known, empty message (not an unknown one)", () => {
  const silent: PrivateEndpoint = { ...endpoint, connections: [{ ...endpoint.connections[1]!, requestMessage: undefined }] };
  assert.equal(connectionFacts(connection, { endpoint: silent }).requestMessage, "");
});

test("an endpoint without a link to this instance leaves the request message unknown", () => {
  const elsewhere: PrivateEndpoint = { ...endpoint, connections: [endpoint.connections[0]!] };
  assert.equal(connectionFacts(connection, { endpoint: elsewhere }).requestMessage, undefined);
});

test("the resource type is read from the connection's resource ID, in the registry's casing, and is always known", async () => {
  const { prepareFacts, resourceTypeOfFacts } = await import("../../../src/domain/rules/facts.ts");
  const storage = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/microsoft.storage/STORAGEACCOUNTS/st1/";
  const facts = connectionFacts({ ...connection, id: `${storage}privateEndpointConnections/c1`, resourceId: storage, groupIds: ["blob"] });
  assert.equal(resourceTypeOfFacts(facts), "Microsoft.Storage/storageAccounts");
  assert.equal(prepareFacts(facts).resourceType, "microsoft.storage/storageaccounts");
  assert.equal(resourceTypeOfFacts(connectionFacts(connection)), "Microsoft.ApiManagement/service");
  // Unknown consumer-side facts never touch it: it comes from the provider side's own ID.
  assert.equal(prepareFacts({ ...facts, privateEndpointId: undefined, requesterSubscriptionId: undefined, requestMessage: undefined }).resourceType, "microsoft.storage/storageaccounts");
  // An ID that is not a top-level resource names no type: "" is a type no rule covers, not an unknown fact.
  assert.equal(resourceTypeOfFacts({ resourceId: "/subscriptions/x" }), undefined);
  assert.equal(prepareFacts({ ...facts, resourceId: "not-an-id" }).resourceType, "");
  assert.equal(resourceTypeOfFacts({ resourceId: "/subscriptions/x/resourceGroups/rg/providers/Contoso.Widgets/widgets/w" }), "Contoso.Widgets/widgets", "an unregistered type keeps the ID's spelling");
});
