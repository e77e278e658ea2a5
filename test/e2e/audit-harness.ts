/**
 * The audit on the local stack: the ARM emulator (HTTPS, seeded from a topology file) reached through the real
 * ARM adapter and SDK clients, and Azurite holding the audit store, the decision log and the rules through
 * their real Table adapters. Nothing of ours is mocked; only the clock is set by the test.
 */
import { startArmEmulator, type ArmEmulator } from "../../dev/arm-emulator/index.ts";
import { startAzuriteTables, type LocalTableStorage } from "../../dev/azurite.ts";
import { createArmPorts, type AzureArmPorts } from "../../src/adapters/arm/index.ts";
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
import type { DeployedRoles } from "../support/deployed-roles.ts";
import { grantDeployedRoles } from "../support/local-arm.ts";
import { OWNER_ROLE_ID } from "../../dev/arm-emulator/rbac.ts";
import { objectIdForClient } from "../../dev/oidc-issuer/index.ts";

/** The client ID of the human operator who changes the estate behind the app's back in some tests. */
const OPERATOR_CLIENT_ID = "estate-operator";

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
  /** The app's ARM ports: they hold exactly the roles infra/ deploys. */
  readonly arm: AzureArmPorts;
  /** ARM ports of a human operator with Owner on the estate, for changes a test makes behind the app's back. */
  readonly operatorArm: AzureArmPorts;
  readonly store: AuditStore;
  readonly decisionLog: DecisionLog;
  /** What Portcullis wrote to which A record (Azurite, through the real Table adapter). */
  readonly dnsOwnership: DnsOwnershipStore;
  readonly clock: { now(): Date; set(iso: string): void };
  /** The app principal's roles now: what infra/ deploys for the last run's settings (the operator's Owner is added). */
  roles(): DeployedRoles;
  /** Appends a rule approval to the decision log for every Approved connection of the instance (as the engine would have). */
  recordApprovals(instanceId?: string): Promise<void>;
  /** One audit run; `dependencies` replaces some of the real ones (e.g. ports wrapped to act between read and write). */
  audit(options?: Partial<AuditEstateOptions>, dependencies?: Partial<AuditEstateDependencies>): Promise<AuditRunSummary>;
  close(): Promise<void>;
}

/**
 * Starts the emulator on a topology and Azurite, with every table the audit reads. Each audit runs as the app's
 * principal holding exactly the roles infra/ deploys for that run's settings (its instances, subscriptions, DNS zones
 * and remediation switches); `changeRoles` alters them (negative tests drop an action).
 */
export async function startAuditStack(topology: string, tablePrefix = "audit", changeRoles?: (roles: DeployedRoles) => DeployedRoles): Promise<AuditStack> {
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
  const portsAs = (clientId?: string) =>
    createArmPorts({
      endpoint: emulator.url,
      credential: emulator.credential(clientId),
      caPem: emulator.caPem,
      retryDelayInMs: 10,
      maxRetryDelayInMs: 100,
      pollIntervalInMs: 10,
    });
  const arm = portsAs();
  const operatorArm = portsAs(OPERATOR_CLIENT_ID);
  const operator = { principalId: objectIdForClient(OPERATOR_CLIENT_ID), scope: "/", roleDefinitionId: OWNER_ROLE_ID };
  const withOperator = (change: ((roles: DeployedRoles) => DeployedRoles) | undefined) => (roles: DeployedRoles): DeployedRoles => {
    const changed = change ? change(roles) : roles;
    return { ...changed, roleAssignments: [...changed.roleAssignments, operator] };
  };
  const store = createTableAuditStore(tables);
  const decisionLog = createTableDecisionLog(decisionsTable);
  const dnsOwnership = createTableDnsOwnershipStore(ownershipTable);
  const ruleStore = createTableRuleStore({ table: rulesTable, clock });
  // Until the first audit, the roles of a deployment with the harness's default settings (no remediation);
  // `changeRoles` applies to the roles of each audit run.
  let granted = grantDeployedRoles(
    emulator,
    { PORTCULLIS_MANAGED_SUBSCRIPTIONS: PROVIDER_SUB, PORTCULLIS_DNS_ZONE_IDS: HUB_ZONE_ID },
    topologyPath(topology),
    { change: withOperator(undefined) },
  );
  return {
    roles: () => granted,
    emulator,
    storage,
    arm,
    operatorArm,
    store,
    decisionLog,
    dnsOwnership,
    clock,
    async recordApprovals(instanceId = INSTANCE_ID) {
      for await (const c of arm.privateLink.listConnections(instanceId)) {
        if (c.status !== "Approved") continue;
        const at = new Date("2025-05-01T00:00:00.000Z");
        await decisionLog.append(
          decisionRecord({
            id: decisionRecordId(at, c.name),
            connectionId: c.id,
            resourceId: instanceId,
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
      const run: AuditEstateOptions = {
        managedInstanceIds: [],
        managedSubscriptionIds: [PROVIDER_SUB],
        managedResourceTypes: ["Microsoft.ApiManagement/service"],
        dnsZoneIds: [HUB_ZONE_ID],
        policy: DEFAULT_POLICY,
        remediations: [],
        mode: "dry-run",
        concurrency: 4,
        trigger: "timer",
        ...options,
      };
      const settings = {
        PORTCULLIS_MANAGED_INSTANCES: run.managedInstanceIds.join(","),
        PORTCULLIS_MANAGED_SUBSCRIPTIONS: run.managedSubscriptionIds.join(","),
        PORTCULLIS_MANAGED_RESOURCE_TYPES: run.managedResourceTypes.join(","),
        PORTCULLIS_DNS_ZONE_IDS: run.dnsZoneIds.join(","),
        PORTCULLIS_REMEDIATE: run.remediations.join(","),
      };
      granted = grantDeployedRoles(emulator, settings, topologyPath(topology), { change: withOperator(changeRoles) });
      return auditEstate({ arm, auditStore: store, decisionLog, dnsOwnership, ruleStore, notifications: { publish: async () => {} }, clock, ...dependencies }, run);
    },
    async close() {
      await Promise.all([emulator.close(), storage.close()]);
    },
  };
}
