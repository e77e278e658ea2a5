import { test } from "node:test";
import assert from "node:assert/strict";
import type { EventGridFunctionDefinition } from "../../../src/functions/definition.ts";
import { startTestHost } from "./host-fixture.ts";

/** Records every event it is handed, failing for events whose subject says so. */
function recorder(name = "onResourceEvent"): { definition: EventGridFunctionDefinition; received: unknown[]; metadata: unknown[] } {
  const received: unknown[] = [];
  const metadata: unknown[] = [];
  return {
    received,
    metadata,
    definition: {
      kind: "eventGrid",
      name,
      handler: async (event, context) => {
        received.push(event);
        metadata.push(context.triggerMetadata);
        if ((event as { subject?: string }).subject === "/fail") throw new Error("handler failure with internal detail");
      },
    },
  };
}

const gridEvent = (id: string, subject = "/subscriptions/s/resourceGroups/rg") => ({
  id,
  topic: "/subscriptions/s",
  subject,
  eventType: "Microsoft.Resources.ResourceWriteSuccess",
  eventTime: "2024-01-01T00:00:00.1234567Z",
  data: { operationName: "Microsoft.Network/privateEndpoints/write", resourceUri: subject },
  dataVersion: "",
  metadataVersion: "1",
});

const cloudEvent = (id: string) => ({
  specversion: "1.0",
  id,
  source: "/subscriptions/s",
  subject: "/subscriptions/s/resourceGroups/rg",
  type: "Microsoft.Resources.ResourceWriteSuccess",
  time: "2024-01-01T00:00:00Z",
  data: { operationName: "Microsoft.Network/privateEndpoints/write" },
});

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "aeg-event-type": "Notification", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

test("Event Grid: the SubscriptionValidation handshake answers 200 with the validation code, without invoking", async (t) => {
  const { definition, received } = recorder();
  const host = await startTestHost(t, { definitions: [definition] });
  const validation = [{
    id: "v1", topic: "/subscriptions/s", subject: "", eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
    eventTime: "2024-01-01T00:00:00Z", data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", validationUrl: "https://x" },
    dataVersion: "2", metadataVersion: "1",
  }];
  const response = await post(host.eventGridWebhookUrl("onResourceEvent"), validation, { "aeg-event-type": "SubscriptionValidation" });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });

  const cloudValidation = { ...cloudEvent("v2"), type: "Microsoft.EventGrid.SubscriptionValidationEvent", data: JSON.stringify({ validationCode: "ce-code" }) };
  const cloudResponse = await post(host.eventGridWebhookUrl("onResourceEvent"), cloudValidation, { "aeg-event-type": "SubscriptionValidation" });
  assert.deepEqual(await cloudResponse.json(), { validationResponse: "ce-code" }, "CloudEvents validation double-encodes data");
  assert.equal(received.length, 0);
});

test("Event Grid: the CloudEvents OPTIONS handshake allows Event Grid's origin", async (t) => {
  const { definition } = recorder();
  const host = await startTestHost(t, { definitions: [definition] });
  const response = await fetch(host.eventGridWebhookUrl("onResourceEvent"), {
    method: "OPTIONS",
    headers: { "WebHook-Request-Origin": "eventgrid.azure.net" },
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("webhook-allowed-origin"), "eventgrid.azure.net");
  assert.equal(response.headers.get("webhook-allowed-rate"), "*");

  const other = await fetch(host.eventGridWebhookUrl("onResourceEvent"), { method: "OPTIONS", headers: { "WebHook-Request-Origin": "evil.example" } });
  assert.equal(other.headers.get("webhook-allowed-origin"), "eventgrid.azure.net", "like the extension, only Event Grid origins are echoed");
});

test("Event Grid: a batch invokes the function once per event with the event as delivered, then answers 202", async (t) => {
  const { definition, received, metadata } = recorder();
  const host = await startTestHost(t, { definitions: [definition] });
  const batch = [gridEvent("1"), gridEvent("2"), gridEvent("3")];
  const response = await post(host.eventGridWebhookUrl("onResourceEvent"), batch);
  assert.equal(response.status, 202);
  assert.deepEqual([...received].sort((a, b) => String((a as { id: string }).id).localeCompare((b as { id: string }).id)), batch);
  assert.deepEqual((metadata[0] as { data: unknown }).data, batch.find((e) => e.id === (received[0] as { id: string }).id)?.data);
  const summaries = host.lines.filter((l) => /Executed 'Functions\.onResourceEvent' \(Succeeded, Trigger=eventGridTrigger, Id=[0-9a-f-]{36}, Duration=\d+ms\)/.test(l));
  assert.equal(summaries.length, 3);
});

test("Event Grid: CloudEvents 1.0 single and batch deliveries invoke once per event", async (t) => {
  const { definition, received } = recorder();
  const host = await startTestHost(t, { definitions: [definition] });
  const single = await post(host.eventGridWebhookUrl("onResourceEvent"), cloudEvent("c1"), { "content-type": "application/cloudevents+json; charset=utf-8" });
  assert.equal(single.status, 202);
  const batch = await post(host.eventGridWebhookUrl("onResourceEvent"), [cloudEvent("c2"), cloudEvent("c3")], { "content-type": "application/cloudevents-batch+json; charset=utf-8" });
  assert.equal(batch.status, 202);
  assert.deepEqual(received.map((e) => (e as { id: string }).id).sort(), ["c1", "c2", "c3"]);
  assert.deepEqual(received.find((e) => (e as { id: string }).id === "c1"), cloudEvent("c1"));
});

test("Event Grid: when any invocation throws the webhook answers 500 so Event Grid retries, without the error's detail", async (t) => {
  const { definition, received } = recorder();
  const host = await startTestHost(t, { definitions: [definition] });
  const response = await post(host.eventGridWebhookUrl("onResourceEvent"), [gridEvent("ok"), gridEvent("bad", "/fail")]);
  assert.equal(response.status, 500);
  const body = await response.text();
  assert.equal(body, "Exception while executing function: Functions.onResourceEvent");
  assert.equal(received.length, 2, "the other events of the batch still ran");
  assert.ok(host.lines.some((l) => l.includes("(Failed, Trigger=eventGridTrigger")));
});

test("Event Grid: the system key (or master key) is required; other keys and no key get 401", async (t) => {
  const { definition, received } = recorder();
  const host = await startTestHost(t, { definitions: [definition] });
  const base = `${host.url}/runtime/webhooks/eventgrid?functionName=onResourceEvent`;
  assert.equal((await post(base, [gridEvent("1")])).status, 401);
  assert.equal((await post(`${base}&code=${host.keys.defaultFunctionKey}`, [gridEvent("1")])).status, 401);
  assert.equal((await post(`${base}&code=${host.keys.functionKeys["onResourceEvent"]}`, [gridEvent("1")])).status, 401);
  assert.equal((await post(base, [gridEvent("1")], { "x-functions-key": host.keys.eventGridSystemKey })).status, 202);
  assert.equal((await post(`${base}&code=${host.keys.master}`, [gridEvent("2")])).status, 202);
  assert.equal(received.length, 2);
});

test("Event Grid: an unknown function is 404; a malformed body or a missing aeg-event-type is 400; Unsubscribe is 202", async (t) => {
  const { definition, received } = recorder();
  const host = await startTestHost(t, { definitions: [definition] });
  const unknown = await post(host.eventGridWebhookUrl("noSuchFunction"), [gridEvent("1")]);
  assert.equal(unknown.status, 404);
  assert.equal(await unknown.text(), "cannot find function: 'noSuchFunction'");

  const url = host.eventGridWebhookUrl("onResourceEvent");
  assert.equal((await post(url, "{not json")).status, 400);
  assert.equal((await post(url, "42")).status, 400);
  assert.equal((await post(url, [gridEvent("1"), "not an event"])).status, 400);
  assert.equal((await fetch(url, { method: "POST", body: JSON.stringify([gridEvent("1")]) })).status, 400, "no aeg-event-type");
  assert.equal((await post(url, [{ data: {} }], { "aeg-event-type": "SubscriptionValidation" })).status, 400, "no validation code");
  assert.equal((await post(url, [], { "aeg-event-type": "Unsubscribe" })).status, 202);
  assert.equal(received.length, 0);
  assert.equal((await post(url, [gridEvent("after")])).status, 202, "still serving");
});
