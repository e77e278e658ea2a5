/**
 * Shared setup for the ARM emulator tests: a small topology, the real SDK clients pointed at the emulator over
 * HTTPS (trusting its certificate, never disabling verification), raw HTTPS requests, and a webhook that records
 * the Event Grid events the emulator delivers.
 */
import { ApiManagementClient } from "@azure/arm-apimanagement";
import { NetworkManagementClient } from "@azure/arm-network";
import { PrivateDnsManagementClient } from "@azure/arm-privatedns";
import type { TokenCredential } from "@azure/core-auth";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { ArmEmulator, TopologyInput } from "../../../dev/arm-emulator/index.ts";

export const TENANT = "11111111-1111-4111-8111-111111111111";
export const OTHER_TENANT = "22222222-2222-4222-8222-222222222222";
export const PROVIDER_SUB = "a0a0a0a0-0000-4000-8000-000000000001";
export const CONSUMER_SUB = "c1c1c1c1-0000-4000-8000-000000000002";
export const PARTNER_SUB = "c2c2c2c2-0000-4000-8000-000000000003";
export const HUB_SUB = "b0b0b0b0-0000-4000-8000-000000000004";

export const APIM_RG = "rg-apim";
export const CONSUMER_RG = "rg-app";
export const DNS_RG = "rg-dns";
export const ZONE = "privatelink.azure-api.net";

export const serviceId = (name: string): string =>
  `/subscriptions/${PROVIDER_SUB}/resourceGroups/${APIM_RG}/providers/Microsoft.ApiManagement/service/${name}`;
export const SUBNET_ID = `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/virtualNetworks/vnet-app/subnets/snet-pe`;
export const ZONE_ID = `/subscriptions/${HUB_SUB}/resourceGroups/${DNS_RG}/providers/Microsoft.Network/privateDnsZones/${ZONE}`;

/** Provider with four instances (stv2 ok, stv1, VNet-injected, Developer), a consumer VNet and a hub zone. */
export function testTopology(): TopologyInput {
  return {
    tenants: [{ id: TENANT }, { id: OTHER_TENANT }],
    subscriptions: [
      {
        id: PROVIDER_SUB,
        tenantId: TENANT,
        resourceGroups: [
          {
            name: APIM_RG,
            location: "westeurope",
            apimServices: [
              { name: "Contoso-Apim", location: "West Europe", sku: { name: "Premium", capacity: 1 } },
              { name: "apim-dev", location: "West Europe", sku: { name: "Developer", capacity: 1 } },
              { name: "apim-legacy", location: "West Europe", sku: { name: "Premium", capacity: 1 }, platformVersion: "stv1" },
              { name: "apim-injected", location: "West Europe", sku: { name: "Premium", capacity: 1 }, virtualNetworkType: "Internal" },
            ],
          },
        ],
      },
      {
        id: CONSUMER_SUB,
        tenantId: TENANT,
        resourceGroups: [
          {
            name: CONSUMER_RG,
            location: "westeurope",
            virtualNetworks: [
              { name: "vnet-app", location: "westeurope", addressPrefixes: ["10.10.0.0/16"], subnets: [{ name: "snet-pe", addressPrefix: "10.10.1.0/24" }] },
            ],
          },
        ],
      },
      {
        id: PARTNER_SUB,
        tenantId: OTHER_TENANT,
        resourceGroups: [
          {
            name: "rg-partner",
            location: "westeurope",
            virtualNetworks: [
              { name: "vnet-partner", location: "westeurope", addressPrefixes: ["10.20.0.0/16"], subnets: [{ name: "snet-pe", addressPrefix: "10.20.1.0/27" }] },
            ],
          },
        ],
      },
      {
        id: HUB_SUB,
        tenantId: TENANT,
        resourceGroups: [
          {
            name: DNS_RG,
            location: "westeurope",
            privateDnsZones: [
              {
                name: ZONE,
                aRecords: [{ name: "existing", ttl: 300, ipv4Addresses: ["10.1.2.3"] }],
                virtualNetworkLinks: [
                  { name: "link-app", virtualNetworkId: `/subscriptions/${CONSUMER_SUB}/resourceGroups/${CONSUMER_RG}/providers/Microsoft.Network/virtualNetworks/vnet-app` },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

/** The local app principal's credential at the emulator's issuer (it holds Owner at `/` unless a test seeds otherwise). */
export function credential(emulator: ArmEmulator): TokenCredential {
  return emulator.credential();
}

/** A real ARM token of the local app principal from the emulator's issuer. */
export async function armToken(emulator: ArmEmulator): Promise<string> {
  const token = await emulator.credential().getToken("https://management.azure.com/.default");
  if (token === null) throw new Error("the local issuer gave no token");
  return token.token;
}

/** SDK client options for the emulator: its URL as endpoint, its certificate as the only trusted CA. */
export function clientOptions(emulator: ArmEmulator): { endpoint: string; tlsOptions: { ca: string } } {
  return { endpoint: emulator.url, tlsOptions: { ca: emulator.caPem } };
}

export function clients(emulator: ArmEmulator): {
  apim: ApiManagementClient;
  network: NetworkManagementClient;
  partnerNetwork: NetworkManagementClient;
  dns: PrivateDnsManagementClient;
} {
  const options = clientOptions(emulator);
  const cred = credential(emulator);
  return {
    apim: new ApiManagementClient(cred, PROVIDER_SUB, options),
    network: new NetworkManagementClient(cred, CONSUMER_SUB, options),
    partnerNetwork: new NetworkManagementClient(cred, PARTNER_SUB, options),
    dns: new PrivateDnsManagementClient(cred, HUB_SUB, options),
  };
}

/** Fast polling for SDK long-running operations. */
export const FAST_POLL = { updateIntervalInMs: 5 } as const;

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** One HTTPS request to the emulator with full control over headers and body (default bearer: the local app principal's real token). */
export async function rawRequest(
  emulator: ArmEmulator,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; token?: string | null } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== null) headers["authorization"] ??= `Bearer ${options.token ?? (await armToken(emulator))}`;
  if (options.body !== undefined) headers["content-type"] ??= "application/json";
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(emulator.url);
    // The path goes out exactly as given (a URL object would normalize it).
    const req = https.request({ hostname, port, path, method, headers, ca: emulator.caPem, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = text === "" ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** The ARM error code of a raw response (undefined when the body is not ARM-shaped). */
export function errorCode(response: RawResponse): string | undefined {
  const body = response.json as { error?: { code?: unknown } } | undefined;
  return typeof body?.error?.code === "string" ? body.error.code : undefined;
}

/** A webhook that passes Event Grid's validation handshake and records every event delivered to it. */
export async function startEventRecorder(): Promise<{ url: string; events: { eventType: string; subject: string; data: Record<string, unknown> }[]; close(): Promise<void> }> {
  const events: { eventType: string; subject: string; data: Record<string, unknown> }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const batch = JSON.parse(Buffer.concat(chunks).toString("utf8") || "[]") as { eventType: string; subject: string; data: Record<string, unknown> }[];
      if (req.headers["aeg-event-type"] === "SubscriptionValidation") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ validationResponse: batch[0]?.data["validationCode"] }));
        return;
      }
      events.push(...batch);
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    events,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Creates a private endpoint to an APIM instance through the real Network SDK and waits for it. */
export async function createEndpoint(
  network: NetworkManagementClient,
  name: string,
  serviceName: string,
  options: { manual?: boolean; groupIds?: string[]; subnetId?: string; resourceGroup?: string; requestMessage?: string } = {},
): ReturnType<NetworkManagementClient["privateEndpoints"]["get"]> {
  const connection = {
    name: `${name}-conn`,
    privateLinkServiceId: serviceId(serviceName),
    groupIds: options.groupIds ?? ["Gateway"],
    requestMessage: options.requestMessage ?? "please approve",
  };
  const manual = options.manual ?? true;
  return network.privateEndpoints.createOrUpdate(
    options.resourceGroup ?? CONSUMER_RG,
    name,
    {
      location: "westeurope",
      subnet: { id: options.subnetId ?? SUBNET_ID },
      ...(manual ? { manualPrivateLinkServiceConnections: [connection] } : { privateLinkServiceConnections: [connection] }),
    },
    FAST_POLL,
  );
}
