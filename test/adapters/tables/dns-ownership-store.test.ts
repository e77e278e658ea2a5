import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TableClient } from "@azure/data-tables";
import { startAzuriteTables, type LocalTableStorage } from "../../../dev/azurite.ts";
import { createTableDnsOwnershipStore, DNS_OWNERSHIP_TABLE_SUFFIX, ensureDnsOwnershipTable } from "../../../src/adapters/tables/dns-ownership-store.ts";
import { tableClientFor } from "../../../src/adapters/tables/tables.ts";
import type { WrittenRecord } from "../../../src/domain/audit/ownership.ts";
import type { DnsOwnershipStore } from "../../../src/ports/dns-ownership-store.ts";

const ZONE = "/subscriptions/a0a0a0a0-0000-4000-8000-000000000001/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net";
const OTHER_ZONE = ZONE.replace("rg-dns", "rg-dns2");

let storage: LocalTableStorage;
let table: TableClient;
let store: DnsOwnershipStore;

before(async () => {
  storage = await startAzuriteTables();
  table = tableClientFor({ PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString, PORTCULLIS_TABLES_ENDPOINT: undefined, PORTCULLIS_TABLE_PREFIX: "own" }, DNS_OWNERSHIP_TABLE_SUFFIX);
  await ensureDnsOwnershipTable(table);
  await ensureDnsOwnershipTable(table);
  store = createTableDnsOwnershipStore(table);
});

after(async () => {
  await storage.close();
});

function written(zoneId: string, recordName: string, ips: readonly string[], etag: string): WrittenRecord {
  return { recordId: `${zoneId}/A/${recordName}`, zoneId, recordName, ipv4Addresses: ips, etag, writtenAt: "2025-06-01T06:00:00.000Z", runId: "20250601T060000Z-aaaaaaaa" };
}

describe("DNS ownership store on Table Storage", () => {
  test("keeps what Portcullis last wrote per record, listed by zone (zone IDs compare case-insensitively); a new write replaces it; delete forgets it", async () => {
    await store.putWrittenRecord(written(ZONE, "apim-a", ["10.0.0.4"], "etag-1"));
    await store.putWrittenRecord(written(ZONE, "APIM-B", ["10.0.0.5", "10.0.0.6"], "etag-2"));
    await store.putWrittenRecord(written(OTHER_ZONE, "apim-a", ["10.9.0.4"], "etag-3"));
    await store.putWrittenRecord(written(ZONE, "apim-a", ["10.0.0.7"], "etag-4"));
    const listed = await store.listWrittenRecords(ZONE.toUpperCase());
    assert.deepEqual(listed.map((r) => [r.recordName, r.ipv4Addresses, r.etag]).sort(), [["apim-a", ["10.0.0.7"], "etag-4"], ["apim-b", ["10.0.0.5", "10.0.0.6"], "etag-2"]]);
    await store.deleteWrittenRecord(ZONE, "Apim-B");
    await store.deleteWrittenRecord(ZONE, "apim-b");
    assert.deepEqual((await store.listWrittenRecords(ZONE)).map((r) => r.recordName), ["apim-a"]);
    assert.deepEqual((await store.listWrittenRecords(OTHER_ZONE)).map((r) => r.etag), ["etag-3"]);
  });

  test("a row edited by hand into nonsense is left out, so its record counts as not Portcullis' (never rewritten)", async () => {
    await store.putWrittenRecord(written(ZONE, "apim-c", ["10.0.0.8"], "etag-5"));
    const [row] = await (async () => {
      const rows = [];
      for await (const e of table.listEntities<Record<string, unknown>>()) if (e["recordName"] === "apim-c") rows.push(e);
      return rows;
    })();
    await table.updateEntity({ partitionKey: row!.partitionKey!, rowKey: row!.rowKey!, ipv4Addresses: "not json" }, "Merge");
    assert.ok(!(await store.listWrittenRecords(ZONE)).some((r) => r.recordName === "apim-c"));
  });
});
