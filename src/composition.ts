/**
 * The composition root: builds the real adapters from settings, lazily (nothing is constructed, imported or
 * connected before a function first needs it, which keeps cold start short) and once per process.
 * Functions call `composition()`; workflows receive what it builds and never import adapters. Tests and benchmarks
 * build their own with `createComposition(parseSettings({...}))`, so they run exactly the production wiring.
 *
 * Sections: credential · telemetry · ARM · Table Storage · notifications · approval engine. Add a section for a new part;
 * keep each getter a thin `??=` over one adapter factory.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TokenCredential } from "@azure/core-auth";
import type { TableServiceClientOptions } from "@azure/data-tables";
import { managedScopeOf, settings, type Settings } from "./config.ts";
import { createArmPorts, type AzureArmPorts } from "./adapters/arm/index.ts";
import { createArmCredentialFromSettings } from "./adapters/arm/credential.ts";
import { CONNECTIONS_NOT_IN_RESOURCE_BODY, createResourceGraphInventory } from "./adapters/arm/resource-graph.ts";
import { createComplianceNotificationPublisher } from "./adapters/eventgrid/compliance-notifications.ts";
import { createEventGridNotificationPublisher } from "./adapters/eventgrid/notification-publisher.ts";
import { AUDIT_TABLE_SUFFIXES, createTableAuditStore, ensureAuditTables, type AuditTables } from "./adapters/tables/audit-store.ts";
import { createTableDnsOwnershipStore, DNS_OWNERSHIP_TABLE_SUFFIX, ensureDnsOwnershipTable } from "./adapters/tables/dns-ownership-store.ts";
import { CLAIMS_TABLE_SUFFIX, createTableClaimStore } from "./adapters/tables/claim-store.ts";
import { createTableDecisionLog, DECISIONS_TABLE_SUFFIX } from "./adapters/tables/decision-log.ts";
import { createTableRuleStore, RULES_TABLE_SUFFIX } from "./adapters/tables/rule-store.ts";
import { createTableIdempotencyStore, IDEMPOTENCY_TABLE_SUFFIX } from "./adapters/tables/idempotency-store.ts";
import { createTableOperationStore, OPERATIONS_TABLE_SUFFIX } from "./adapters/tables/operation-store.ts";
import { createAuthenticator, type Authenticator } from "./http/auth.ts";
import type { IdempotencyStore } from "./ports/idempotency-store.ts";
import type { InventoryPort } from "./ports/inventory.ts";
import type { OperationStore } from "./ports/operation-store.ts";
import { ensureTable, tableClientFor } from "./adapters/tables/tables.ts";
import { systemClock } from "./ports/clock.ts";
import type { AuditStore } from "./ports/audit-store.ts";
import type { ClaimStore } from "./ports/claim-store.ts";
import { noComplianceNotifications, type ComplianceNotificationPublisher } from "./ports/compliance-notifications.ts";
import type { DecisionLog } from "./ports/decision-log.ts";
import { noNotifications, type NotificationPublisher } from "./ports/notifications.ts";
import type { RuleStore } from "./ports/rule-store.ts";
import { noTelemetry, type Telemetry } from "./ports/telemetry.ts";
import { instrumentEngineDeps } from "./telemetry/engine.ts";
import type { AuditEstateDependencies } from "./workflows/audit-estate.ts";
import type { HousekeepingDeps } from "./workflows/housekeeping.ts";
import { DEFAULT_ENGINE_TIMINGS, type EngineDeps, type EngineLogger, type EngineTimings } from "./workflows/engine-deps.ts";
import { createTenantLookup, type TenantLookup } from "./workflows/tenant-lookup.ts";

/** Everything the app builds from its settings; each part is created on first use and then kept. */
export interface Composition {
  readonly settings: Settings;
  /** The app's identity for ARM, Table Storage (endpoint mode) and Event Grid: managed identity, or the local issuer's client-credentials token. */
  appCredential(): TokenCredential;
  /**
   * Telemetry to Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set (the OpenTelemetry adapter
   * is imported and started on the first call); `noTelemetry` otherwise. Never rejects: a start failure is logged
   * once and the app runs without telemetry.
   */
  telemetry(): Promise<Telemetry>;
  armPorts(): AzureArmPorts;
  ruleStore(): RuleStore;
  decisionLog(): DecisionLog;
  claimStore(): ClaimStore;
  notificationPublisher(): NotificationPublisher;
  /** Everything the approval engine's workflows need, logging to `log`; creates the engine's tables on first use. */
  engineDeps(log: EngineLogger): Promise<EngineDeps>;
  auditStore(): AuditStore;
  complianceNotificationPublisher(): ComplianceNotificationPublisher;
  /** Everything the compliance audit needs, warning through `warn`; creates the audit's (and the engine's) tables on first use. */
  auditDeps(warn: (message: string) => void): Promise<AuditEstateDependencies>;
  /** Validates the HTTP API's bearer tokens against PORTCULLIS_AUTH_ISSUER (discovery and keys fetched on first use). */
  apiAuthenticator(): Authenticator;
  /** Idempotency keys of the API's POST requests. */
  idempotencyStore(): IdempotencyStore;
  /** The API's long-running operations (manual decisions that outlast a request). */
  operationStore(): OperationStore;
  /** Creates the API's own tables if missing, once; a failure is retried on the next call. */
  ensureApiTables(): Promise<void>;
  /** What the housekeeping timer deletes through; creates the API's tables on first use. */
  housekeepingDeps(): Promise<HousekeepingDeps>;
}

/** Tuning that is not an app setting (tests and benchmarks on the local stack). */
export interface CompositionOptions {
  /** How often ARM long-running operations are polled when ARM sends no Retry-After (default: the SDK's 2 s). */
  readonly armPollIntervalInMs?: number;
  /** ARM retries (default ARM_RETRY_DEFAULTS); tests that take ARM away shorten them to see the outage quickly. */
  readonly armRetryOptions?: { readonly maxRetries?: number; readonly retryDelayInMs?: number; readonly maxRetryDelayInMs?: number };
  /** Engine timings over DEFAULT_ENGINE_TIMINGS (the local stack shortens the first-poll delay). */
  readonly engineTimings?: Partial<EngineTimings>;
  readonly tableClientOptions?: TableServiceClientOptions;
}

/** Builds a composition over `s`; nothing is created until a getter is called. */
export function createComposition(s: Settings, options: CompositionOptions = {}): Composition {
  // ── Credential ──────────────────────────────────────────────────────────────────────────────────────────
  let credential: TokenCredential | undefined;
  const appCredential = (): TokenCredential =>
    (credential ??= createArmCredentialFromSettings(s));
  /** PEM of the local emulator's CA (ARM and its custom-topic sink), when PORTCULLIS_ARM_CA_FILE is set. */
  const localCaPem = (): string | undefined => (s.PORTCULLIS_ARM_CA_FILE === undefined ? undefined : readFileSync(s.PORTCULLIS_ARM_CA_FILE, "utf8"));

  // ── Telemetry ───────────────────────────────────────────────────────────────────────────────────────────
  let telemetryStarted: Promise<Telemetry> | undefined;
  const telemetry = (): Promise<Telemetry> =>
    (telemetryStarted ??= startTelemetry(s, () => (/(^|;)\s*Authorization\s*=\s*AAD\s*(;|$)/i.test(s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? "") ? appCredential() : undefined)));

  // ── ARM ─────────────────────────────────────────────────────────────────────────────────────────────────
  let arm: AzureArmPorts | undefined;
  const armPorts = (): AzureArmPorts =>
    (arm ??= createArmPorts({
      endpoint: s.PORTCULLIS_ARM_ENDPOINT,
      credential: appCredential(),
      caPem: localCaPem(),
      ...(options.armPollIntervalInMs !== undefined ? { pollIntervalInMs: options.armPollIntervalInMs } : {}),
      ...options.armRetryOptions,
    }));

  // Resource Graph only when chosen: the ARM listing needs no port of its own (the sweep and audit walk ArmPorts).
  let resourceGraph: InventoryPort | undefined;
  const inventory = (): InventoryPort | undefined =>
    s.PORTCULLIS_INVENTORY !== "resource-graph"
      ? undefined
      : (resourceGraph ??= createResourceGraphInventory({
          endpoint: s.PORTCULLIS_ARM_ENDPOINT,
          credential: appCredential(),
          caPem: localCaPem(),
          ...(options.armRetryOptions !== undefined ? { retryOptions: options.armRetryOptions } : {}),
          connectionsFromArm: { resourceTypes: CONNECTIONS_NOT_IN_RESOURCE_BODY, listConnections: (id, o) => armPorts().privateLink.listConnections(id, o) },
        }));

  // One cache of subscription → tenant hints per process, shared by every invocation (src/workflows/tenant-lookup.ts).
  let tenants: TenantLookup | undefined;
  const tenantLookup = (): TenantLookup => (tenants ??= createTenantLookup(armPorts().tenants, { clock: systemClock }));

  // ── Table Storage ───────────────────────────────────────────────────────────────────────────────────────
  const tableClient = (suffix: string) =>
    tableClientFor(s, suffix, { credential: appCredential(), ...(options.tableClientOptions ? { clientOptions: options.tableClientOptions } : {}) });
  let rules: RuleStore | undefined;
  const ruleStore = () => (rules ??= createTableRuleStore({ table: tableClient(RULES_TABLE_SUFFIX), clock: systemClock }));
  let decisions: DecisionLog | undefined;
  const decisionLog = () => (decisions ??= createTableDecisionLog(tableClient(DECISIONS_TABLE_SUFFIX)));
  let claims: ClaimStore | undefined;
  const claimStore = () => (claims ??= createTableClaimStore(tableClient(CLAIMS_TABLE_SUFFIX)));
  let engineTablesReady: Promise<void> | undefined;
  /** Creates the engine's tables if missing, once; a failure (storage down) is retried on the next call. */
  const ensureEngineTables = (): Promise<void> => {
    if (engineTablesReady === undefined) {
      const ready = Promise.all([RULES_TABLE_SUFFIX, DECISIONS_TABLE_SUFFIX, CLAIMS_TABLE_SUFFIX].map((suffix) => ensureTable(tableClient(suffix))));
      engineTablesReady = ready.then(() => undefined);
      ready.catch(() => (engineTablesReady = undefined));
    }
    return engineTablesReady;
  };

  // ── Notifications ───────────────────────────────────────────────────────────────────────────────────────
  let notifications: NotificationPublisher | undefined;
  const notificationPublisher = (): NotificationPublisher =>
    (notifications ??=
      s.PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT === undefined
        ? noNotifications
        : createEventGridNotificationPublisher({ endpoint: s.PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT, credential: appCredential(), caPem: localCaPem() }));

  // ── Approval engine ─────────────────────────────────────────────────────────────────────────────────────
  const engineDeps = async (log: EngineLogger): Promise<EngineDeps> => {
    await ensureEngineTables();
    const ports = armPorts();
    return instrumentEngineDeps({
      privateLink: ports.privateLink,
      network: ports.network,
      ruleStore: ruleStore(),
      claims: claimStore(),
      decisionLog: decisionLog(),
      notifications: notificationPublisher(),
      clock: systemClock,
      mode: s.PORTCULLIS_MODE,
      defaultAction: s.PORTCULLIS_DEFAULT_ACTION,
      scope: managedScopeOf(s),
      inventory: inventory(),
      armConcurrency: s.PORTCULLIS_ARM_CONCURRENCY,
      timings: { ...DEFAULT_ENGINE_TIMINGS, ...options.engineTimings },
      tenantLookup: tenantLookup(),
      newId: () => randomUUID().replace(/-/g, "").slice(0, 24),
      log,
    }, await telemetry());
  };

  // ── Compliance audit ────────────────────────────────────────────────────────────────────────────────────
  let auditTables: AuditTables | undefined;
  const auditTableClients = (): AuditTables =>
    (auditTables ??= {
      runs: tableClient(AUDIT_TABLE_SUFFIXES.runs),
      findings: tableClient(AUDIT_TABLE_SUFFIXES.findings),
      state: tableClient(AUDIT_TABLE_SUFFIXES.state),
    });
  let audits: AuditStore | undefined;
  const auditStore = (): AuditStore => (audits ??= createTableAuditStore(auditTableClients()));
  let complianceNotifications: ComplianceNotificationPublisher | undefined;
  const complianceNotificationPublisher = (): ComplianceNotificationPublisher =>
    (complianceNotifications ??=
      s.PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT === undefined
        ? noComplianceNotifications
        : createComplianceNotificationPublisher({ endpoint: s.PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT, credential: appCredential(), caPem: localCaPem() }));
  let auditTablesReady: Promise<void> | undefined;
  const ensureAuditTablesOnce = (): Promise<void> => {
    if (auditTablesReady === undefined) {
      const ready = Promise.all([ensureAuditTables(auditTableClients()), ensureDnsOwnershipTable(tableClient(DNS_OWNERSHIP_TABLE_SUFFIX))]).then(() => undefined);
      auditTablesReady = ready;
      ready.catch(() => (auditTablesReady = undefined));
    }
    return auditTablesReady;
  };
  const auditDeps = async (warn: (message: string) => void): Promise<AuditEstateDependencies> => {
    await Promise.all([ensureAuditTablesOnce(), ensureEngineTables()]);
    return {
      arm: armPorts(),
      auditStore: auditStore(),
      decisionLog: decisionLog(),
      dnsOwnership: createTableDnsOwnershipStore(tableClient(DNS_OWNERSHIP_TABLE_SUFFIX)),
      ruleStore: ruleStore(),
      notifications: complianceNotificationPublisher(),
      clock: systemClock,
      warn,
      inventory: inventory(),
    };
  };

  // ── HTTP API ────────────────────────────────────────────────────────────────────────────────────────────
  let authenticator: Authenticator | undefined;
  const apiAuthenticator = (): Authenticator =>
    (authenticator ??= createAuthenticator({
      issuer: s.PORTCULLIS_AUTH_ISSUER,
      audience: s.PORTCULLIS_AUTH_AUDIENCE,
      caPem: s.PORTCULLIS_AUTH_CA_FILE === undefined ? undefined : readFileSync(s.PORTCULLIS_AUTH_CA_FILE, "utf8"),
      trustAppServicePrincipal: s.WEBSITE_AUTH_ENABLED,
    }));
  let idempotency: IdempotencyStore | undefined;
  const idempotencyStore = () => (idempotency ??= createTableIdempotencyStore(tableClient(IDEMPOTENCY_TABLE_SUFFIX)));
  let operations: OperationStore | undefined;
  const operationStore = () => (operations ??= createTableOperationStore(tableClient(OPERATIONS_TABLE_SUFFIX)));
  let apiTablesReady: Promise<void> | undefined;
  const ensureApiTables = (): Promise<void> => {
    if (apiTablesReady === undefined) {
      const ready = Promise.all([IDEMPOTENCY_TABLE_SUFFIX, OPERATIONS_TABLE_SUFFIX].map((suffix) => ensureTable(tableClient(suffix))));
      apiTablesReady = ready.then(() => undefined);
      ready.catch(() => (apiTablesReady = undefined));
    }
    return apiTablesReady;
  };

  // ── Housekeeping ────────────────────────────────────────────────────────────────────────────────────────
  const housekeepingDeps = async (): Promise<HousekeepingDeps> => {
    await ensureApiTables();
    return {
      idempotencyStore: idempotencyStore(),
      operationStore: operationStore(),
      clock: systemClock,
      operationRetentionInMs: s.PORTCULLIS_OPERATION_RETENTION_DAYS * 24 * 60 * 60 * 1000,
    };
  };

  return {
    settings: s,
    appCredential,
    telemetry,
    armPorts,
    ruleStore,
    decisionLog,
    claimStore,
    notificationPublisher,
    engineDeps,
    auditStore,
    complianceNotificationPublisher,
    auditDeps,
    apiAuthenticator,
    idempotencyStore,
    operationStore,
    ensureApiTables,
    housekeepingDeps,
  };
}

/** The Azure Monitor adapter, imported only here and only when configured (it is most of the app's code by size). */
async function startTelemetry(s: Settings, credential: () => TokenCredential | undefined): Promise<Telemetry> {
  const connectionString = s.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (connectionString === undefined) return noTelemetry;
  try {
    const { startAzureMonitorTelemetry } = await import("./adapters/telemetry/azure-monitor.ts");
    return await startAzureMonitorTelemetry({ connectionString, credential: credential() });
  } catch (error) {
    console.error(`Telemetry could not start; Portcullis runs without it: ${error instanceof Error ? error.message : String(error)}`);
    return noTelemetry;
  }
}

let app: Composition | undefined;
/** The app's composition over settings() (process.env), created on first use. */
export function composition(): Composition {
  return (app ??= createComposition(settings()));
}

/** The app's compliance audit dependencies (what the audit's triggers call). */
export function auditDeps(warn: (message: string) => void): Promise<AuditEstateDependencies> {
  return composition().auditDeps(warn);
}

/** The app's approval engine (what the engine's triggers call). */
export function engineDeps(log: EngineLogger): Promise<EngineDeps> {
  return composition().engineDeps(log);
}

/** The app's housekeeping dependencies (what the housekeeping timer calls). */
export function housekeepingDeps(): Promise<HousekeepingDeps> {
  return composition().housekeepingDeps();
}
