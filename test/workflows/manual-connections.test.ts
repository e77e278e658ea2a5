import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { startAzuriteTables, type LocalTableStorage } from "../../dev/azurite.ts";
import { createTableDecisionLog, DECISIONS_TABLE_SUFFIX, ensureDecisionLogTable } from "../../src/adapters/tables/decision-log.ts";
import { tableClientFor } from "../../src/adapters/tables/tables.ts";
import { decisionRecordId, type DecisionRecord } from "../../src/domain/decisions/decision.ts";
import { resourceIdKey } from "../../src/domain/resource-id.ts";
import type { DecisionLog } from "../../src/ports/decision-log.ts";
import { listManagedConnections } from "../../src/workflows/manual-connections.ts";
import { decisionRecord } from "../fakes/decision-records.ts";
import { APIM_ID, createTestEngine, requestPending, type TestEngine } from "./support.ts";

/** A manual-approval note about `connectionId`, `minute` minutes into 2025-06-01. */
function note(connectionId: string, minute: number): DecisionRecord {
  const startedAt = new Date(Date.UTC(2025, 5, 1) + minute * 60_000);
  return decisionRecord({
    id: decisionRecordId(startedAt, `n${minute}`),
    connectionId,
    resourceId: APIM_ID,
    reason: `still waiting (minute ${minute})`,
    explanation: ["no rule matched"],
    correlationId: `c${minute}`,
    startedAt,
  });
}

describe("listing connections with their latest decisions, over the Table decision log (Azurite)", () => {
  let storage: LocalTableStorage;
  let log: DecisionLog;
  let engine: TestEngine;
  const table = { requests: 0, rowsReturned: 0 };
  const counting: PipelinePolicy = {
    name: "count-table-reads",
    async sendRequest(request, next) {
      const response = await next(request);
      if (request.method === "GET") {
        table.requests += 1;
        table.rowsReturned += (JSON.parse(response.bodyAsText ?? "{}") as { value?: unknown[] }).value?.length ?? 1;
      }
      return response;
    },
  };

  before(async () => {
    storage = await startAzuriteTables();
    const client = tableClientFor(
      { PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString, PORTCULLIS_TABLES_ENDPOINT: undefined, PORTCULLIS_TABLE_PREFIX: "listing" },
      DECISIONS_TABLE_SUFFIX,
      { clientOptions: { additionalPolicies: [{ policy: counting, position: "perCall" }] } },
    );
    await ensureDecisionLogTable(client);
    log = createTableDecisionLog(client);
    engine = createTestEngine();
  });
  after(async () => {
    await storage.close();
  });

  test("reads one row per connection in one request, whether a connection has 1 or 200 decisions", async () => {
    const busy = requestPending(engine, "pe-busy").connection;
    const quiet = requestPending(engine, "pe-quiet").connection;
    const undecided = requestPending(engine, "pe-undecided").connection;
    await log.append(note(busy.id, 0));
    await log.append(note(quiet.id, 1));
    const deps = { ...engine.deps, decisionLog: log };

    const readsOfListing = async () => {
      table.requests = 0;
      table.rowsReturned = 0;
      const listing = await listManagedConnections({}, deps);
      return { listing, reads: { ...table } };
    };
    const short = await readsOfListing();
    for (let minute = 2; minute <= 201; minute++) await log.append(note(busy.id, minute));
    const long = await readsOfListing();

    assert.deepEqual(short.reads, { requests: 1, rowsReturned: 2 });
    assert.deepEqual(long.reads, short.reads);
    const latest = new Map(long.listing.items.map((item) => [resourceIdKey(item.connection.id), item.latestDecision]));
    assert.equal(latest.get(resourceIdKey(busy.id))?.reason, "still waiting (minute 201)");
    assert.equal(latest.get(resourceIdKey(quiet.id))?.reason, "still waiting (minute 1)");
    assert.equal(latest.has(resourceIdKey(undecided.id)), true);
    assert.equal(latest.get(resourceIdKey(undecided.id)), undefined);
  });
});
