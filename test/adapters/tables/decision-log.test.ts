import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startAzuriteTables, type LocalTableStorage } from "../../../dev/azurite.ts";
import { createTableDecisionLog, DECISIONS_TABLE_SUFFIX, ensureDecisionLogTable, resourceTableKey } from "../../../src/adapters/tables/decision-log.ts";
import { tableClientFor } from "../../../src/adapters/tables/tables.ts";
import { decisionRecordId, type DecisionRecord } from "../../../src/domain/decisions/decision.ts";
import type { DecisionLog } from "../../../src/ports/decision-log.ts";
import { decisionRecord } from "../../fakes/decision-records.ts";

const SUB = "11111111-1111-1111-1111-111111111111";
const apim = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ApiManagement/service/${name}`;
const conn = (service: string, name: string) => `${apim(service)}/privateEndpointConnections/${name}`;

let sequence = 0;
function record(fields: Partial<DecisionRecord> & Pick<DecisionRecord, "connectionId" | "resourceId">, at: string): DecisionRecord {
  const startedAt = new Date(at);
  return decisionRecord({
    id: decisionRecordId(startedAt, `r${++sequence}`),
    ruleId: "allow",
    ruleVersion: 1,
    action: "approve",
    actor: "rule:allow",
    reason: "Allowed.",
    explanation: ["line 1"],
    correlationId: "corr",
    statusAfter: "Approved",
    outcome: "applied",
    startedAt,
    recordedAt: new Date(startedAt.getTime() + 500),
    ...fields,
  });
}

async function allPages(log: DecisionLog, query: Parameters<DecisionLog["query"]>[0], pageSize: number): Promise<{ items: DecisionRecord[]; pages: number }> {
  const items: DecisionRecord[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await log.query(query, { pageSize, ...(token !== undefined ? { continuationToken: token } : {}) });
    items.push(...page.items);
    token = page.continuationToken;
    pages += 1;
  } while (token !== undefined);
  return { items, pages };
}

describe("Table Storage decision log (Azurite)", () => {
  let storage: LocalTableStorage;
  let log: DecisionLog;
  const a1 = conn("apim-a", "pe-1.abc");
  const a2 = conn("apim-a", "pe-2.def");
  const b1 = conn("apim-b", "pe-3.ghi");

  before(async () => {
    storage = await startAzuriteTables();
    const table = tableClientFor(
      { PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString, PORTCULLIS_TABLES_ENDPOINT: undefined, PORTCULLIS_TABLE_PREFIX: "logtest" },
      DECISIONS_TABLE_SUFFIX,
    );
    await ensureDecisionLogTable(table);
    log = createTableDecisionLog(table);
    const records = [
      record({ connectionId: a1, resourceId: apim("apim-a"), action: "manual", actor: "default", outcome: "skipped", statusAfter: "Pending" }, "2025-06-01T10:00:00Z"),
      record({ connectionId: a1, resourceId: apim("apim-a"), actor: "principal:alice", ticket: "CHG0000001" }, "2025-06-01T11:00:00Z"),
      record({ connectionId: a2, resourceId: apim("apim-a") }, "2025-06-02T09:00:00Z"),
      record({ connectionId: b1, resourceId: apim("apim-b"), actor: "out-of-band" }, "2025-06-01T12:00:00Z"),
    ];
    for (const r of records) await log.append(r);
    await log.append(records[1]!);
  });
  after(async () => {
    await storage.close();
  });

  test("a connection's records come back oldest first, every field intact, and appending a record twice stores it once", async () => {
    const items: DecisionRecord[] = [];
    for await (const r of log.listByConnection(a1.toUpperCase())) items.push(r);
    assert.deepEqual(items.map((r) => r.actor), ["default", "principal:alice"]);
    assert.equal(items[1]!.ticket, "CHG0000001");
    assert.equal(items[1]!.startedAt.toISOString(), "2025-06-01T11:00:00.000Z");
    assert.equal(items[0]!.statusAfter, "Pending");
    assert.equal(items[0]!.privateEndpointId, undefined);
  });

  test("a record is read back by its connection and ID; another connection's ID or an unstorable ID finds nothing", async () => {
    const [first] = (await log.query({ connectionId: a1 })).items;
    assert.ok(first);
    assert.deepEqual(await log.get(a1.toUpperCase(), first.id), first);
    assert.equal(await log.get(a2, first.id), undefined);
    assert.equal(await log.get(a1, "20250601T100000000Z-missing"), undefined);
    assert.equal(await log.get(a1, "a/b?c"), undefined);
  });

  test("queries by instance, by actor and by time range, each from its own partition", async () => {
    const byInstance = await log.query({ resourceId: apim("apim-a") });
    assert.deepEqual(byInstance.items.map((r) => r.connectionId), [a1, a1, a2]);
    const byActor = await log.query({ resourceId: apim("apim-a"), actor: "principal:alice" });
    assert.deepEqual(byActor.items.map((r) => r.ticket), ["CHG0000001"]);
    const window = await log.query({ resourceId: apim("apim-a"), from: new Date("2025-06-01T10:30:00Z"), to: new Date("2025-06-02T00:00:00Z") });
    assert.deepEqual(window.items.map((r) => r.actor), ["principal:alice"]);
    const everywhere = await log.query({ actor: "out-of-band" });
    assert.deepEqual(everywhere.items.map((r) => r.connectionId), [b1]);
    const oneConnection = await log.query({ connectionId: a1, from: new Date("2025-06-01T10:30:00Z") });
    assert.deepEqual(oneConnection.items.map((r) => r.actor), ["principal:alice"]);
  });

  test("pages with continuation tokens and returns every record exactly once", async () => {
    const { items, pages } = await allPages(log, {}, 1);
    assert.equal(items.length, 4);
    assert.ok(pages >= 4);
    assert.equal(new Set(items.map((r) => r.id)).size, 4);
  });

  test("an explanation longer than a Table property holds is cut with a note, and the record is still stored", async () => {
    const long = record({ connectionId: conn("apim-c", "pe-9.xyz"), resourceId: apim("apim-c"), explanation: Array.from({ length: 2000 }, (_, i) => `Rule "r${i}" v1 did not match: the requester subscription matches none of its patterns.`) }, "2025-06-03T00:00:00Z");
    await log.append(long);
    const [stored] = (await log.query({ connectionId: long.connectionId })).items;
    assert.ok(stored!.explanation.length < 2000);
    assert.match(stored!.explanation.at(-1)!, /more explanation line\(s\) were not stored/);
  });

  test("resource table keys are readable, lower-case and never contain characters Table keys refuse", () => {
    assert.equal(resourceTableKey(apim("APIM-A")), `|subscriptions|${SUB}|resourcegroups|rg|providers|microsoft.apimanagement|service|apim-a`);
    assert.doesNotMatch(resourceTableKey("/a#b?c\\d|e%f"), /[/#?\\]/);
    assert.notEqual(resourceTableKey("/a|b"), resourceTableKey("/a/b"));
  });
});
