/**
 * The topology holds what real resources have and the published examples show, and the emulator serves it in the
 * examples' shape: managed identity, custom hostnames with certificates, additional regions, availability zones,
 * VNet configuration and tags on APIM (apimanagement.json 2024-05-01: ApiManagementCreateMultiRegionServiceWith
 * CustomHostname.json, ApiManagementCreateServiceWithUserAssignedIdentity.json, ApiManagementCreateServiceInZones.json,
 * ApiManagementCreateServiceInVnetWithPublicIP.json), static private endpoint IP configurations and their NICs
 * (privateEndpoint.json 2026-01-01: PrivateEndpointCreateWithASG.json / PrivateEndpointGet.json; networkInterface.json:
 * NetworkInterfaceGet.json), and tagged virtual networks (virtualNetwork.json: VirtualNetworkGet.json).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startArmEmulator, type ArmEmulator, type TopologyInput } from "../../../dev/arm-emulator/index.ts";
import { parseTopology } from "../../../dev/arm-emulator/topology.ts";
import { APIM_RG, clients, CONSUMER_RG, CONSUMER_SUB, errorCode, FAST_POLL, PROVIDER_SUB, rawRequest, serviceId, SUBNET_ID, testTopology } from "./helpers.ts";

const USER_IDENTITY = `/subscriptions/${PROVIDER_SUB}/resourceGroups/${APIM_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apim`;
const APIM_SUBNET = `/subscriptions/${PROVIDER_SUB}/resourceGroups/${APIM_RG}/providers/Microsoft.Network/virtualNetworks/vnet-apim/subnets/snet-apim`;

function richTopology(): TopologyInput {
  const topology = testTopology();
  const provider = topology.subscriptions!.find((s) => s.id === PROVIDER_SUB)!;
  provider.resourceGroups![0]!.apimServices!.push({
    name: "apim-rich",
    location: "West Europe",
    sku: { name: "Premium", capacity: 2 },
    tags: { costCenter: "4711" },
    identity: { type: "SystemAssigned, UserAssigned", userAssignedIdentities: { [USER_IDENTITY]: {} } },
    zones: ["1", "2", "3"],
    virtualNetworkType: "External",
    virtualNetworkConfiguration: { subnetResourceId: APIM_SUBNET },
    hostnameConfigurations: [
      {
        type: "Proxy",
        hostName: "gateway.contoso.example",
        keyVaultId: "https://kv-contoso.vault.azure.net/secrets/gateway",
        identityClientId: "329419bc-adec-4dce-9568-25a6d486e468",
        defaultSslBinding: true,
        certificateSource: "KeyVault",
        certificate: { expiry: "2027-03-01T00:00:00+00:00", thumbprint: "8E989652CABCF585ACBFCB9C2C91F1D174FDB3A2", subject: "CN=gateway.contoso.example" },
      },
      { type: "Management", hostName: "mgmt.contoso.example", certificateSource: "Custom" },
    ],
    certificates: [{ storeName: "Root", certificate: { expiry: "2030-01-01T00:00:00+00:00", thumbprint: "AB12", subject: "CN=Contoso Root" } }],
    additionalLocations: [{ location: "East US", sku: { name: "Premium", capacity: 1 }, zones: ["1"], virtualNetworkConfiguration: { subnetResourceId: APIM_SUBNET } }],
  });
  const consumer = topology.subscriptions!.find((s) => s.id === CONSUMER_SUB)!;
  consumer.resourceGroups![0]!.virtualNetworks![0]!.tags = { env: "prod" };
  consumer.resourceGroups![0]!.privateEndpoints = [
    {
      name: "pe-static",
      location: "westeurope",
      subnetId: SUBNET_ID,
      privateLinkServiceId: serviceId("Contoso-Apim"),
      tags: { app: "one" },
      customNetworkInterfaceName: "pe-static-nic",
      ipConfigurations: [{ name: "gateway-static", privateIPAddress: "10.10.1.50" }],
    },
  ];
  return topology;
}

describe("ARM emulator topology: what real resources have", () => {
  let emulator: ArmEmulator;
  let sdk: ReturnType<typeof clients>;
  before(async () => {
    emulator = await startArmEmulator({ topology: richTopology(), lroDelayMs: 0 });
    sdk = clients(emulator);
  });
  beforeEach(() => emulator.reset());
  after(() => emulator.close());

  it("serves an APIM instance's identities, zones, custom hostnames with certificates, regions, VNet configuration and tags", async () => {
    const svc = await sdk.apim.apiManagementService.get(APIM_RG, "apim-rich");
    assert.deepEqual(svc.tags, { costCenter: "4711" });
    assert.equal(svc.identity?.type, "SystemAssigned, UserAssigned");
    assert.match(String(svc.identity?.principalId), /^[0-9a-f-]{36}$/);
    assert.equal(svc.identity?.tenantId, "11111111-1111-4111-8111-111111111111");
    assert.match(String(svc.identity?.userAssignedIdentities?.[USER_IDENTITY]?.clientId), /^[0-9a-f-]{36}$/);
    assert.deepEqual(svc.zones, ["1", "2", "3"]);
    assert.equal(svc.virtualNetworkConfiguration?.subnetResourceId, APIM_SUBNET);
    assert.equal(svc.virtualNetworkConfiguration?.subnetname, "snet-apim");
    const byHost = new Map(svc.hostnameConfigurations?.map((h) => [h.hostName, h]));
    assert.equal(byHost.get("apim-rich.azure-api.net")?.defaultSslBinding, false, "the custom default binding takes over");
    assert.equal(byHost.get("gateway.contoso.example")?.certificate?.thumbprint, "8E989652CABCF585ACBFCB9C2C91F1D174FDB3A2");
    assert.equal(byHost.get("gateway.contoso.example")?.certificate?.expiry?.toISOString(), "2027-03-01T00:00:00.000Z");
    assert.equal(byHost.get("mgmt.contoso.example")?.type, "Management");
    assert.equal(svc.certificates?.[0]?.certificate?.subject, "CN=Contoso Root");
    const [region] = svc.additionalLocations ?? [];
    assert.equal(region?.location, "East US");
    assert.deepEqual(region?.zones, ["1"]);
    assert.match(String(region?.gatewayRegionalUrl), /^https:\/\/apim-rich-eastus-01\.regional\.azure-api\.net$/);
    assert.equal(region?.publicIPAddresses?.length, 1);
  });

  it("keeps a seeded private endpoint's static IP configuration, tags and custom NIC name; the NIC shows the address as Static", async () => {
    const pe = await sdk.network.privateEndpoints.get(CONSUMER_RG, "pe-static");
    assert.deepEqual(pe.tags, { app: "one" });
    assert.deepEqual(pe.ipConfigurations?.map((c) => [c.name, c.groupId, c.memberName, c.privateIPAddress]), [["gateway-static", "Gateway", "Gateway", "10.10.1.50"]]);
    assert.deepEqual(pe.customDnsConfigs?.[0]?.ipAddresses, ["10.10.1.50"]);
    assert.match(String(pe.networkInterfaces?.[0]?.id), /\/networkInterfaces\/pe-static-nic$/);
    const nic = await sdk.network.networkInterfaces.get(CONSUMER_RG, "pe-static-nic");
    assert.equal(nic.ipConfigurations?.[0]?.privateIPAddress, "10.10.1.50");
    assert.equal(nic.ipConfigurations?.[0]?.privateIPAllocationMethod, "Static");
    assert.equal(nic.ipConfigurations?.[0]?.name, "gateway-static", "the NIC's ip configuration takes the endpoint's static configuration name");
    assert.equal(nic.privateEndpoint?.id, pe.id);
    assert.deepEqual(nic.ipConfigurations?.[0]?.privateLinkConnectionProperties?.fqdns, ["contoso-apim.azure-api.net"]);
  });

  it("creates an endpoint with a static IP configuration through the SDK; an address outside the subnet, reserved or taken is refused", async () => {
    const body = (name: string, ip: string) => ({
      location: "westeurope",
      subnet: { id: SUBNET_ID },
      ipConfigurations: [{ name: `${name}-ip`, groupId: "Gateway", memberName: "Gateway", privateIPAddress: ip }],
      manualPrivateLinkServiceConnections: [{ name: `${name}-conn`, privateLinkServiceId: serviceId("Contoso-Apim"), groupIds: ["Gateway"] }],
    });
    const created = await sdk.network.privateEndpoints.beginCreateOrUpdateAndWait(CONSUMER_RG, "pe-sdk-static", body("pe-sdk-static", "10.10.1.77"), FAST_POLL);
    assert.equal(created.ipConfigurations?.[0]?.privateIPAddress, "10.10.1.77");
    assert.equal(created.customDnsConfigs?.[0]?.ipAddresses?.[0], "10.10.1.77");
    for (const [ip, code] of [
      ["10.99.0.5", "PrivateIPAddressNotInSubnet"],
      ["10.10.1.2", "PrivateIPAddressIsReserved"],
      ["10.10.1.255", "PrivateIPAddressIsReserved"],
      ["10.10.1.77", "PrivateIPAddressInUse"],
    ] as const) {
      await assert.rejects(
        sdk.network.privateEndpoints.beginCreateOrUpdateAndWait(CONSUMER_RG, `pe-bad-${ip.replaceAll(".", "-")}`, body("bad", ip), FAST_POLL),
        (e: { statusCode?: number; code?: string }) => e.statusCode === 400 && e.code === code,
        `${ip} -> ${code}`,
      );
    }
    const update = await rawRequest(emulator, "PUT", `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/privateEndpoints/pe-sdk-static?api-version=2026-01-01`, {
      body: JSON.stringify({
        location: "westeurope",
        properties: {
          subnet: { id: SUBNET_ID },
          ipConfigurations: [{ name: "pe-sdk-static-ip", properties: { groupId: "Gateway", memberName: "Gateway", privateIPAddress: "10.10.1.78" } }],
          manualPrivateLinkServiceConnections: [{ name: "pe-sdk-static-conn", properties: { privateLinkServiceId: serviceId("Contoso-Apim"), groupIds: ["Gateway"] } }],
        },
      }),
    });
    assert.equal(update.status, 400, "changing an endpoint's static address is refused, not accepted and dropped");
    assert.equal(errorCode(update), "CannotChangePrivateEndpointConnections");
  });

  it("serves a virtual network with its tags, address space and the private endpoints in each subnet", async () => {
    const vnet = await sdk.network.virtualNetworks.get(CONSUMER_RG, "vnet-app");
    assert.deepEqual(vnet.tags, { env: "prod" });
    assert.deepEqual(vnet.addressSpace?.addressPrefixes, ["10.10.0.0/16"]);
    const subnet = vnet.subnets?.[0];
    assert.equal(subnet?.addressPrefix, "10.10.1.0/24");
    assert.deepEqual(subnet?.privateEndpoints?.map((p) => p.id?.split("/").at(-1)), ["pe-static"]);
  });

  it("refuses a topology whose static IP or identity is malformed, naming the field", () => {
    const topology = richTopology();
    const consumer = topology.subscriptions!.find((s) => s.id === CONSUMER_SUB)!;
    consumer.resourceGroups![0]!.privateEndpoints![0]!.ipConfigurations = [{ name: "x", privateIPAddress: "not-an-ip" }];
    assert.throws(() => parseTopology(topology), /ipConfigurations\.0\.privateIPAddress/);
    const badIdentity = richTopology();
    badIdentity.subscriptions!.find((s) => s.id === PROVIDER_SUB)!.resourceGroups![0]!.apimServices!.at(-1)!.identity = { type: "Managed" as never };
    assert.throws(() => parseTopology(badIdentity), /identity\.type/);
  });
});
