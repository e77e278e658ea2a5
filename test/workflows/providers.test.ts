/**
 * The engine for every registered Private Link type (src/domain/providers/registry.ts), over the multi-type fake ARM:
 * the same claim -> re-read -> plan -> apply path approves, rejects and leaves for a human through the sweep, the
 * provider-side and consumer-side events and the manual decision, for each type; scope is decided per type.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseResourceEvent, type ResourceEvent } from "../../src/domain/decisions/events.ts";
import { PRIVATE_LINK_PROVIDERS, type PrivateLinkProvider } from "../../src/domain/providers/registry.ts";
import { decideManually } from "../../src/workflows/decide-manually.ts";
import { handleResourceEvent } from "../../src/workflows/handle-resource-event.ts";
import { reconcilePending } from "../../src/workflows/reconcile-pending.ts";
import { CONSUMER_SUB, CONSUMER_TENANT, createTestEngine, endpointId, OTHER_SUB, PROVIDER_SUB, rule, statusOf, type TestEngine } from "./support.ts";

// Rules that cover every registered type (a rule without resource-types covers API Management only).
const approveConsumers = rule({ id: "allow-consumer-sub", action: "approve", reason: "Consumer subscription is on the allow list.", conditions: { "resource-types": "*", "requester-subscriptions": [CONSUMER_SUB] } as never });
const rejectOthers = rule({ id: "reject-other-sub", priority: 50, action: "reject", reason: "Unknown subscription.", conditions: { "resource-types": "*", "requester-subscriptions": [OTHER_SUB] } as never });

function resourceIdOf(provider: PrivateLinkProvider, name: string, subscriptionId = PROVIDER_SUB): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/rg-provider/providers/${provider.resourceType}/${name}`;
}

/** An engine that governs every registered type in PROVIDER_SUB, with one resource of `provider` there. */
function engineFor(provider: PrivateLinkProvider): { engine: TestEngine; resourceId: string } {
  const engine = createTestEngine({ rules: [approveConsumers, rejectOthers] });
  const resourceId = resourceIdOf(provider, `res-${provider.resourceType.split("/")[1]!.toLowerCase()}`);
  engine.arm.addResource({ id: resourceId });
  const deps = { ...engine.deps, scope: { resourceTypes: PRIVATE_LINK_PROVIDERS.map((p) => p.resourceType), resourceIds: [], subscriptionIds: [PROVIDER_SUB] } };
  return { engine: { ...engine, deps }, resourceId };
}

function request(engine: TestEngine, resourceId: string, name: string, subscriptionId = CONSUMER_SUB) {
  return engine.arm.requestConnection({ resourceId, privateEndpointId: endpointId(name, subscriptionId) });
}

function event(id: string, operationName: string, resourceUri: string): ResourceEvent {
  const parsed = parseResourceEvent({
    id,
    subject: resourceUri,
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: "2025-06-01T12:00:00Z",
    dataVersion: "2",
    data: { operationName, resourceUri, tenantId: CONSUMER_TENANT, subscriptionId: CONSUMER_SUB },
  });
  assert.equal(parsed.kind, "handled", `${operationName} on ${resourceUri}`);
  return (parsed as { event: ResourceEvent }).event;
}

for (const provider of PRIVATE_LINK_PROVIDERS) {
  describe(`${provider.resourceType} (${provider.displayName})`, () => {
    test("the sweep lists the type's resources in a managed subscription and approves, rejects and leaves for a human by the rules", async () => {
      const { engine, resourceId } = engineFor(provider);
      const approved = request(engine, resourceId, "pe-approve").connection;
      const rejected = request(engine, resourceId, "pe-reject", OTHER_SUB).connection;
      const manual = request(engine, resourceId, "pe-manual", "55555555-5555-5555-5555-555555555555").connection;

      const summary = await reconcilePending("sweep", engine.deps);

      assert.deepEqual(summary.instanceFailures, []);
      assert.equal(statusOf(engine, approved.id), "Approved");
      assert.equal(statusOf(engine, rejected.id), "Rejected");
      assert.equal(statusOf(engine, manual.id), "Pending");
      assert.deepEqual(summary.awaitingManual, [manual.id]);
      assert.deepEqual(
        engine.log.records.map((r) => [r.connectionId, r.action, r.outcome]).sort(),
        [
          [approved.id, "approve", "applied"],
          [rejected.id, "reject", "applied"],
          [manual.id, "manual", "skipped"],
        ].sort(),
      );
      assert.ok(engine.log.records.every((r) => r.resourceId === resourceId), "every record names the owning resource");
      assert.equal(engine.arm.calls.listResourcesBySubscription, PRIVATE_LINK_PROVIDERS.length, "one resource list per governed type");
      if (!provider.connectionWrite.longRunning) assert.equal(engine.arm.calls.poll, 0, "a synchronous type's PUT is the whole operation");
    });

    test("the provider-side connection event and the consumer's endpoint event decide with the same path", async () => {
      const { engine, resourceId } = engineFor(provider);
      const byConnection = request(engine, resourceId, "pe-conn").connection;
      const byEndpoint = request(engine, resourceId, "pe-endpoint").connection;

      const written = await handleResourceEvent(event("ev-1", `${provider.resourceType}/privateEndpointConnections/write`, byConnection.id), "corr-1", engine.deps);
      const endpoint = await handleResourceEvent(event("ev-2", "Microsoft.Network/privateEndpoints/write", byEndpoint.privateEndpointId!), "corr-2", engine.deps);

      assert.equal(written.retry, undefined);
      assert.equal(endpoint.retry, undefined);
      assert.deepEqual(endpoint.notes, []);
      assert.equal(statusOf(engine, byConnection.id), "Approved");
      assert.equal(statusOf(engine, byEndpoint.id), "Approved");
      const fromEndpoint = engine.log.records.find((r) => r.connectionId === byEndpoint.id)!;
      assert.deepEqual(fromEndpoint.triggeringEventIds, ["ev-2"]);
    });

    test("a person approves a Pending connection through the manual path; an unmanaged resource of the type is not found", async () => {
      const { engine, resourceId } = engineFor(provider);
      const pending = request(engine, resourceId, "pe-human", "55555555-5555-5555-5555-555555555555").connection;
      const elsewhere = resourceIdOf(provider, "res-unmanaged", OTHER_SUB);
      engine.arm.addResource({ id: elsewhere });
      const unmanaged = request(engine, elsewhere, "pe-elsewhere").connection;
      const manual = { action: "approve" as const, ticket: "CHG0001234", reason: "Partner onboarding approved by CAB.", actor: { objectId: "alice", appId: undefined, name: "Alice" }, correlationId: "req-1" };

      const result = await decideManually({ ...manual, connectionId: pending.id }, engine.deps);

      assert.equal(result.kind, "completed");
      assert.equal(statusOf(engine, pending.id), "Approved");
      await assert.rejects(decideManually({ ...manual, connectionId: unmanaged.id }, engine.deps), { kind: "not-found" });
      assert.equal(statusOf(engine, unmanaged.id), "Pending");
    });
  });
}

test("only governed types are managed: a storage account in a managed subscription is left alone while only APIM is governed", async () => {
  const storage = PRIVATE_LINK_PROVIDERS.find((p) => p.resourceType === "Microsoft.Storage/storageAccounts")!;
  const engine = createTestEngine({ rules: [approveConsumers, rejectOthers] });
  const accountId = resourceIdOf(storage, "stdata");
  engine.arm.addResource({ id: accountId });
  const deps = { ...engine.deps, scope: { resourceTypes: ["Microsoft.ApiManagement/service"], resourceIds: [], subscriptionIds: [PROVIDER_SUB] } };
  const pending = request(engine, accountId, "pe-storage").connection;

  const summary = await reconcilePending("sweep", deps);
  const evented = await handleResourceEvent(event("ev-s", "Microsoft.Storage/storageAccounts/privateEndpointConnections/write", pending.id), "corr", deps);

  assert.equal(statusOf(engine, pending.id), "Pending");
  assert.equal(summary.connections, 0);
  assert.equal(engine.arm.calls.listResourcesBySubscription, 1, "only the governed type is listed");
  assert.match(evented.notes.join(" "), /is not a managed resource/);
  assert.equal(engine.log.records.length, 0);
});
