import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  EndpointValidationError,
  EventGridDelivery,
  eventSubscriptionSpecSchema,
  type ArmActivity,
  type EventDeliveryOptions,
} from "../../../dev/arm-emulator/events.ts";
import { createServerCertificate } from "../../../dev/tls.ts";
import { startWebhookReceiver, type WebhookReceiver, type WebhookScript } from "./webhook-receiver.ts";

const SUB = "00000000-0000-0000-0000-0000000000c1";
const OTHER_SUB = "00000000-0000-0000-0000-0000000000c2";
const TENANT = "00000000-0000-0000-0000-0000000000a1";
const PE_ID = `/subscriptions/${SUB}/resourceGroups/rg-consumer/providers/Microsoft.Network/privateEndpoints/pe-1`;

function activity(overrides: Partial<ArmActivity> = {}): ArmActivity {
  return {
    operationName: "Microsoft.Network/privateEndpoints/write",
    resourceId: PE_ID,
    subscriptionId: SUB,
    tenantId: TENANT,
    kind: "write",
    correlationId: "11111111-2222-3333-4444-555555555555",
    httpMethod: "PUT",
    url: `https://127.0.0.1:8443${PE_ID}?api-version=2024-05-01`,
    ...overrides,
  };
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function receiver(script: WebhookScript = {}, tls?: { key: string; cert: string }): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(script, tls);
  cleanups.push(() => started.close());
  return started;
}

function delivery(options: EventDeliveryOptions = {}): EventGridDelivery {
  const created = new EventGridDelivery({ retryDelaysMs: [20, 40, 80], ...options });
  cleanups.push(() => created.close());
  return created;
}

describe("validation handshake", () => {
  test("an Event Grid schema endpoint that echoes the code with 200 is subscribed", async () => {
    const webhook = await receiver();
    const events = delivery();
    const state = await events.addSubscription({ id: "portcullis-sub", subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    const [handshake] = webhook.requests;
    assert.equal(handshake?.method, "POST");
    assert.equal(handshake?.headers["aeg-event-type"], "SubscriptionValidation");
    assert.equal(handshake?.headers["aeg-subscription-name"], "PORTCULLIS-SUB");
    const [validationEvent] = JSON.parse(handshake?.body ?? "[]") as Record<string, unknown>[];
    assert.equal(validationEvent?.["eventType"], "Microsoft.EventGrid.SubscriptionValidationEvent");
    assert.equal(validationEvent?.["topic"], `/subscriptions/${SUB}`);
    assert.match(String((validationEvent?.["data"] as { validationCode: string }).validationCode), /^[0-9a-f-]{36}$/);
    assert.equal(state.provisioningState, "Succeeded");
    assert.equal(state.maxDeliveryAttempts, 30);
    assert.equal(state.eventTtlMinutes, 1440);
    assert.deepEqual(events.listSubscriptions().map((listed) => listed.id), ["portcullis-sub"]);
  });

  const refusals: [string, WebhookScript["validation"]][] = [
    ["202 Accepted, even with the right code", "echo-with-202"],
    ["200 with a wrong code", "wrong-code"],
    ["200 without a body (no manual validation configured)", "empty-200"],
  ];
  for (const [name, validation] of refusals) {
    test(`an endpoint answering ${name} is refused`, async () => {
      const webhook = await receiver({ validation });
      const events = delivery();
      await assert.rejects(
        events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" }),
        (error: unknown) => error instanceof EndpointValidationError && error.message.includes(webhook.url),
      );
      assert.deepEqual(events.listSubscriptions(), []);
    });
  }

  test("an unreachable endpoint is refused", async () => {
    const webhook = await receiver();
    await webhook.close();
    const events = delivery();
    await assert.rejects(
      events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" }),
      EndpointValidationError,
    );
  });

  test("with a validationUrl base, a 200 without the code waits for the manual GET", async () => {
    const webhook = await receiver({ validation: "empty-200" });
    const events = delivery({ validationUrlBase: "https://127.0.0.1:9443/", manualValidationTimeoutInMs: 5_000 });
    const adding = events.addSubscription({ id: "manual-sub", subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    while (webhook.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const [validationEvent] = JSON.parse(webhook.requests[0]?.body ?? "[]") as { data: { validationCode: string; validationUrl: string } }[];
    const data = validationEvent?.data;
    assert.equal(data?.validationUrl, `https://127.0.0.1:9443/eventsubscriptions/manual-sub/validate?id=${data?.validationCode}`);
    assert.equal(events.confirmValidation("not-a-code"), false);
    assert.equal(events.confirmValidation(data?.validationCode ?? ""), true);
    assert.equal((await adding).id, "manual-sub");
  });

  test("a manual GET that arrives before the endpoint answers the POST still counts", async () => {
    let events: EventGridDelivery | undefined;
    const confirmed: boolean[] = [];
    const webhook = await receiver({ validation: "empty-200", onValidation: (code) => confirmed.push(events?.confirmValidation(code) ?? false) });
    events = delivery({ validationUrlBase: "https://127.0.0.1:9443", manualValidationTimeoutInMs: 5_000 });
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    assert.deepEqual(confirmed, [true]);
  });

  test("a manual handshake nobody completes times out", async () => {
    const webhook = await receiver({ validation: "empty-200" });
    const events = delivery({ validationUrlBase: "https://127.0.0.1:9443", manualValidationTimeoutInMs: 30 });
    await assert.rejects(
      events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" }),
      /not called in time/,
    );
  });

  test("a CloudEvents endpoint is validated with OPTIONS and WebHook-Request-Origin", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "CloudEventSchemaV1_0" });
    const [handshake] = webhook.requests;
    assert.equal(handshake?.method, "OPTIONS");
    assert.equal(handshake?.headers["webhook-request-origin"], "eventgrid.azure.net");
  });

  test("a CloudEvents endpoint allowing every origin with * is subscribed", async () => {
    const webhook = await receiver({ allowedOrigin: "*" });
    await delivery().addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "CloudEventSchemaV1_0" });
  });

  test("a CloudEvents endpoint without WebHook-Allowed-Origin, or allowing another origin, is refused", async () => {
    for (const allowedOrigin of [null, "example.com"]) {
      const webhook = await receiver({ allowedOrigin });
      await assert.rejects(
        delivery().addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "CloudEventSchemaV1_0" }),
        EndpointValidationError,
      );
    }
  });
});

describe("event shapes", () => {
  test("Event Grid schema: a JSON array with the documented ResourceWriteSuccess event and aeg-* headers", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({ id: "eg-sub", subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    events.publish(activity());
    await events.idle();
    const [notification] = webhook.notifications();
    assert.equal(notification?.headers["content-type"], "application/json");
    assert.equal(notification?.headers["aeg-event-type"], "Notification");
    assert.equal(notification?.headers["aeg-subscription-name"], "EG-SUB");
    assert.equal(notification?.headers["aeg-delivery-count"], "0");
    assert.equal(notification?.headers["aeg-data-version"], "2");
    assert.equal(notification?.headers["aeg-metadata-version"], "1");
    const body = JSON.parse(notification?.body ?? "null") as Record<string, unknown>[];
    assert.ok(Array.isArray(body) && body.length === 1);
    const event = body[0] ?? {};
    assert.deepEqual(Object.keys(event).sort(), ["data", "dataVersion", "eventTime", "eventType", "id", "metadataVersion", "subject", "topic"]);
    assert.equal(event["topic"], `/subscriptions/${SUB}`);
    assert.equal(event["subject"], PE_ID);
    assert.equal(event["eventType"], "Microsoft.Resources.ResourceWriteSuccess");
    assert.equal(event["dataVersion"], "2");
    assert.equal(event["metadataVersion"], "1");
    assert.ok(!Number.isNaN(Date.parse(String(event["eventTime"]))));
    assert.deepEqual(event["data"], {
      authorization: { scope: PE_ID, action: "Microsoft.Network/privateEndpoints/write", evidence: { role: "Subscription Admin" } },
      claims: {},
      correlationId: "11111111-2222-3333-4444-555555555555",
      httpRequest: {
        clientRequestId: "11111111-2222-3333-4444-555555555555",
        clientIpAddress: "127.0.0.1",
        method: "PUT",
        url: `https://127.0.0.1:8443${PE_ID}?api-version=2024-05-01`,
      },
      resourceProvider: "Microsoft.Network",
      resourceUri: PE_ID,
      operationName: "Microsoft.Network/privateEndpoints/write",
      status: "Succeeded",
      subscriptionId: SUB,
      tenantId: TENANT,
    });
  });

  test("a write that created the resource carries no httpRequest, as Azure documents", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    events.publish(activity({ created: true }));
    await events.idle();
    const data = webhook.events()[0]?.["data"] as Record<string, unknown>;
    assert.equal("httpRequest" in data, false);
    assert.equal(data["operationName"], "Microsoft.Network/privateEndpoints/write");
  });

  test("deletes and actions get ResourceDeleteSuccess and ResourceActionSuccess", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    events.publish(activity({ kind: "delete", operationName: "Microsoft.Network/privateEndpoints/delete", httpMethod: "DELETE" }));
    events.publish(activity({ kind: "action", operationName: "Microsoft.ApiManagement/service/listSecrets/action", httpMethod: "POST" }));
    await events.idle();
    assert.deepEqual(webhook.events().map((event) => event["eventType"]).sort(), [
      "Microsoft.Resources.ResourceActionSuccess",
      "Microsoft.Resources.ResourceDeleteSuccess",
    ]);
  });

  test("CloudEvents schema: one event as application/cloudevents+json", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "CloudEventSchemaV1_0" });
    events.publish(activity());
    await events.idle();
    const [notification] = webhook.notifications();
    assert.equal(notification?.headers["content-type"], "application/cloudevents+json; charset=utf-8");
    assert.equal(notification?.headers["aeg-metadata-version"], "1.0");
    const event = JSON.parse(notification?.body ?? "null") as Record<string, unknown>;
    assert.equal(Array.isArray(event), false);
    assert.equal(event["specversion"], "1.0");
    assert.equal(event["source"], `/subscriptions/${SUB}`);
    assert.equal(event["subject"], PE_ID);
    assert.equal(event["type"], "Microsoft.Resources.ResourceWriteSuccess");
    assert.ok(!Number.isNaN(Date.parse(String(event["time"]))));
    assert.equal((event["data"] as Record<string, unknown>)["resourceUri"], PE_ID);
  });

  test("CloudEvents with batching: events ready together go as one application/cloudevents-batch+json array", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "CloudEventSchemaV1_0", maxEventsPerBatch: 2 });
    for (const name of ["pe-1", "pe-2", "pe-3"]) events.publish(activity({ resourceId: PE_ID.replace("pe-1", name) }));
    await events.idle();
    const notifications = webhook.notifications();
    assert.deepEqual(notifications.map((notification) => (JSON.parse(notification.body) as unknown[]).length).sort(), [1, 2]);
    for (const notification of notifications) {
      assert.equal(notification.headers["content-type"], "application/cloudevents-batch+json; charset=utf-8");
    }
    assert.deepEqual(webhook.events().map((event) => String(event["subject"]).split("/").pop()).sort(), ["pe-1", "pe-2", "pe-3"]);
  });

  test("one event reaches every matching subscription with the same id", async () => {
    const first = await receiver();
    const second = await receiver();
    const events = delivery();
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: first.url, schema: "EventGridSchema" });
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: second.url, schema: "CloudEventSchemaV1_0" });
    events.publish(activity());
    await events.idle();
    assert.equal(first.events()[0]?.["id"], second.events()[0]?.["id"]);
  });
});

describe("filters", () => {
  test("only events of the subscription's own system topic (source subscription) arrive", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({ subscriptionId: SUB.toUpperCase(), endpointUrl: webhook.url, schema: "EventGridSchema" });
    events.publish(activity({ subscriptionId: OTHER_SUB, resourceId: PE_ID.replace(SUB, OTHER_SUB) }));
    events.publish(activity());
    await events.idle();
    assert.deepEqual(webhook.events().map((event) => event["subject"]), [PE_ID]);
  });

  test("includedEventTypes keeps only the listed event types", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({
      subscriptionId: SUB,
      endpointUrl: webhook.url,
      schema: "EventGridSchema",
      includedEventTypes: ["Microsoft.Resources.ResourceDeleteSuccess"],
    });
    events.publish(activity());
    events.publish(activity({ kind: "delete", operationName: "Microsoft.Network/privateEndpoints/delete", httpMethod: "DELETE" }));
    await events.idle();
    assert.deepEqual(webhook.events().map((event) => event["eventType"]), ["Microsoft.Resources.ResourceDeleteSuccess"]);
  });

  test("operationNames (StringIn on data.operationName) compares case-insensitively", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({
      subscriptionId: SUB,
      endpointUrl: webhook.url,
      schema: "EventGridSchema",
      operationNames: ["microsoft.network/privateendpoints/write"],
    });
    events.publish(activity({ operationName: "Microsoft.Network/networkInterfaces/write" }));
    events.publish(activity());
    await events.idle();
    assert.deepEqual(
      webhook.events().map((event) => (event["data"] as Record<string, unknown>)["operationName"]),
      ["Microsoft.Network/privateEndpoints/write"],
    );
  });
});

describe("retries and dead-lettering", () => {
  test("retries after 500 and 503 on the back-off schedule, then succeeds", async () => {
    const webhook = await receiver({ notificationStatuses: [500, 503] });
    const events = delivery();
    const subscription = await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    events.publish(activity());
    await events.idle();
    const notifications = webhook.notifications();
    assert.deepEqual(notifications.map((notification) => notification.headers["aeg-delivery-count"]), ["0", "1", "2"]);
    const [first, second, third] = notifications.map((notification) => notification.atMs);
    assert.ok((second ?? 0) - (first ?? 0) >= 19, "first retry waits ~20 ms");
    assert.ok((third ?? 0) - (second ?? 0) >= 39, "second retry waits ~40 ms");
    const records = events.deliveries();
    assert.deepEqual(records.map((record) => [record.attempt, record.statusCode, record.delivered]), [
      [1, 500, false],
      [2, 503, false],
      [3, 200, true],
    ]);
    assert.ok(records.every((record) => record.eventSubscriptionId === subscription.id && record.eventId === webhook.events()[0]?.["id"]));
    assert.deepEqual(events.deadLettered(), []);
  });

  for (const status of [400, 401, 403, 413]) {
    test(`dead-letters at once on ${status}, which Event Grid does not retry for webhooks`, async () => {
      const webhook = await receiver({ notificationStatuses: [status] });
      const events = delivery();
      await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
      events.publish(activity());
      await events.idle();
      assert.equal(webhook.notifications().length, 1);
      const [dead] = events.deadLettered();
      assert.equal(dead?.deadLetterReason, "NonRetriableHttpStatus");
      assert.equal(dead?.deliveryAttempts, 1);
      assert.equal(dead?.lastHttpStatusCode, status);
      assert.equal((dead?.event as { subject: string }).subject, PE_ID);
    });
  }

  test("gives up after maxDeliveryAttempts and dead-letters with the last outcome", async () => {
    const webhook = await receiver({ notificationStatuses: [503, 503, 503, 503] });
    const events = delivery();
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema", maxDeliveryAttempts: 3 });
    events.publish(activity());
    await events.idle();
    assert.equal(webhook.notifications().length, 3);
    const [dead] = events.deadLettered();
    assert.equal(dead?.deadLetterReason, "MaxDeliveryAttemptsExceeded");
    assert.equal(dead?.deliveryAttempts, 3);
    assert.equal(dead?.lastDeliveryOutcome, "ServiceUnavailable");
  });

  test("dead-letters when the next retry would fall after the event's time-to-live", async () => {
    const webhook = await receiver({ notificationStatuses: [500] });
    const events = delivery({ retryDelaysMs: [61_000] });
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema", eventTtlMinutes: 1 });
    events.publish(activity());
    await events.idle();
    assert.equal(webhook.notifications().length, 1);
    assert.equal(events.deadLettered()[0]?.deadLetterReason, "TimeToLiveExceeded");
  });

  test("a webhook that does not answer in time counts as a failed attempt and is retried", async () => {
    const webhook = await receiver({ hangFirst: 1 });
    const events = delivery({ requestTimeoutInMs: 300 });
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    events.publish(activity());
    await events.idle();
    const records = events.deliveries();
    const [timedOut] = records;
    const delivered = records.at(-1);
    assert.equal(timedOut?.delivered, false);
    assert.equal(timedOut?.statusCode, undefined);
    assert.match(timedOut?.error ?? "", /abort|timeout/i);
    assert.equal(delivered?.delivered, true);
  });

  test("a webhook that went away is retried and finally dead-lettered; publish never throws", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema", maxDeliveryAttempts: 2 });
    await webhook.close();
    assert.doesNotThrow(() => events.publish(activity()));
    await events.idle();
    assert.ok(events.deliveries().every((record) => record.error !== undefined));
    assert.equal(events.deadLettered()[0]?.lastDeliveryOutcome, "GenericError");
  });

  test("duplicateProbability sends a delivered event twice, flagged as a duplicate", async () => {
    const webhook = await receiver();
    const events = delivery({ duplicateProbability: 1 });
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    events.publish(activity());
    await events.idle();
    const [first, second] = webhook.events();
    assert.equal(webhook.notifications().length, 2);
    assert.equal(first?.["id"], second?.["id"]);
    assert.deepEqual(events.deliveries().map((record) => record.duplicate), [false, true]);
  });
});

describe("life cycle", () => {
  test("idle resolves at once when nothing is queued", async () => {
    await delivery().idle();
  });

  test("deliveryDelayMs holds events back and idle waits for them", async () => {
    const webhook = await receiver();
    const events = delivery({ deliveryDelayMs: 40 });
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    const publishedAt = performance.now();
    events.publish(activity());
    assert.equal(webhook.notifications().length, 0);
    await events.idle();
    assert.equal(webhook.notifications().length, 1);
    assert.ok((webhook.notifications()[0]?.atMs ?? 0) - publishedAt >= 39);
  });

  test("a paused subscription keeps its events until resumed", async () => {
    const webhook = await receiver();
    const events = delivery();
    const subscription = await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    assert.equal(events.pause(subscription.id), true);
    events.publish(activity());
    await events.idle();
    assert.equal(webhook.notifications().length, 0);
    assert.equal(events.resume(subscription.id), true);
    await events.idle();
    assert.equal(webhook.notifications().length, 1);
    assert.equal(events.pause("unknown"), false);
  });

  test("a removed subscription gets nothing more", async () => {
    const webhook = await receiver();
    const events = delivery();
    const subscription = await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    assert.equal(events.removeSubscription(subscription.id), true);
    assert.equal(events.removeSubscription(subscription.id), false);
    events.publish(activity());
    await events.idle();
    assert.equal(webhook.notifications().length, 0);
    assert.deepEqual(events.listSubscriptions(), []);
  });

  test("adding an existing id updates the subscription in place", async () => {
    const webhook = await receiver();
    const events = delivery();
    await events.addSubscription({ id: "same", subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    await events.addSubscription({ id: "SAME", subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema", maxDeliveryAttempts: 5 });
    assert.deepEqual(events.listSubscriptions().map((listed) => [listed.id, listed.maxDeliveryAttempts]), [["SAME", 5]]);
  });

  test("close cancels pending retries and makes idle resolve", async () => {
    const webhook = await receiver({ notificationStatuses: [500] });
    const events = new EventGridDelivery({ retryDelaysMs: [60_000] });
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    events.publish(activity());
    while (events.deliveries().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await events.close();
    await events.idle();
    assert.equal(webhook.notifications().length, 1);
    await assert.rejects(events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" }));
  });

  test("delivers to an https webhook whose self-signed certificate is trusted through tlsCa", async () => {
    const certificate = await createServerCertificate("Portcullis test webhook");
    const webhook = await receiver({}, { key: certificate.keyPem, cert: certificate.certPem });
    await assert.rejects(
      delivery().addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" }),
      /self-signed|certificate/i,
    );
    const events = delivery({ tlsCa: certificate.certPem });
    await events.addSubscription({ subscriptionId: SUB, endpointUrl: webhook.url, schema: "EventGridSchema" });
    events.publish(activity());
    await events.idle();
    assert.equal(webhook.events()[0]?.["subject"], PE_ID);
  });
});

describe("eventSubscriptionSpecSchema", () => {
  const base = { subscriptionId: SUB, endpointUrl: "https://example.test/api", schema: "EventGridSchema" };
  const refused: [string, unknown][] = [
    ["a two-letter name", { ...base, id: "ab" }],
    ["a name with an underscore", { ...base, id: "my_sub" }],
    ["a non-http endpoint", { ...base, endpointUrl: "ftp://example.test/x" }],
    ["an unknown schema", { ...base, schema: "CustomInputSchema" }],
    ["more than 30 delivery attempts", { ...base, maxDeliveryAttempts: 31 }],
    ["a TTL above 1440 minutes", { ...base, eventTtlMinutes: 1441 }],
    ["a batch above 5000 events", { ...base, maxEventsPerBatch: 5001 }],
    ["an empty operationNames filter", { ...base, operationNames: [] }],
    ["an unknown field", { ...base, deadLetterDestination: "x" }],
  ];
  for (const [name, spec] of refused) {
    test(`refuses ${name}`, () => assert.equal(eventSubscriptionSpecSchema.safeParse(spec).success, false));
  }
});
