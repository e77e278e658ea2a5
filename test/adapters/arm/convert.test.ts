import { test } from "node:test";
import assert from "node:assert/strict";
import {
  connectionStatusFromArm,
  endpointLinkStatusFromArm,
  publicNetworkAccessFromArm,
  toARecordSet,
  toPrivateEndpoint,
  toPrivateEndpointConnection,
} from "../../../src/adapters/arm/convert.ts";
import { retryAfterInMs } from "../../../src/adapters/arm/call-counter.ts";
import { PortcullisError } from "../../../src/domain/errors.ts";

const SERVICE_ID = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim";
const PE_ID = "/subscriptions/s2/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe";
const ZONE_ID = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net";

test("connection statuses: the three documented values in any case; anything else never reads as Approved or Pending", () => {
  assert.equal(connectionStatusFromArm("approved"), "Approved");
  assert.equal(connectionStatusFromArm("PENDING"), "Pending");
  assert.equal(connectionStatusFromArm("Rejected"), "Rejected");
  for (const unknown of ["Disconnected", "Approved ", "Approving", ""]) assert.equal(connectionStatusFromArm(unknown), "Rejected", unknown);
  assert.equal(endpointLinkStatusFromArm("Disconnected"), undefined);
  assert.equal(endpointLinkStatusFromArm(undefined), undefined);
  assert.equal(publicNetworkAccessFromArm("disabled"), "Disabled");
  assert.equal(publicNetworkAccessFromArm("SecuredByPerimeter"), undefined);
});

test("a connection keeps ARM's groupIds when given and is Gateway otherwise (APIM's only inbound group)", () => {
  const model = {
    id: `${SERVICE_ID}/privateEndpointConnections/c1`,
    name: "c1",
    privateEndpoint: { id: PE_ID },
    privateLinkServiceConnectionState: { status: "Pending", description: null, actionsRequired: "None" },
    provisioningState: "Succeeded",
  };
  const connection = toPrivateEndpointConnection(model, SERVICE_ID.toUpperCase());
  assert.equal(connection.resourceId, SERVICE_ID);
  assert.equal(connection.description, undefined);
  assert.deepEqual(connection.groupIds, ["Gateway"]);
  assert.deepEqual(toPrivateEndpointConnection({ ...model, groupIds: ["gateway"] }).groupIds, ["gateway"]);
  assert.throws(() => toPrivateEndpointConnection({ ...model, id: PE_ID }), (e: PortcullisError) => e.code === "InvalidArmResponse");
});

test("a private endpoint lists manual and automatic connections with the consumer's view of their status", () => {
  const link = (status: string) => ({
    name: "link",
    privateLinkServiceId: SERVICE_ID,
    groupIds: ["Gateway"],
    requestMessage: "hi",
    privateLinkServiceConnectionState: { status },
  });
  const endpoint = toPrivateEndpoint({
    id: PE_ID,
    name: "pe",
    subnet: { id: `${PE_ID}/x/y` },
    networkInterfaces: [{ id: "/subscriptions/s2/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic" }],
    customDnsConfigs: [{ fqdn: "apim.azure-api.net", ipAddresses: ["10.0.0.4"] }],
    manualPrivateLinkServiceConnections: [link("Disconnected")],
    privateLinkServiceConnections: null,
  });
  assert.deepEqual(endpoint.connections, [
    { name: "link", privateLinkServiceId: SERVICE_ID, groupIds: ["Gateway"], requestMessage: "hi", status: undefined, manual: true },
  ]);
  assert.deepEqual(endpoint.customDnsConfigs, [{ fqdn: "apim.azure-api.net", ipAddresses: ["10.0.0.4"] }]);
  assert.throws(() => toPrivateEndpoint({ id: PE_ID, name: "pe", manualPrivateLinkServiceConnections: [{ ...link("Pending"), privateLinkServiceId: 7 }] }), PortcullisError);
});

test("an A record set with a non-string address is refused rather than half read", () => {
  const record = { id: `${ZONE_ID}/A/apim`, name: "apim", etag: "e1", ttl: 10, aRecords: [{ ipv4Address: "10.0.0.4" }] };
  assert.deepEqual(toARecordSet(record, ZONE_ID).ipv4Addresses, ["10.0.0.4"]);
  assert.deepEqual(toARecordSet(record, ZONE_ID).metadata, {});
  assert.throws(() => toARecordSet({ ...record, aRecords: [{ ipv4Address: 42 }] }, ZONE_ID), (e: PortcullisError) => e.kind === "internal");
});

test("Retry-After is read as whole seconds or as an HTTP date", () => {
  assert.equal(retryAfterInMs("3"), 3000);
  assert.equal(retryAfterInMs(new Date(10_000).toUTCString(), 4_000), 6_000);
  assert.equal(retryAfterInMs(undefined), undefined);
  assert.equal(retryAfterInMs("soon"), undefined);
});

test("connections of other types: SQL's own provisioning states read as the RPC ones, Cosmos DB's single groupId, Storage's actionRequired", async () => {
  const { toPrivateEndpointConnectionFromWire } = await import("../../../src/adapters/arm/convert.ts");
  const sql = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Sql/servers/sql1";
  const wire = (resourceId: string, properties: Record<string, unknown>) => ({
    id: `${resourceId}/privateEndpointConnections/c1`,
    name: "c1",
    properties: { privateEndpoint: { id: PE_ID }, privateLinkServiceConnectionState: { status: "Pending", description: "hi" }, ...properties },
  });
  assert.equal(toPrivateEndpointConnectionFromWire(wire(sql, { provisioningState: "Ready" })).provisioningState, "Succeeded");
  assert.equal(toPrivateEndpointConnectionFromWire(wire(sql, { provisioningState: "Approving" })).provisioningState, "Updating", "an approval in flight is in flight");
  assert.equal(toPrivateEndpointConnectionFromWire(wire(SERVICE_ID, { provisioningState: "Ready" })).provisioningState, "Ready", "only SQL spells it so");
  const cosmos = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/cosmos1";
  assert.deepEqual(toPrivateEndpointConnectionFromWire(wire(cosmos, { groupId: "Sql" })).groupIds, ["Sql"]);
  const storage = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1";
  const stored = toPrivateEndpointConnectionFromWire({ ...wire(storage, {}), properties: { privateLinkServiceConnectionState: { status: "Pending", actionRequired: "None" } } });
  assert.equal(stored.actionsRequired, "None");
  assert.deepEqual(stored.groupIds, [], "several groups, none named: unknown here");
  assert.throws(() => toPrivateEndpointConnectionFromWire(wire("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", {})), (e: PortcullisError) => e.code === "InvalidArmResponse");
});
