import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { startAzuriteTables, type LocalTableStorage } from "../../../dev/azurite.ts";
import { AUDIT_TABLE_SUFFIXES, chunkJson, CHUNK_CHARS, createTableAuditStore, ensureAuditTables, joinChunks, type AuditTables } from "../../../src/adapters/tables/audit-store.ts";
import { tableClientFor } from "../../../src/adapters/tables/tables.ts";
import type { Finding } from "../../../src/domain/audit/findings.ts";
import type { AuditRunSummary } from "../../../src/domain/audit/run.ts";
import { ESTATE_SCOPE, type AuditStore } from "../../../src/ports/audit-store.ts";
import { SAMPLE_FINDINGS, SAMPLE_INSTANCE_ID, SAMPLE_REPORT } from "../../domain/reports/sample-report.ts";

let storage: LocalTableStorage;
let tables: AuditTables;
let store: AuditStore;

before(async () => {
  storage = await startAzuriteTables();
  const settings = { PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString, PORTCULLIS_TABLES_ENDPOINT: undefined, PORTCULLIS_TABLE_PREFIX: "t" };
  tables = {
    runs: tableClientFor(settings, AUDIT_TABLE_SUFFIXES.runs),
    findings: tableClientFor(settings, AUDIT_TABLE_SUFFIXES.findings),
    state: tableClientFor(settings, AUDIT_TABLE_SUFFIXES.state),
  };
  await ensureAuditTables(tables);
  await ensureAuditTables(tables);
  store = createTableAuditStore(tables);
});

after(async () => {
  await storage.close();
});

function summary(runId: string, startedAt: string, score: number): AuditRunSummary {
  return { ...SAMPLE_REPORT.summary, runId, startedAt, finishedAt: startedAt, score };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe("Table Storage audit store", () => {
  test("JSON chunking splits at the property limit and joins back exactly", () => {
    const json = "x".repeat(CHUNK_CHARS * 13 + 5);
    const entities = chunkJson(json);
    assert.equal(entities.length, 2, "12 chunks per entity, then a continuation entity");
    assert.equal(joinChunks(entities), json);
    assert.deepEqual(chunkJson(""), [{ d0: "" }]);
  });

  test("findings round-trip per scope, including one far beyond the 1 MiB entity limit", async () => {
    const huge: Finding = { ...SAMPLE_FINDINGS[1]!, id: "public-network-access-huge", evidence: { expected: "Disabled", actual: "é".repeat(700_000), details: { note: "ü".repeat(300_000) } } };
    const instanceFindings = SAMPLE_FINDINGS.filter((f) => f.instanceId === SAMPLE_INSTANCE_ID);
    await store.putFindings("run-a", SAMPLE_INSTANCE_ID, [...instanceFindings, huge]);
    await store.putFindings("run-a", ESTATE_SCOPE, SAMPLE_FINDINGS.filter((f) => f.instanceId === undefined));
    await store.putFindings("run-b", SAMPLE_INSTANCE_ID, [SAMPLE_FINDINGS[1]!]);

    const back = await store.listFindings("run-a", SAMPLE_INSTANCE_ID.toUpperCase());
    assert.deepEqual(back.map((f) => f.id).sort(), [...instanceFindings.map((f) => f.id), huge.id].sort());
    assert.deepEqual(back.find((f) => f.id === huge.id), huge);
    assert.deepEqual((await store.listFindings("run-a", ESTATE_SCOPE)).map((f) => f.checkId), ["rules-unusable"]);
    const all = await collect(store.listAllFindings("run-a"));
    assert.equal(all.length, instanceFindings.length + 2, "every scope of run-a and nothing of run-b");
  });

  test("a run becomes the latest only when completed; the score history is newest-last and bounded", async () => {
    assert.equal(await store.getLatestRunId(), undefined);
    const runs = Array.from({ length: 5 }, (_, i) => summary(`r${i}`, new Date(Date.UTC(2025, 5, 1 + i, 6)).toISOString(), 60 + i));
    for (const run of runs) await store.completeRun(run);
    assert.equal(await store.getLatestRunId(), "r4");
    assert.deepEqual(await store.getRunSummary("r2"), runs[2]);
    assert.equal(await store.getRunSummary("missing"), undefined);
    assert.deepEqual((await store.listScoreHistory(runs[4]!, 3)).map((p) => [p.runId, p.score]), [["r2", 62], ["r3", 63], ["r4", 64]]);
    assert.deepEqual((await store.listScoreHistory(runs[1]!, 30)).map((p) => p.runId), ["r0", "r1"], "history as of an older run stops at it");
  });

  test("instance summaries and remediations list per run in order", async () => {
    await store.putInstanceSummary("r4", SAMPLE_REPORT.instances[0]!);
    for (const sequence of [1, 2, 10]) await store.putRemediation({ ...SAMPLE_REPORT.remediations[0]!, runId: "r4", sequence });
    assert.deepEqual(await collect(store.listInstanceSummaries("r4")), [SAMPLE_REPORT.instances[0]]);
    assert.deepEqual((await collect(store.listRemediations("r4"))).map((r) => r.sequence), [1, 2, 10]);
    assert.deepEqual(await collect(store.listInstanceSummaries("r3")), []);
  });

  test("suppressions are stored, replaced and deleted; a hand-edited row that does not parse suppresses nothing", async () => {
    const s = { findingId: "capacity-abc", reason: "scaling next sprint", owner: "carol@contoso.example", expiresAt: "2025-07-01T00:00:00.000Z", createdAt: "2025-06-01T00:00:00.000Z" };
    await store.putSuppression(s);
    await store.putSuppression({ ...s, reason: "moved" });
    await tables.state.upsertEntity({ partitionKey: "suppression", rowKey: "bad-row", reason: "x", owner: "y", expiresAt: "next week" });
    assert.deepEqual(await store.listSuppressions(), [{ ...s, reason: "moved" }]);
    await store.deleteSuppression("capacity-abc");
    await store.deleteSuppression("capacity-abc");
    assert.deepEqual(await store.listSuppressions(), []);
    await assert.rejects(store.putSuppression({ ...s, owner: "" }));
  });

  test("sightings are kept per instance", async () => {
    const connectionId = `${SAMPLE_INSTANCE_ID}/privateEndpointConnections/c1`;
    await store.updateSightings(SAMPLE_INSTANCE_ID, { upserts: [{ connectionId, status: "Pending", firstSeenAt: "2025-06-01T00:00:00.000Z" }], deletes: [] });
    assert.deepEqual(await store.listSightings(SAMPLE_INSTANCE_ID.toLowerCase()), [{ connectionId, status: "Pending", firstSeenAt: "2025-06-01T00:00:00.000Z" }]);
    assert.deepEqual(await store.listSightings(`${SAMPLE_INSTANCE_ID}x`), []);
    await store.updateSightings(SAMPLE_INSTANCE_ID, { upserts: [], deletes: [{ connectionId, status: "Pending", firstSeenAt: "2025-06-01T00:00:00.000Z" }] });
    assert.deepEqual(await store.listSightings(SAMPLE_INSTANCE_ID), []);
  });

  test("a stored finding that no longer matches the schema is an internal error, not silently dropped", async () => {
    const findings = TableClient.fromConnectionString(storage.connectionString, tables.findings.tableName, { allowInsecureConnection: true });
    await store.putFindings("run-bad", SAMPLE_INSTANCE_ID, [SAMPLE_FINDINGS[1]!]);
    for await (const entity of findings.listEntities({ queryOptions: { filter: "PartitionKey ge 'run-bad-' and PartitionKey lt 'run-bad.'" } })) {
      await findings.upsertEntity({ partitionKey: entity.partitionKey!, rowKey: entity.rowKey!, d0: '{"id":"x"}' }, "Replace");
    }
    await assert.rejects(store.listFindings("run-bad", SAMPLE_INSTANCE_ID), (e: Error & { kind?: string }) => e.kind === "internal");
  });
});
