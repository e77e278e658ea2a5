/**
 * The names operators query: span names, attribute keys and metric definitions, in one place. docs/operations.md's
 * Kusto queries and alert rules use exactly these (test/telemetry checks the doc names only names defined here).
 *
 * In Application Insights, trigger spans (kind server/consumer) land in `requests`, decision and ARM spans in
 * `dependencies`, attributes in `customDimensions`, metrics in `customMetrics` (value aggregated per minute).
 */
import type { MetricDefinition } from "../ports/telemetry.ts";

export const SPAN = {
  /** One decision about one connection: claim taken -> ARM write -> records appended (child of the trigger span). */
  decision: "portcullis.decision",
  /** The approve/reject PUT and its long-running operation (child of the decision span). */
  armWrite: "portcullis.arm.set_connection_status",
} as const;

export const ATTR = {
  functionName: "faas.name",
  trigger: "faas.trigger",
  invocationId: "faas.invocation_id",
  /** The ID every record of one run carries (the Functions invocation ID). */
  correlationId: "portcullis.correlation.id",
  /** The Event Grid event that started an invocation. */
  eventId: "portcullis.event.id",
  /** The events that led to one decision (a decision may merge several). */
  eventIds: "portcullis.event.ids",
  eventType: "portcullis.event.type",
  connectionId: "portcullis.connection.id",
  /** The resource the connection belongs to, of any governed type (named when only APIM services were governed). */
  resourceId: "portcullis.service.id",
  /** That resource's ARM type as the provider registry spells it. */
  resourceType: "portcullis.resource.type",
  privateEndpointId: "portcullis.private_endpoint.id",
  ruleId: "portcullis.rule.id",
  ruleVersion: "portcullis.rule.version",
  /** `rule:ID`, `default`, `fail-closed`, `out-of-band` or `principal:OBJECT-ID`. */
  actor: "portcullis.actor",
  /** The actor's kind without its ID: rule, default, fail-closed, out-of-band, principal. */
  actorKind: "portcullis.actor.kind",
  action: "portcullis.action",
  mode: "portcullis.mode",
  /** applied, would-apply, skipped, failed (the decision record's outcome). */
  outcome: "portcullis.outcome",
  statusBefore: "portcullis.status.before",
  statusAfter: "portcullis.status.after",
  decisionId: "portcullis.decision.id",
  error: "portcullis.error",
  /** The status an ARM write asks for (Approved, Rejected). */
  targetStatus: "portcullis.arm.target_status",
  /** Why a claim was not taken (another run holds it): the decision did not happen here. */
  claimLost: "portcullis.claim.lost",
  ruleSetUsable: "portcullis.rule_set.usable",
  /** Which inventory a sweep used: arm-listing or resource-graph (PORTCULLIS_INVENTORY). */
  inventory: "portcullis.inventory",
  httpMethod: "http.request.method",
  httpRoute: "http.route",
  httpStatus: "http.response.status_code",
  sweepConnections: "portcullis.sweep.connections",
  sweepAwaitingManual: "portcullis.sweep.awaiting_manual",
  sweepFailures: "portcullis.sweep.failures",
  auditRunId: "portcullis.audit.run_id",
  auditTrigger: "portcullis.audit.trigger",
} as const;

export const METRIC = {
  decisions: {
    name: "portcullis.decisions",
    kind: "counter",
    unit: "{decision}",
    description: "Decision records appended, by outcome, action, mode, actor kind and rule",
  },
  pendingAge: {
    name: "portcullis.connection.pending_age",
    kind: "histogram",
    unit: "s",
    description: "How long each connection the sweep left for a human has been Pending (since Portcullis first recorded it)",
  },
  sweepDuration: {
    name: "portcullis.sweep.duration",
    kind: "histogram",
    unit: "s",
    description: "Wall time of one reconcile sweep, with whether the rule set was usable, whether anything failed and which inventory it used",
  },
  auditScore: {
    name: "portcullis.audit.score",
    kind: "gauge",
    unit: "1",
    description: "The compliance score (0-100) of the latest audit run",
  },
} as const satisfies Record<string, MetricDefinition>;

/** The kind part of an actor string (`rule:x` -> `rule`, `principal:y` -> `principal`). */
export function actorKind(actor: string): string {
  const colon = actor.indexOf(":");
  return colon === -1 ? actor : actor.slice(0, colon);
}
