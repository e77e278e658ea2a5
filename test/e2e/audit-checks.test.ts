/**
 * Each check on an emulator topology built for it: real SDK clients over HTTPS to the ARM emulator, real
 * Azurite for the audit store and the decision log. Every scenario's approvals are in the decision log, so
 * the findings are exactly the problem the topology was built to show.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { findingId, type Finding } from "../../src/domain/audit/findings.ts";
import { HUB_ZONE_ID, INSTANCE_ID, RECORD_ID, startAuditStack, type AuditStack } from "./audit-harness.ts";

const VNET = (name: string) => `/subscriptions/c1c1c1c1-0000-4000-8000-000000000002/resourceGroups/rg-app/providers/Microsoft.Network/virtualNetworks/${name}`;

async function scenario(topology: string, check: (stack: AuditStack, findings: Finding[]) => Promise<void> | void): Promise<void> {
  const stack = await startAuditStack(topology);
  try {
    await stack.recordApprovals();
    const summary = await stack.audit();
    assert.equal(summary.instances, 1);
    assert.equal(summary.unreadableInstances, 0);
    await check(stack, await stack.store.listFindings(summary.runId, INSTANCE_ID));
  } finally {
    await stack.close();
  }
}

const open = (findings: Finding[]) => findings.filter((f) => f.status === "open").map((f) => f.checkId).sort();

describe("audit checks on emulator topologies", () => {
  test("clashing endpoints: two approved endpoints from different VNets compete for one record", () =>
    scenario("audit-clashing-endpoints", (_stack, findings) => {
      assert.deepEqual(open(findings), ["dns-competing-endpoints", "dns-record-wrong-ips"]);
      const competing = findings.find((f) => f.checkId === "dns-competing-endpoints")!;
      assert.equal(competing.resourceId.toLowerCase(), RECORD_ID.toLowerCase());
      assert.equal(competing.evidence.actual, `${VNET("vnet-a")}, ${VNET("vnet-b")}`);
      const wrong = findings.find((f) => f.checkId === "dns-record-wrong-ips")!;
      assert.deepEqual(wrong.evidence.details?.["missingIps"], ["10.10.1.4"]);
    }));

  test("a deleted endpoint whose IP is still in the record: stale IP", () =>
    scenario("audit-deleted-endpoint", (_stack, findings) => {
      assert.deepEqual(open(findings), ["dns-stale-ips"]);
      assert.deepEqual(findings[0]!.evidence.details?.["staleIps"], ["10.10.1.5"]);
      assert.equal(findings[0]!.id, findingId("dns-stale-ips", RECORD_ID));
    }));

  test("an unlinked zone: the endpoint's VNet (its subnet's parent) has no link to the zone", () =>
    scenario("audit-unlinked-zone", (_stack, findings) => {
      assert.deepEqual(open(findings), ["dns-zone-not-linked"]);
      assert.equal(findings[0]!.resourceId.toLowerCase(), HUB_ZONE_ID.toLowerCase());
      assert.equal(findings[0]!.evidence.details?.["virtualNetworkId"], VNET("vnet-a"));
    }));

  test("an stv1 instance fails the platform prerequisite", () =>
    scenario("audit-stv1", (_stack, findings) => {
      assert.deepEqual(open(findings), ["prerequisite-platform"]);
      assert.equal(findings[0]!.evidence.actual, "stv1");
    }));

  // Microsoft's feature table (learn.microsoft.com/azure/api-management/api-management-features) lists inbound
  // private endpoints for Standard v2; mtv1 is a platformVersion of the APIM spec's enum (stable/2024-05-01).
  test("a Standard v2 instance reporting platform mtv1 meets the prerequisites: no tier or platform finding", () =>
    scenario("audit-standard-v2", (_stack, findings) => {
      assert.deepEqual(open(findings), []);
    }));

  test("a VNet-injected instance fails the VNet-injection prerequisite (and is not asked to disable public access)", () =>
    scenario("audit-vnet-injected", (_stack, findings) => {
      assert.deepEqual(open(findings), ["prerequisite-vnet-injection"]);
      assert.equal(findings[0]!.evidence.actual, "External");
    }));

  test("100 connections: capacity at the limit", () =>
    scenario("audit-capacity", async (stack, findings) => {
      assert.deepEqual(open(findings), ["capacity"]);
      assert.equal(findings[0]!.severity, "high");
      assert.match(findings[0]!.message, /has 100 private endpoint connections/);
      const summary = await stack.store.getRunSummary((await stack.store.getLatestRunId())!);
      assert.equal(summary?.connections.pending, 100);
    }));

  test("public access still enabled and a missing record: reported, with the az fixes", () =>
    scenario("audit-remediation", (_stack, findings) => {
      assert.deepEqual(open(findings), ["dns-record-missing", "public-network-access"]);
      const missing = findings.find((f) => f.checkId === "dns-record-missing")!;
      assert.equal(missing.evidence.expected, "10.10.1.4");
      assert.match(missing.remediation.azCli, /--zone-name privatelink.azure-api.net --record-set-name apim-audit --ipv4-address 10.10.1.4/);
    }));
});
