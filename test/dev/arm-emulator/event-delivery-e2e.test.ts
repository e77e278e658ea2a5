import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import { NetworkManagementClient } from "@azure/arm-network";
import { startArmEmulator, type ArmEmulator } from "../../../dev/arm-emulator/index.ts";
import { startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.ts";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const PROVIDER_SUB = "11111111-1111-1111-1111-111111111111";
const CONSUMER_SUB = "22222222-2222-2222-2222-222222222222";
const APIM_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-contoso`;
const SUBNET_ID = `/subscriptions/${CONSUMER_SUB}/resourceGroups/rg-consumer/providers/Microsoft.Network/virtualNetworks/vnet-consumer/subnets/snet-pe`;

let emulator: ArmEmulator;
let webhook: WebhookReceiver;

before(async () => {
  emulator = await startArmEmulator({
    lroDelayMs: 10,
    eventDelivery: { retryDelaysMs: [20, 40, 80] },
    topology: {
      tenants: [{ id: TENANT }],
      subscriptions: [
        {
          id: PROVIDER_SUB,
          tenantId: TENANT,
          resourceGroups: [
            { name: "rg-apim", location: "westeurope", apimServices: [{ name: "apim-contoso", location: "westeurope", sku: { name: "Developer" } }] },
          ],
        },
        {
          id: CONSUMER_SUB,
          tenantId: TENANT,
          resourceGroups: [
            {
              name: "rg-consumer",
              location: "westeurope",
              virtualNetworks: [
                { name: "vnet-consumer", location: "westeurope", addressPrefixes: ["10.20.0.0/16"], subnets: [{ name: "snet-pe", addressPrefix: "10.20.1.0/24" }] },
              ],
            },
          ],
        },
      ],
    },
  });
  webhook = await startWebhookReceiver();
});

after(async () => {
  await emulator.close();
  await webhook.close();
});

/** POSTs JSON to the emulator's control API, trusting its self-signed certificate. */
function postControl(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const request = https.request(
      `${emulator.url}/_emulator${path}`,
      { method: "POST", ca: emulator.caPem, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "null") }));
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}

test("creating a private endpoint with the real network client sends privateEndpoints/write to the consumer subscription's webhook", async () => {
  const registered = await postControl("/event-subscriptions", {
    id: "portcullis-consumer",
    subscriptionId: CONSUMER_SUB,
    endpointUrl: webhook.url,
    schema: "EventGridSchema",
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  assert.equal(webhook.requests[0]?.headers["aeg-event-type"], "SubscriptionValidation");

  const network = new NetworkManagementClient(emulator.credential(), CONSUMER_SUB, {
    endpoint: emulator.url,
    tlsOptions: { ca: emulator.caPem },
  });
  const endpoint = await network.privateEndpoints.beginCreateOrUpdateAndWait(
    "rg-consumer",
    "pe-apim",
    {
      location: "westeurope",
      subnet: { id: SUBNET_ID },
      manualPrivateLinkServiceConnections: [
        { name: "pe-apim-conn", privateLinkServiceId: APIM_ID, groupIds: ["Gateway"], requestMessage: "please approve" },
      ],
    },
    { updateIntervalInMs: 10 },
  );
  assert.ok(endpoint.id !== undefined);
  await emulator.events.idle();

  const events = webhook.events();
  const written = events.find(
    (event) => (event["data"] as Record<string, unknown>)["operationName"] === "Microsoft.Network/privateEndpoints/write",
  );
  assert.ok(written !== undefined, `no privateEndpoints/write among ${JSON.stringify(events.map((event) => event["subject"]))}`);
  assert.equal(String(written["subject"]).toLowerCase(), endpoint.id.toLowerCase());
  assert.equal(written["eventType"], "Microsoft.Resources.ResourceWriteSuccess");
  assert.equal(written["topic"], `/subscriptions/${CONSUMER_SUB}`);
  const data = written["data"] as Record<string, unknown>;
  assert.equal(data["subscriptionId"], CONSUMER_SUB);
  assert.equal(data["tenantId"], TENANT);
  assert.equal(String(data["resourceUri"]).toLowerCase(), endpoint.id.toLowerCase());
  assert.equal("httpRequest" in data, false, "a create carries no httpRequest");
  assert.ok(
    events.every((event) => String(event["subject"]).toLowerCase().startsWith(`/subscriptions/${CONSUMER_SUB}/`)),
    "the provider subscription's events do not reach the consumer's system topic",
  );
  assert.ok(emulator.events.deliveries().every((record) => record.delivered));
});
