import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CLAIMS_TABLE_SUFFIX, createTableClaimStore, ensureClaimTable } from "../../../src/adapters/tables/claim-store.ts";
import { tableClientFor } from "../../../src/adapters/tables/tables.ts";
import type { ClaimState } from "../../../src/domain/decisions/decision-claim.ts";
import type { PrivateEndpointConnection } from "../../../src/domain/model.ts";
import type { ClaimStore } from "../../../src/ports/claim-store.ts";
import { decideConnection } from "../../../src/workflows/decide-connection.ts";
import { reconcilePending } from "../../../src/workflows/reconcile-pending.ts";
import { startAzuriteTables, type LocalTableStorage } from "../../../dev/azurite.ts";
import { definedFields } from "../../fakes/decision-records.ts";
import {
  connectionWrites,
  CONSUMER_SUB,
  engineTopology,
  putRules,
  quietLog,
  resourceIdOf,
  startEngineStack,
  type EngineStack,
} from "../../e2e/engine-stack.ts";

const SUB = "11111111-1111-1111-1111-111111111111";
const CONNECTION = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/privateEndpointConnections/pe-1.abc`;
const ENDPOINT = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe-1`;

function claimState(fields: Partial<ClaimState> = {}): ClaimState {
  return {
    connectionId: CONNECTION,
    privateEndpointId: ENDPOINT,
    resourceId: CONNECTION.split("/privateEndpointConnections/")[0]!,
    lease: undefined,
    recordedStatus: undefined,
    marks: [],
    retryNotBefore: undefined,
    updatedAt: new Date("2025-06-01T12:00:00Z"),
    ...fields,
  };
}

describe("Table Storage claim store (Azurite)", () => {
  let storage: LocalTableStorage;
  let store: ClaimStore;

  before(async () => {
    storage = await startAzuriteTables();
    const table = tableClientFor(
      { PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString, PORTCULLIS_TABLES_ENDPOINT: undefined, PORTCULLIS_TABLE_PREFIX: "claimtest" },
      CLAIMS_TABLE_SUFFIX,
    );
    await ensureClaimTable(table);
    store = createTableClaimStore(table);
  });
  after(async () => {
    await storage.close();
  });

  test("insert-if-absent: the second create of one claim loses with conflict", async () => {
    const first = await store.create(claimState());
    await assert.rejects(store.create(claimState()), { kind: "conflict" });
    assert.ok(first.etag.length > 0);
  });

  test("replace-if-unchanged: a write with a stale ETag loses with precondition-failed; the lease round-trips", async () => {
    const current = (await store.get({ connectionId: CONNECTION.toUpperCase(), privateEndpointId: ENDPOINT }))!;
    const lease = {
      owner: "owner1",
      startedAt: new Date("2025-06-01T12:00:00Z"),
      expiresAt: new Date("2025-06-01T12:10:00Z"),
      intent: {
        action: "approve" as const,
        mode: "enforce" as const,
        actor: "rule:allow",
        actorName: undefined,
        actorAppId: undefined,
        ruleId: "allow",
        ruleVersion: 2,
        ticket: undefined,
        requestedBy: undefined,
        reason: "Allowed.",
        explanation: ["because"],
        targetStatus: "Approved" as const,
        description: "Approved by Portcullis rule allow v2: Allowed.",
        statusBefore: "Pending" as const,
        requesterSubscriptionId: SUB,
        requesterTenantId: undefined,
        triggeringEventIds: ["evt"],
        correlationId: "corr",
      },
    };
    const leased = await store.replace(claimState({ lease, marks: ["awaiting-manual"] }), current.etag);
    await assert.rejects(store.replace(claimState(), current.etag), { kind: "precondition-failed" });
    const read = (await store.get({ connectionId: CONNECTION, privateEndpointId: ENDPOINT }))!;
    assert.equal(read.etag, leased.etag);
    assert.deepEqual(definedFields(read.lease), definedFields(lease));
    assert.deepEqual(read.marks, ["awaiting-manual"]);
  });

  test("claims are found by connection and by private endpoint", async () => {
    const byConnection = [];
    for await (const claim of store.listByConnection(CONNECTION)) byConnection.push(claim);
    const byEndpoint = [];
    for await (const claim of store.listByPrivateEndpoint(ENDPOINT.toUpperCase())) byEndpoint.push(claim);
    assert.equal(byConnection.length, 1);
    assert.equal(byEndpoint.length, 1);
    assert.equal(await store.get({ connectionId: CONNECTION, privateEndpointId: undefined }), undefined);
  });
});

describe("the engine on Azurite and the ARM emulator", () => {
  let stack: EngineStack;

  before(async () => {
    stack = await startEngineStack({
      topology: engineTopology(["apim-claims"], [{ name: "pe-race", instance: "apim-claims" }, { name: "pe-outage", instance: "apim-claims" }, { name: "pe-outage-2", instance: "apim-claims" }]),
      emulator: { lroDelayMs: 0 },
      composition: { armPollIntervalInMs: 20, tableClientOptions: { retryOptions: { maxRetries: 1, retryDelayInMs: 20 } } },
    });
    await putRules(stack.composition, [
      { id: "allow-consumer", priority: 10, action: "approve", reason: "Consumer subscription is trusted.", conditions: { "requester-subscriptions": [CONSUMER_SUB] } },
    ]);
  });
  after(async () => {
    await stack.close();
  });

  async function pendingConnection(endpointName: string): Promise<PrivateEndpointConnection> {
    for await (const connection of stack.composition.armPorts().privateLink.listConnections(resourceIdOf("apim-claims"))) {
      if (connection.privateEndpointId?.endsWith(`/${endpointName}`)) return connection;
    }
    throw new Error(`no connection for ${endpointName}`);
  }

  test("two engine instances on one Azurite deciding the same connection at once send ARM one write", async () => {
    const connection = await pendingConnection("pe-race");
    const first = await stack.composition.engineDeps(quietLog);
    const second = await stack.secondInstance().engineDeps(quietLog);
    stack.emulator.clearRequests();

    const outcomes = await Promise.all(
      [first, second, first, second].map((deps, i) => decideConnection({ connectionId: connection.id, context: { triggeringEventIds: [], correlationId: `c${i}` } }, deps)),
    );

    assert.equal(outcomes.filter((o) => o.outcome === "approved").length, 1, JSON.stringify(outcomes.map((o) => o.outcome)));
    assert.equal(connectionWrites(stack.emulator), 1);
    const records = [];
    for await (const record of first.decisionLog.listByConnection(connection.id)) records.push(record);
    assert.equal(records.length, 1);
  });

  test("with Azurite stopped mid-run nothing is approved; once it is back the sweep decides, once", async () => {
    const deps = await stack.composition.engineDeps(quietLog);
    const outage = await pendingConnection("pe-outage");
    stack.emulator.clearRequests();
    const port = stack.storage.port;

    await stack.storage.close();
    await assert.rejects(decideConnection({ connectionId: outage.id, context: { triggeringEventIds: [], correlationId: "outage" } }, deps), { kind: "transient" });
    const duringOutage = await reconcilePending("sweep-outage", deps);
    assert.equal(connectionWrites(stack.emulator), 0, "no ARM write without storage");
    assert.ok(duringOutage.connectionFailures.length >= 2);
    assert.equal((await pendingConnection("pe-outage")).status, "Pending");

    const restarted = await startAzuriteTables({ port });
    try {
      const recovered = await stack.secondInstance().engineDeps(quietLog);
      await putRules(stack.secondInstance(), [
        { id: "allow-consumer", priority: 10, action: "approve", reason: "Consumer subscription is trusted.", conditions: { "requester-subscriptions": [CONSUMER_SUB] } },
      ]);
      const summary = await reconcilePending("sweep-after", recovered);
      assert.equal(summary.outcomes.approved, 2);
      assert.equal(connectionWrites(stack.emulator), 2);
      assert.equal((await pendingConnection("pe-outage")).status, "Approved");
    } finally {
      await restarted.close();
    }
  });
});
