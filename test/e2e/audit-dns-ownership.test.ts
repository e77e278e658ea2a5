/**
 * DNS ownership on the local stack (issue 10, item 5): Portcullis repairs only A records it wrote and that still
 * hold what it wrote, by its ownership table in Azurite, never by a record's own `managedBy` tag. The ARM
 * emulator's Private DNS routes honour If-Match / If-None-Match as Azure's record-set PUT and DELETE do
 * (azure-rest-api-specs: specification/privatedns/resource-manager/Microsoft.Network/PrivateDns/RecordSet.tsp,
 * createOrUpdate and delete with If-Match / If-None-Match headers).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { findingId } from "../../src/domain/audit/findings.ts";
import { OWNER_METADATA_KEY } from "../../src/domain/audit/plan.ts";
import { HUB_ZONE_ID, INSTANCE_ID, RECORD_ID, startAuditStack, type AuditStack } from "./audit-harness.ts";

const ENFORCE = { mode: "enforce", remediations: ["dns-record"] } as const;
const ENDPOINT_IP = "10.10.1.4";
const DRIFTED = findingId("dns-record-drifted", RECORD_ID);

/** Only the DNS writes the audit sent to the emulator (the endpoint reads are GETs). */
function dnsWrites(stack: AuditStack): string[] {
  return stack.emulator.requests().filter((r) => r.method !== "GET" && r.path.includes("/privateDnsZones/")).map((r) => `${r.method} ${r.status}`);
}

async function openFindings(stack: AuditStack, runId: string): Promise<string[]> {
  return (await stack.store.listFindings(runId, INSTANCE_ID)).filter((f) => f.status === "open").map((f) => f.checkId).sort();
}

describe("DNS ownership: Portcullis repairs only the records it wrote and nobody changed since", () => {
  test("a human adds a failover IP to a record Portcullis created: not reverted, reported as drifted", async () => {
    const stack = await startAuditStack("audit-remediation", "ownfailover");
    try {
      await stack.recordApprovals();
      const first = await stack.audit(ENFORCE);
      assert.equal(first.remediations.applied, 1);
      const created = await stack.arm.privateDns.getARecord(HUB_ZONE_ID, "apim-audit");
      assert.deepEqual(created?.ipv4Addresses, [ENDPOINT_IP]);
      const [entry] = await stack.dnsOwnership.listWrittenRecords(HUB_ZONE_ID);
      assert.deepEqual([entry?.recordName, entry?.ipv4Addresses, entry?.etag], ["apim-audit", [ENDPOINT_IP], created?.etag], "Azurite holds what Portcullis wrote");

      await stack.operatorArm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", [ENDPOINT_IP, "10.10.9.9"], { ttl: 10, metadata: created!.metadata, ifMatch: created!.etag! });
      stack.emulator.clearRequests();
      stack.clock.set("2025-06-02T06:00:00.000Z");
      const second = await stack.audit(ENFORCE);

      assert.deepEqual(dnsWrites(stack), [], "no write: the human's failover IP stays");
      assert.deepEqual((await stack.arm.privateDns.getARecord(HUB_ZONE_ID, "apim-audit"))?.ipv4Addresses, [ENDPOINT_IP, "10.10.9.9"]);
      assert.equal(Object.values(second.remediations).reduce((a, b) => a + b, 0), 0, "nothing planned");
      const drifted = (await stack.store.listFindings(second.runId, INSTANCE_ID)).find((f) => f.id === DRIFTED);
      assert.equal(drifted?.status, "open");
      assert.match(drifted?.message ?? "", /changed since Portcullis wrote it .*it wrote 10\.10\.1\.4; it now holds 10\.10\.1\.4, 10\.10\.9\.9/);
    } finally {
      await stack.close();
    }
  });

  test("a record someone else tagged managedBy=portcullis is not overwritten", async () => {
    const stack = await startAuditStack("audit-remediation", "owntagged");
    try {
      await stack.recordApprovals();
      await stack.operatorArm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", ["10.10.7.7"], { ttl: 10, metadata: { [OWNER_METADATA_KEY]: "portcullis" }, ifNoneMatch: "*" });
      stack.emulator.clearRequests();
      const summary = await stack.audit(ENFORCE);
      assert.deepEqual(dnsWrites(stack), [], "the tag is a label, not ownership: no PUT, no DELETE");
      assert.deepEqual((await stack.arm.privateDns.getARecord(HUB_ZONE_ID, "apim-audit"))?.ipv4Addresses, ["10.10.7.7"]);
      assert.deepEqual(await openFindings(stack, summary.runId), ["dns-record-wrong-ips", "dns-stale-ips", "public-network-access"], "reported, not repaired");
      assert.deepEqual(await stack.dnsOwnership.listWrittenRecords(HUB_ZONE_ID), []);
    } finally {
      await stack.close();
    }
  });

  test("a record Portcullis wrote and nobody changed, now wrong, is repaired with If-Match on its ETag; a change between read and write is not overwritten", async () => {
    const stack = await startAuditStack("audit-remediation", "ownrepair");
    try {
      await stack.recordApprovals();
      // An earlier run wrote 10.10.1.50 (the endpoint's IP then) and remembered it (set up as the estate operator: the
      // app's deployed roles hold A/write only while DNS remediation is on, which this run's audit switches on).
      const earlier = await stack.operatorArm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", ["10.10.1.50"], { ttl: 10, metadata: { [OWNER_METADATA_KEY]: "portcullis" }, ifNoneMatch: "*" });
      await stack.dnsOwnership.putWrittenRecord({
        recordId: RECORD_ID, zoneId: HUB_ZONE_ID, recordName: "apim-audit", ipv4Addresses: ["10.10.1.50"], etag: earlier.etag!, writtenAt: "2025-05-31T06:00:00.000Z", runId: "20250531T060000Z-00000000",
      });

      // First attempt: someone rewrites the record between the audit's read and its write. The If-Match PUT is refused.
      const privateDns = stack.arm.privateDns;
      const racing = {
        ...stack.arm,
        privateDns: {
          getZone: privateDns.getZone.bind(privateDns),
          listARecords: privateDns.listARecords.bind(privateDns),
          getARecord: privateDns.getARecord.bind(privateDns),
          deleteARecord: privateDns.deleteARecord.bind(privateDns),
          listVirtualNetworkLinks: privateDns.listVirtualNetworkLinks.bind(privateDns),
          async putARecord(...args: Parameters<typeof privateDns.putARecord>) {
            await stack.operatorArm.privateDns.putARecord(HUB_ZONE_ID, "apim-audit", ["10.10.1.50"], { ttl: 60, metadata: { [OWNER_METADATA_KEY]: "portcullis" } });
            return privateDns.putARecord(...args);
          },
        },
      };
      const raced = await stack.audit(ENFORCE, { arm: racing });
      assert.equal(raced.remediations["skipped-concurrent-change"], 1, JSON.stringify(raced.remediations));
      assert.equal((await stack.arm.privateDns.getARecord(HUB_ZONE_ID, "apim-audit"))?.ttl, 60, "the concurrent change stands");

      // Second attempt, nobody racing: the record still holds what Portcullis wrote, so it is rewritten.
      const current = await stack.arm.privateDns.getARecord(HUB_ZONE_ID, "apim-audit");
      stack.emulator.clearRequests();
      stack.clock.set("2025-06-02T06:00:00.000Z");
      const repaired = await stack.audit(ENFORCE);
      assert.equal(repaired.remediations.applied, 1);
      assert.deepEqual(dnsWrites(stack), ["PUT 200"]);
      const after = await stack.arm.privateDns.getARecord(HUB_ZONE_ID, "apim-audit");
      assert.deepEqual(after?.ipv4Addresses, [ENDPOINT_IP]);
      const [record] = [...(await collect(stack.store.listRemediations(repaired.runId)))];
      assert.equal(record?.change.kind === "put-a-record" ? record.change.ifMatch : undefined, current?.etag, "the PUT carried If-Match on the record's ETag");
      const [entry] = await stack.dnsOwnership.listWrittenRecords(HUB_ZONE_ID);
      assert.deepEqual([entry?.ipv4Addresses, entry?.etag, entry?.runId], [[ENDPOINT_IP], after?.etag, repaired.runId], "the entry follows the new write");

      stack.emulator.clearRequests();
      stack.clock.set("2025-06-03T06:00:00.000Z");
      const third = await stack.audit(ENFORCE);
      assert.deepEqual(dnsWrites(stack), [], "a second run over the repaired record writes nothing");
      assert.deepEqual(await openFindings(stack, third.runId), ["public-network-access"]);
    } finally {
      await stack.close();
    }
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
