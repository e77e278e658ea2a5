/**
 * DnsOwnershipStore on Azure Table Storage: table `{prefix}dnsrecords`, one row per A record Portcullis wrote.
 *
 *   PartitionKey              RowKey          Columns
 *   zone-{sha(key(zoneId))}   {record name}   recordId, zoneId, recordName, ipv4Addresses (JSON), recordEtag, writtenAt, runId
 *
 * - The audit lists one zone's rows once per run (a single-partition query) and compares them with the zone's
 *   records; writes are plain upserts and deletes, because only the audit writes them and the ARM write they
 *   follow already carried If-Match / If-None-Match.
 * - `recordEtag` is the ARM record set's ETag (the row's own ETag is Table Storage's).
 * - A row that does not parse (edited by hand) is left out: its record then counts as not Portcullis', so it is
 *   reported and never rewritten (fail closed).
 */
import { createHash } from "node:crypto";
import { odata, type TableClient } from "@azure/data-tables";
import { z } from "zod";
import type { WrittenRecord } from "../../domain/audit/ownership.ts";
import { toPortcullisError } from "../../domain/errors.ts";
import { resourceIdKey } from "../../domain/resource-id.ts";
import type { OperationOptions } from "../../ports/arm.ts";
import type { DnsOwnershipStore } from "../../ports/dns-ownership-store.ts";
import { ensureTable } from "./tables.ts";

/** Table name suffix: the table is `{PORTCULLIS_TABLE_PREFIX}dnsrecords`. */
export const DNS_OWNERSHIP_TABLE_SUFFIX = "dnsrecords";

const zonePartition = (zoneId: string) => `zone-${createHash("sha256").update(resourceIdKey(zoneId)).digest("hex").slice(0, 32)}`;
/** Record names are DNS labels; anything Table Storage forbids in a key is percent-encoded. */
const recordRowKey = (recordName: string) => recordName.toLowerCase().replace(/[/\\#?%\u0000-\u001f\u007f]/g, (c) => encodeURIComponent(c));

const rowSchema = z.object({
  recordId: z.string().min(1),
  zoneId: z.string().min(1),
  recordName: z.string().min(1),
  ipv4Addresses: z.string().transform((text, ctx) => {
    try {
      return z.array(z.string()).parse(JSON.parse(text));
    } catch {
      ctx.addIssue({ code: "custom", message: "not a JSON list of IPs" });
      return z.NEVER;
    }
  }),
  recordEtag: z.string().min(1),
  writtenAt: z.iso.datetime({ offset: true }),
  runId: z.string().min(1),
});

/** Creates the table if missing. */
export async function ensureDnsOwnershipTable(table: TableClient, options: OperationOptions = {}): Promise<void> {
  await ensureTable(table, options);
}

export function createTableDnsOwnershipStore(table: TableClient): DnsOwnershipStore {
  return {
    async listWrittenRecords(zoneId, options = {}) {
      const records: WrittenRecord[] = [];
      try {
        const filter = odata`PartitionKey eq ${zonePartition(zoneId)}`;
        for await (const entity of table.listEntities<Record<string, unknown>>({ queryOptions: { filter }, abortSignal: options.abortSignal })) {
          const row = rowSchema.safeParse(entity);
          if (!row.success) continue;
          const { recordEtag, ...rest } = row.data;
          records.push({ ...rest, etag: recordEtag });
        }
      } catch (error) {
        throw toPortcullisError(error);
      }
      return records;
    },

    async putWrittenRecord(record, options = {}) {
      try {
        await table.upsertEntity(
          {
            partitionKey: zonePartition(record.zoneId),
            rowKey: recordRowKey(record.recordName),
            recordId: record.recordId,
            zoneId: record.zoneId,
            recordName: record.recordName.toLowerCase(),
            ipv4Addresses: JSON.stringify(record.ipv4Addresses),
            recordEtag: record.etag,
            writtenAt: record.writtenAt,
            runId: record.runId,
          },
          "Replace",
          { abortSignal: options.abortSignal },
        );
      } catch (error) {
        throw toPortcullisError(error);
      }
    },

    async deleteWrittenRecord(zoneId, recordName, options = {}) {
      try {
        await table.deleteEntity(zonePartition(zoneId), recordRowKey(recordName), { abortSignal: options.abortSignal });
      } catch (error) {
        const failure = toPortcullisError(error);
        if (failure.kind !== "not-found") throw failure;
      }
    },
  };
}
