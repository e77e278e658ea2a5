/**
 * Topology seeds: the demo topology loads with the estate `npm start` promises, and broken seeds stop the emulator
 * with a message naming every bad field.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadTopologyFile, parseTopology, startArmEmulator } from "../../../dev/arm-emulator/index.ts";
import { REGISTERED_RESOURCE_TYPES } from "../../../src/domain/providers/registry.ts";

const DEMO = new URL("../../../dev/arm-emulator/topologies/demo.json", import.meta.url).pathname;

describe("ARM emulator: topology", () => {
  it("the demo has two stv2 instances, two consumer subscriptions in two tenants and a linked hub zone", () => {
    const demo = loadTopologyFile(DEMO);
    const services = demo.subscriptions.flatMap((s) => s.resourceGroups.flatMap((rg) => rg.apimServices));
    assert.deepEqual(services.map((s) => [s.sku.name, s.platformVersion]), [["Developer", "stv2"], ["Premium", "stv2"]]);
    const withVnets = demo.subscriptions.filter((s) => !s.microsoftManaged && s.resourceGroups.some((rg) => rg.virtualNetworks.length > 0));
    assert.equal(withVnets.length, 2);
    assert.equal(new Set(withVnets.map((s) => s.tenantId)).size, 2);
    const zones = demo.subscriptions.flatMap((s) => s.resourceGroups.flatMap((rg) => rg.privateDnsZones));
    assert.equal(zones[0]?.name, "privatelink.azure-api.net");
    assert.equal(zones[0]?.virtualNetworkLinks.length, 1);
  });

  it("the demo seeds a resource of every registered type and a Data Factory managed endpoint in a Microsoft-managed subscription", () => {
    const demo = loadTopologyFile(DEMO);
    const types = demo.subscriptions.flatMap((s) => s.resourceGroups.flatMap((rg) => rg.privateLinkResources.map((r) => r.type)));
    assert.deepEqual(types, REGISTERED_RESOURCE_TYPES.filter((t) => t !== "Microsoft.ApiManagement/service"));
    const managed = demo.subscriptions.filter((s) => s.microsoftManaged);
    assert.equal(managed.length, 1);
    const [endpoint] = managed[0]!.resourceGroups.flatMap((rg) => rg.privateEndpoints);
    assert.match(endpoint!.name, /^contoso-adf\./);
    assert.match(endpoint!.requestMessage, /contoso-adf/);
    assert.match(endpoint!.privateLinkServiceId, /Microsoft\.Storage\/storageAccounts\//);
  });

  it("the demo's seeded cross-tenant endpoint arrives as a Pending connection with an IP", async () => {
    const emulator = await startArmEmulator({ topology: DEMO });
    try {
      const state = emulator.snapshot() as { apimServices: { name: string; connections: { status: string }[] }[]; privateEndpoints: { privateIpAddress: string }[] };
      const prod = state.apimServices.find((s) => s.name === "contoso-apim-prod");
      assert.deepEqual(prod?.connections.map((c) => c.status), ["Pending"]);
      assert.deepEqual(state.privateEndpoints.map((p) => p.privateIpAddress), ["10.20.1.4", "10.250.0.4"]);
    } finally {
      await emulator.close();
    }
  });

  it("lists every invalid field with its path", () => {
    assert.throws(
      () => parseTopology({ subscriptions: [{ id: "nope", tenantId: "x", resourceGroups: [{ name: "rg", location: "westeurope", virtualNetworks: [{ name: "v", location: "w", addressPrefixes: ["10.0.0.0/99x"] }] }] }] }),
      (e: Error) => {
        assert.match(e.message, /subscriptions\.0\.id: must be a GUID/);
        assert.match(e.message, /subscriptions\.0\.tenantId: must be a GUID/);
        assert.match(e.message, /virtualNetworks\.0\.addressPrefixes\.0/);
        return true;
      },
    );
  });

  it("refuses a seeded endpoint whose subnet does not exist", async () => {
    await assert.rejects(
      startArmEmulator({
        topology: {
          subscriptions: [
            {
              id: "c1c1c1c1-0000-4000-8000-000000000002",
              tenantId: "11111111-1111-4111-8111-111111111111",
              resourceGroups: [
                {
                  name: "rg",
                  location: "westeurope",
                  privateEndpoints: [{ name: "pe", location: "westeurope", subnetId: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s", privateLinkServiceId: "/x" }],
                },
              ],
            },
          ],
        },
      }),
      /Invalid ARM emulator topology/,
    );
  });

  it("refuses an unreadable topology file", () => {
    assert.throws(() => loadTopologyFile("/nonexistent/topology.json"), /Cannot read ARM emulator topology/);
  });
});
