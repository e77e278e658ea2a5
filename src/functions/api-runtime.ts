/**
 * What the HTTP API's handlers get: the framework's runtime (authenticator, idempotency store, clock) and the
 * services built from the composition (engine, operation store, the ticket pattern compiled once, the wait bound).
 * Built on the first request and kept; a failure (storage down while creating tables) is retried next time.
 */
import { randomUUID } from "node:crypto";
import type { Composition } from "../composition.ts";
import type { Settings } from "../config.ts";
import type { AuditStore } from "../ports/audit-store.ts";
import type { AuditReportSources } from "../workflows/audit-report.ts";
import type { AuditEstateDependencies } from "../workflows/audit-estate.ts";
import { systemClock } from "../ports/clock.ts";
import type { OperationStore } from "../ports/operation-store.ts";
import { ProblemError, type FieldLocation } from "../http/problem.ts";
import { routeFor, type ApiRuntime } from "../http/route.ts";
import type { EngineDeps, EngineLogger } from "../workflows/engine-deps.ts";

export interface ApiServices {
  engineDeps(log: EngineLogger): Promise<EngineDeps>;
  readonly operations: OperationStore;
  /** PORTCULLIS_TICKET_PATTERN, anchored at both ends so a ticket must match it whole. */
  readonly ticketPattern: RegExp;
  /** PORTCULLIS_APPROVAL_WAIT_MS: how long approve / reject / revoke wait for ARM before answering 202. */
  readonly approvalWaitInMs: number;
  /** How long GET /operations/{id} lets a running operation advance before answering. */
  readonly operationPollWaitInMs: number;
  newOperationId(): string;
  /** The compliance audit's dependencies (POST /audits), warning through `warn`. */
  auditDeps(warn: (message: string) => void): Promise<AuditEstateDependencies>;
  /** Where audit runs are stored (suppressions). */
  auditStore(): AuditStore;
  /** Where reports are read from (GET /reports/...): the audit's rows and the decision log. */
  reportSources(): AuditReportSources;
  /** The app settings the audit's options come from. */
  readonly settings: Settings;
}

/** Declares a route of the Portcullis API (see src/http/route.ts). */
export const apiRoute = routeFor<ApiServices>();

/** GET /operations/{id} answers within this bound (or the approval wait, if shorter). */
const OPERATION_POLL_WAIT_MS = 2_000;

async function buildRuntime(composition: Composition): Promise<ApiRuntime<ApiServices>> {
  await composition.ensureApiTables();
  const s = composition.settings;
  return {
    authenticator: composition.apiAuthenticator(),
    idempotency: composition.idempotencyStore(),
    clock: systemClock,
    services: {
      engineDeps: (log) => composition.engineDeps(log),
      operations: composition.operationStore(),
      ticketPattern: new RegExp(`^(?:${s.PORTCULLIS_TICKET_PATTERN})$`),
      approvalWaitInMs: s.PORTCULLIS_APPROVAL_WAIT_MS,
      operationPollWaitInMs: Math.min(OPERATION_POLL_WAIT_MS, Math.max(s.PORTCULLIS_APPROVAL_WAIT_MS, 1)),
      newOperationId: () => randomUUID(),
      auditDeps: (warn) => composition.auditDeps(warn),
      auditStore: () => composition.auditStore(),
      reportSources: () => ({ auditStore: composition.auditStore(), decisionLog: composition.decisionLog() }),
      settings: s,
    },
  };
}

/** The runtime over a composition, built once on first use. */
export function apiRuntimeOver(composition: () => Composition): () => Promise<ApiRuntime<ApiServices>> {
  let runtime: Promise<ApiRuntime<ApiServices>> | undefined;
  return () => {
    if (runtime === undefined) {
      const building = buildRuntime(composition());
      runtime = building;
      building.catch(() => (runtime = undefined));
    }
    return runtime;
  };
}

/** Refuses a ticket that does not match the deployment's pattern (400, naming the field). */
export function requireTicketPattern(ticket: string, services: ApiServices, location: FieldLocation, field: string): void {
  if (!services.ticketPattern.test(ticket)) {
    throw new ProblemError("validation", "The ticket reference does not match this deployment's ticket pattern.", {
      errors: [{ in: location, field, detail: `must match ${services.ticketPattern.source}` }],
    });
  }
}
