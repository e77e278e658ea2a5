/**
 * Where Portcullis remembers the A records it wrote (src/domain/audit/ownership.ts): the record ID, the IPs and
 * the ETag of its last write. The audit repairs only a record that still matches its entry. Implemented over Table
 * Storage by src/adapters/tables/dns-ownership-store.ts and in memory for unit tests.
 * Storage failures throw a PortcullisError of kind `transient`.
 */
import type { WrittenRecord } from "../domain/audit/ownership.ts";
import type { OperationOptions } from "./arm.ts";

export interface DnsOwnershipStore {
  /** What Portcullis last wrote to each A record of one zone. */
  listWrittenRecords(zoneId: string, options?: OperationOptions): Promise<WrittenRecord[]>;
  /** Records a write Portcullis just made (replaces the entry of that record). */
  putWrittenRecord(record: WrittenRecord, options?: OperationOptions): Promise<void>;
  /** Forgets a record Portcullis deleted; resolves also when there was no entry. */
  deleteWrittenRecord(zoneId: string, recordName: string, options?: OperationOptions): Promise<void>;
}
