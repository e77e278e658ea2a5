import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { AzureKeyCredential, AzureSASCredential, EventGridPublisherClient, generateSharedAccessSignature } from "@azure/eventgrid";
import type { EventGridPublisherClientOptions } from "@azure/eventgrid";
import { CustomTopicSink, MAX_PUBLISH_BYTES } from "../../../dev/arm-emulator/topics.ts";
import { createServerCertificate } from "../../../dev/tls.ts";

const TOPIC_KEY = randomBytes(32).toString("base64");
const sink = new CustomTopicSink({ keys: { "portcullis-notifications": TOPIC_KEY } });
let server: https.Server;
let baseUrl: string;
/** The client options Portcullis uses locally: trust the emulator's self-signed certificate. */
let clientOptions: EventGridPublisherClientOptions;

/** Routes `POST /topics/{name}/api/events` to the sink over HTTPS, as the emulator does. */
before(async () => {
  const certificate = await createServerCertificate("Portcullis test topics");
  clientOptions = { tlsOptions: { ca: certificate.certPem } };
  server = https.createServer({ key: certificate.keyPem, cert: certificate.certPem }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const topic = /^\/topics\/([^/]+)\/api\/events/.exec(request.url ?? "")?.[1] ?? "";
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value[0] : value]));
      const answer = sink.handle(topic, headers, Buffer.concat(chunks).toString("utf8"));
      if (answer.body === undefined) response.writeHead(answer.status).end();
      else response.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => sink.clear());

const endpoint = (topic: string): string => `${baseUrl}/topics/${topic}/api/events`;
const decision = { type: "Portcullis.ConnectionDecided", source: "/portcullis/engine", subject: "/connections/pec-1", data: { verdict: "Approved" } };

describe("publishing with the real EventGridPublisherClient", () => {
  test("CloudEvents sent with the topic's access key are accepted and recorded", async () => {
    const client = new EventGridPublisherClient(endpoint("portcullis-notifications"), "CloudEvent", new AzureKeyCredential(TOPIC_KEY), clientOptions);
    await client.send([decision, { ...decision, subject: "/connections/pec-2" }]);
    const received = sink.received("Portcullis-Notifications") as Record<string, unknown>[];
    assert.deepEqual(received.map((event) => event["subject"]), ["/connections/pec-1", "/connections/pec-2"]);
    assert.equal(received[0]?.["specversion"], "1.0");
    assert.equal(received[0]?.["type"], "Portcullis.ConnectionDecided");
    assert.deepEqual(received[0]?.["data"], { verdict: "Approved" });
  });

  test("a wrong access key is refused with 401 and nothing is recorded", async () => {
    const client = new EventGridPublisherClient(endpoint("portcullis-notifications"), "CloudEvent", new AzureKeyCredential(randomBytes(32).toString("base64")), clientOptions);
    await assert.rejects(client.send([decision]), (error: { statusCode?: number }) => error.statusCode === 401);
    assert.deepEqual(sink.received("portcullis-notifications"), []);
  });

  test("a SAS token signed with the topic key is accepted; an expired one is refused", async () => {
    const url = endpoint("portcullis-notifications");
    const valid = await generateSharedAccessSignature(url, new AzureKeyCredential(TOPIC_KEY), new Date(Date.now() + 60_000));
    await new EventGridPublisherClient(url, "CloudEvent", new AzureSASCredential(valid), clientOptions).send([decision]);
    assert.equal(sink.received("portcullis-notifications").length, 1);
    const expired = await generateSharedAccessSignature(url, new AzureKeyCredential(TOPIC_KEY), new Date(Date.now() - 60_000));
    await assert.rejects(
      new EventGridPublisherClient(url, "CloudEvent", new AzureSASCredential(expired), clientOptions).send([decision]),
      (error: { statusCode?: number }) => error.statusCode === 401,
    );
  });

  test("Event Grid schema events go to application/json and are recorded too", async () => {
    const client = new EventGridPublisherClient(endpoint("legacy"), "EventGrid", new AzureKeyCredential("any-key-for-a-keyless-topic"), clientOptions);
    await client.send([{ eventType: "Portcullis.ConnectionDecided", subject: "/connections/pec-1", dataVersion: "1.0", data: { verdict: "Rejected" } }]);
    const [event] = sink.received("legacy") as Record<string, unknown>[];
    assert.equal(event?.["eventType"], "Portcullis.ConnectionDecided");
    assert.equal(event?.["dataVersion"], "1.0");
  });
});

describe("what the sink refuses", () => {
  const cloudEvent = { specversion: "1.0", id: "e1", source: "/portcullis", type: "Portcullis.Test" };
  const headers = { "content-type": "application/cloudevents-batch+json; charset=utf-8", "aeg-sas-key": TOPIC_KEY };

  test("no credential at all: 401", () => {
    const answer = sink.handle("other", { "content-type": "application/cloudevents-batch+json" }, JSON.stringify([cloudEvent]));
    assert.equal(answer.status, 401);
    assert.equal((answer.body as { error: { code: string } }).error.code, "Unauthorized");
  });

  test("a bearer token is accepted (Entra ID auth is not verified locally)", () => {
    const answer = sink.handle("portcullis-notifications", { "content-type": "application/cloudevents+json", Authorization: "Bearer abc" }, JSON.stringify(cloudEvent));
    assert.equal(answer.status, 200);
    assert.equal(sink.received("portcullis-notifications").length, 1);
  });

  test("malformed JSON: 400 InputJsonInvalid", () => {
    const answer = sink.handle("portcullis-notifications", headers, "[{");
    assert.equal(answer.status, 400);
    assert.equal((answer.body as { error: { details: { code: string }[] } }).error.details[0]?.code, "InputJsonInvalid");
  });

  const badBatches: [string, unknown][] = [
    ["a CloudEvent without id", [{ ...cloudEvent, id: undefined }]],
    ["a CloudEvent with spec version 0.3", [{ ...cloudEvent, specversion: "0.3" }]],
    ["a CloudEvent with an unparseable time", [{ ...cloudEvent, time: "yesterday" }]],
    ["an empty batch", []],
    ["a single event where a batch is expected", cloudEvent],
  ];
  for (const [name, body] of badBatches) {
    test(`${name}: 400 and nothing recorded`, () => {
      const answer = sink.handle("portcullis-notifications", headers, JSON.stringify(body));
      assert.equal(answer.status, 400);
      assert.deepEqual(sink.received("portcullis-notifications"), []);
    });
  }

  test("an Event Grid schema event without eventTime: 400", () => {
    const event = { id: "1", subject: "s", eventType: "t", dataVersion: "1", data: {} };
    const answer = sink.handle("portcullis-notifications", { "content-type": "application/json", "aeg-sas-key": TOPIC_KEY }, JSON.stringify([event]));
    assert.equal(answer.status, 400);
  });

  test("an unsupported content type: 400", () => {
    assert.equal(sink.handle("portcullis-notifications", { ...headers, "content-type": "text/plain" }, "[]").status, 400);
  });

  test("a body above 1 MB: 413", () => {
    const big = JSON.stringify([{ ...cloudEvent, data: "x".repeat(MAX_PUBLISH_BYTES) }]);
    const answer = sink.handle("portcullis-notifications", headers, big);
    assert.equal(answer.status, 413);
  });

  test("clear forgets every topic's events", () => {
    sink.handle("portcullis-notifications", headers, JSON.stringify([cloudEvent]));
    sink.clear();
    assert.deepEqual(sink.received("portcullis-notifications"), []);
  });
});
