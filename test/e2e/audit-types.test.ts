/**
 * The audit of a mixed estate on the local stack: an API Management instance, a storage account and a key vault in
 * the ARM emulator (each type served from its spec's shapes), read through the real ARM adapters (the generic
 * PrivateLinkPort over @azure/arm-resources, ApimPort for APIM's own facts) under exactly the roles infra/ deploys for
 * the governed types, with Azurite holding the stores. Nothing of ours is mocked.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { findingId } from "../../src/domain/audit/findings.ts";
import { CONSUMER_SUB, PROVIDER_SUB, startAuditStack, type AuditStack } from "./audit-harness.ts";

const APIM = "Microsoft.ApiManagement/service";
const STORAGE = "Microsoft.Storage/storageAccounts";
const VAULT = "Microsoft.KeyVault/vaults";
const APIM_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-apim/providers/${APIM}/apim-audit`;
const STORAGE_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-data/providers/${STORAGE}/staudit1`;
const VAULT_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-data/providers/${VAULT}/kv-audit1`;
const zoneId = (name: string) => `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/${name}`;
const APIM_ZONE = zoneId("privatelink.azure-api.net");
const BLOB_ZONE = zoneId("privatelink.blob.core.windows.net");
const VAULT_ZONE = zoneId("privatelink.vaultcore.azure.net");
const SCOPE = { managedResourceTypes: [APIM, STORAGE, VAULT], dnsZoneIds: [APIM_ZONE, BLOB_ZONE, VAULT_ZONE] };

describe("audit of API Management, Storage and Key Vault on the emulator", () => {
  let stack: AuditStack;
  before(async () => {
    stack = await startAuditStack("audit-types", "audittypes");
    for (const id of [APIM_ID, STORAGE_ID, VAULT_ID]) await stack.recordApprovals(id);
  });
  after(() => stack?.close());

  test("each type is judged on its own zone and record name, and the account on its public access; every finding names its type", async () => {
    const summary = await stack.audit(SCOPE);
    assert.equal(summary.instances, 3);
    assert.equal(summary.unreadableInstances, 0, "the deployed roles read every governed type");
    const open = [];
    for await (const f of stack.store.listAllFindings(summary.runId)) if (f.status === "open") open.push(f);
    assert.deepEqual(
      open.map((f) => [f.checkId, f.resourceType, f.resourceId]).sort(),
      [
        ["dns-record-missing", APIM, `${APIM_ZONE}/A/apim-audit`],
        ["dns-record-missing", STORAGE, `${BLOB_ZONE}/A/staudit1`],
        ["dns-record-missing", VAULT, `${VAULT_ZONE}/A/kv-audit1`],
        ["public-network-access", STORAGE, STORAGE_ID],
      ].sort(),
    );
  });

  test("enforce repairs all three records and closes the account's public access through the generic port; the next run is clean", async () => {
    stack.clock.set("2025-06-02T06:00:00.000Z");
    const repaired = await stack.audit({ ...SCOPE, mode: "enforce", remediations: ["public-network-access", "dns-record"] });
    const outcomes = [];
    for await (const r of stack.store.listRemediations(repaired.runId)) outcomes.push([r.change.kind, r.outcome]);
    assert.deepEqual(outcomes.sort(), [["disable-public-network-access", "applied"], ["put-a-record", "applied"], ["put-a-record", "applied"], ["put-a-record", "applied"]]);
    const account = await stack.operatorArm.privateLink.getResource(STORAGE_ID);
    assert.equal(account?.publicNetworkAccess, "Disabled");
    const vaultRecord = await stack.operatorArm.privateDns.getARecord(VAULT_ZONE, "kv-audit1");
    const vaultEndpoint = await stack.operatorArm.network.getPrivateEndpoint(`/subscriptions/${CONSUMER_SUB}/resourceGroups/rg-app/providers/Microsoft.Network/privateEndpoints/pe-vault`);
    assert.deepEqual(vaultRecord?.ipv4Addresses, vaultEndpoint?.customDnsConfigs.flatMap((c) => c.ipAddresses), "the vault's record holds its endpoint's IP");

    stack.clock.set("2025-06-03T06:00:00.000Z");
    const clean = await stack.audit({ ...SCOPE, mode: "enforce", remediations: ["public-network-access", "dns-record"] });
    assert.equal(clean.findings.open, 0);
    assert.equal(clean.score, 100);
    const again = [];
    for await (const r of stack.store.listRemediations(clean.runId)) again.push(r);
    assert.deepEqual(again, [], "a second run over the repaired estate plans nothing");
    const resolved = [];
    for await (const f of stack.store.listAllFindings(clean.runId)) if (f.status === "resolved") resolved.push(f.id);
    assert.ok(resolved.includes(findingId("public-network-access", STORAGE_ID, "enabled")), "the run that no longer sees it resolves it");
    assert.ok(resolved.includes(findingId("dns-record-missing", `${VAULT_ZONE}/A/kv-audit1`)));
  });
});
