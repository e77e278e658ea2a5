/**
 * The audit on the local stack: the ARM emulator (HTTPS, seeded from a topology file) reached through the real
 * ARM adapter and SDK clients, and Azurite holding the audit store, the decision log and the rules through
 * their real Table adapters. Nothing of ours is mocked; only the clock is set by the test.
 */
import { startArmEmulator, type ArmEmulator } from "../../dev/arm-emulator/index.ts";
import { startAzuriteTables, type LocalTableStorage } from "../../dev/azurite.ts";
import { createArmPorts, createLocalEmulatorCredential, type AzureArmPorts } from "../../src/adapters/arm/index.ts";
import { AUDIT_TABLE_SUFFIXES, createTableAuditStore, ensureAuditTables } from "../../src/adapters/tables/audit-store.ts";
import { createTableDecisionLog, DECISIONS_TABLE_SUFFIX, ensureDecisionLogTable } from "../../src/adapters/tables/decision-log.ts";
import { createTableDnsOwnershipStore, DNS_OWNERSHIP_TABLE_SUFFIX, ensureDnsOwnershipTable } from "../../src/adapters/tables/dns-ownership-store.ts";
import { createTableRuleStore, RULES_TABLE_SUFFIX } from "../../src/adapters/tables/rule-store.ts";
import { ensureTable, tableClientFor } from "../../src/adapters/tables/tables.ts";
import { decisionRecordId } from "../../src/domain/decisions/decision.ts";
import type { AuditPolicy } from "../../src/domain/audit/checks.ts";
import type { AuditRunSummary } from "../../src/domain/audit/run.ts";
import type { AuditStore } from "../../src/ports/audit-store.ts";
import type { DecisionLog } from "../../src/ports/decision-log.ts";
import type { DnsOwnershipStore } from "../../src/ports/dns-ownership-store.ts";
import { auditEstate, type AuditEstateDependencies, type AuditEstateOptions } from "../../src/workflows/audit-estate.ts";
import { decisionRecord } from "../fakes/decision-records.ts";

export const PROVIDER_SUB = "a0a0a0a0-0000-4000-8000-000000000001";
export const CONSUMER_SUB = "c1c1c1c1-0000-4000-8000-000000000002";
export const INSTANCE_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-audit`;
export const HUB_ZONE_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.azure-api.net`;
export const RECORD_ID = `${HUB_ZONE_ID}/A/apim-audit`;

export function topologyPath(name: string): string {
  return new URL(`../fixtures/topologies/${name}.json`, import.meta.url).pathname;
}

export const DEFAULT_POLICY: AuditPolicy = {
  publicAccessExemptIds: [],
  publicAccessDisabledRequired: "when-approved",
  pendingMaxAgeHours: 24,
  rejectedMaxAgeDays: 30,
  capacityWarning: 80,
};

export interface AuditStack {
  readonly emulator: ArmEmulator;
  readonly storage: LocalTableStorage;
  readonly arm: AzureArmPorts;
  readonly store: AuditStore;
  readonly decisionLog: DecisionLog;
  /** What Portcullis wrote to which A record (Azurite, through the real Table adapter). */
  readonly dnsOwnership: DnsOwnershipStore;
  readonly clock: { now(): Date; set(iso: string): void };
  /** Appends a rule approval to the decision log for every Approved connection of the instance (as the engine would have). */
  recordApprovals(instanceId?: string): Promise<void>;
  /** One audit run; `dependencies` replaces some of the real ones (e.g. ports wrapped to act between read and write). */
  audit(options?: Partial<AuditEstateOptions>, dependencies?: Partial<AuditEstateDependencies>): Promise<AuditRunSummary>;
  close(): Promise<void>;
}

/** Starts the emulator on a topology and Azurite, with every table the audit reads. */
export async function startAuditStack(topology: string, tablePrefix = "audit"): Promise<AuditStack> {
  const emulator = await startArmEmulator({ topology: topologyPath(topology), lroDelayMs: 5 });
  const storage = await startAzuriteTables();
  const tableSettings = { PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString, PORTCULLIS_TABLES_ENDPOINT: undefined, PORTCULLIS_TABLE_PREFIX: tablePrefix };
  const tables = {
    runs: tableClientFor(tableSettings, AUDIT_TABLE_SUFFIXES.runs),
    findings: tableClientFor(tableSettings, AUDIT_TABLE_SUFFIXES.findings),
    state: tableClientFor(tableSettings, AUDIT_TABLE_SUFFIXES.state),
  };
  const decisionsTable = tableClientFor(tableSettings, DECISIONS_TABLE_SUFFIX);
  const rulesTable = tableClientFor(tableSettings, RULES_TABLE_SUFFIX);
  const ownershipTable = tableClientFor(tableSettings, DNS_OWNERSHIP_TABLE_SUFFIX);
  await Promise.all([ensureAuditTables(tables), ensureDecisionLogTable(decisionsTable), ensureTable(rulesTable), ensureDnsOwnershipTable(ownershipTable)]);
  let now = new Date("2025-06-01T06:00:00.000Z");
  const clock = { now: () => now, set: (iso: string) => (now = new Date(iso)) };
  const arm = createArmPorts({
    endpoint: emulator.url,
    credential: createLocalEmulatorCredential(),
    caPem: emulator.caPem,
    retryDelayInMs: 10,
    maxRetryDelayInMs: 100,
    pollIntervalInMs: 10,
  });
  const store = createTableAuditStore(tables);
  const decisionLog = createTableDecisionLog(decisionsTable);
  const dnsOwnership = createTableDnsOwnershipStore(ownershipTable);
  const ruleStore = createTableRuleStore({ table: rulesTable, clock });
  return {
    emulator,
    storage,
    arm,
    store,
    decisionLog,
    dnsOwnership,
    clock,
    async recordApprovals(instanceId = INSTANCE_ID) {
      for await (const c of arm.apim.listConnections(instanceId)) {
        if (c.status !== "Approved") continue;
        const at = new Date("2025-05-01T00:00:00.000Z");
        await decisionLog.append(
          decisionRecord({
            id: decisionRecordId(at, c.name),
            connectionId: c.id,
            serviceId: instanceId,
            privateEndpointId: c.privateEndpointId,
            requesterSubscriptionId: CONSUMER_SUB,
            ruleId: "allow-consumer",
            ruleVersion: 1,
            action: "approve",
            actor: "rule:allow-consumer",
            reason: "consumer subscription is trusted",
            correlationId: "e2e",
            statusAfter: "Approved",
            outcome: "applied",
            startedAt: at,
          }),
        );
      }
    },
    audit(options = {}, dependencies = {}) {
      return auditEstate(
        { arm, auditStore: store, decisionLog, dnsOwnership, ruleStore, notifications: { publish: async () => {} }, clock, ...dependencies },
        {
          managedInstanceIds: [],
          managedSubscriptionIds: [PROVIDER_SUB],
          dnsZoneIds: [HUB_ZONE_ID],
          policy: DEFAULT_POLICY,
          remediations: [],
          mode: "dry-run",
          concurrency: 4,
          trigger: "timer",
          ...options,
        },
      );
    },
    async close() {
      await Promise.all([emulator.close(), storage.close()]);
    },
  };
}
