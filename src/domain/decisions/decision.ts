/**
 * The decision log's vocabulary: what one record of the append-only log says about one connection.
 *
 * A record is written only for something that happened: an ARM write that ARM confirmed (`applied`),
 * one that ARM refused (`failed`), a decision deliberately not applied (`would-apply`: dry-run mode or an
 * audit-mode rule), a connection left for a human (`manual` + `skipped`), or a change someone else made
 * (`out-of-band`). Pure types and helpers; no I/O.
 */
import { z } from "zod";
import type { ConnectionStatus } from "../model.ts";

export const DECISION_MODES = ["enforce", "audit", "dry-run"] as const;
/** `enforce` acts; `audit` (a rule's mode) and `dry-run` (the global mode) record what would have happened. */
export type DecisionMode = (typeof DECISION_MODES)[number];

export const DECISION_ACTIONS = ["approve", "reject", "manual", "revoke", "delete"] as const;
/** approve / reject a Pending connection, leave it for a human, revoke an approved one, or note its deletion. */
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

export const DECISION_OUTCOMES = ["applied", "would-apply", "skipped", "failed"] as const;
export type DecisionOutcome = (typeof DECISION_OUTCOMES)[number];

export const RECORDED_STATUSES = ["Pending", "Approved", "Rejected", "Deleted"] as const;
/** A connection's status as the log records it; `Deleted` once the connection is gone. */
export type RecordedStatus = ConnectionStatus | "Deleted";

/** The person or application behind a manual decision (from the API caller's validated token). */
export interface HumanActor {
  readonly objectId: string;
  readonly appId?: string | undefined;
  readonly name?: string | undefined;
}

/** A point in time: a Date, or its ISO 8601 form with an offset (as JSON carries it). */
const instant = z.union([z.date(), z.iso.datetime({ offset: true }).transform((value) => new Date(value))]);
const text = z.string().optional();

/**
 * One entry of the decision log: the schema is the definition (the type below is inferred from it). It parses a
 * record as stored or carried as JSON (ISO timestamps become Dates); the API's view (src/functions/api-views.ts)
 * derives from decisionRecordFields.
 */
export const decisionRecordFields = z.object({
    /** Unique and sortable by time (see decisionRecordId). */
    id: z.string().min(1),
    connectionId: z.string().min(1),
    resourceId: z.string().min(1),
    privateEndpointId: text,
    requesterSubscriptionId: text,
    requesterTenantId: text,
    /** Where requesterTenantId came from: a consumer-side event, or a hint from ARM's 401 challenge (absent: unknown or older record). */
    requesterTenantSource: z.enum(["event", "arm-challenge"]).optional(),
    ruleId: text,
    ruleVersion: z.int().optional(),
    action: z.enum(DECISION_ACTIONS),
    mode: z.enum(DECISION_MODES),
    /** `rule:ID`, `default`, `fail-closed`, `out-of-band` or `principal:OBJECT-ID` (see the *Actor helpers). */
    actor: z.string().min(1),
    /** Display name and app ID of a human actor, when the token carried them. */
    actorName: text,
    actorAppId: text,
    /** Change ticket reference (manual decisions). */
    ticket: text,
    /** Who asked for the manual decision, when someone other than the actor. */
    requestedBy: text,
    /** Why, in one sentence (the rule's reason, the human's reason, or what was observed). */
    reason: z.string(),
    /** How the evaluator arrived at it, step by step. */
    explanation: z.array(z.string()).readonly(),
    triggeringEventIds: z.array(z.string()).readonly(),
    correlationId: z.string(),
    statusBefore: z.enum(RECORDED_STATUSES).optional(),
    statusAfter: z.enum(RECORDED_STATUSES).optional(),
    outcome: z.enum(DECISION_OUTCOMES),
    /** What ARM answered when it refused: its status and code (never its message). */
    error: text,
    /** When the decision began (lease taken, or the observation made). */
    startedAt: instant,
    recordedAt: instant,
});

/**
 * Records written before Portcullis governed more than API Management named the connection's resource `serviceId`;
 * they are read as `resourceId`, so a log keeps its history across the upgrade.
 */
export function withLegacyResourceId(raw: unknown): unknown {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || "resourceId" in raw || !("serviceId" in raw)) return raw;
  const { serviceId, ...rest } = raw as Record<string, unknown>;
  return { ...rest, resourceId: serviceId };
}

export const decisionRecordSchema = z.preprocess(withLegacyResourceId, decisionRecordFields.readonly());

/** One entry of the decision log. */
export type DecisionRecord = z.output<typeof decisionRecordSchema>;

/** The CloudEvents types Portcullis publishes about connections (optional notifications). */
export const CONNECTION_NOTIFICATION_TYPES = [
  "Portcullis.Connection.Approved",
  "Portcullis.Connection.Rejected",
  "Portcullis.Connection.AwaitingManualApproval",
  "Portcullis.Connection.DecisionFailed",
] as const;

export type ConnectionNotificationType = (typeof CONNECTION_NOTIFICATION_TYPES)[number];

export const DEFAULT_ACTOR = "default";
export const FAIL_CLOSED_ACTOR = "fail-closed";
export const OUT_OF_BAND_ACTOR = "out-of-band";

/** The actor string of an automatic decision by a rule. */
export function ruleActor(ruleId: string): string {
  return `rule:${ruleId}`;
}

/** The actor string of a human (or application) identified by its Entra object ID. */
export function principalActor(objectId: string): string {
  return `principal:${objectId}`;
}

/** True for the record that says a connection was left for a human; the first one dates "pending since". */
export function isAwaitingManualRecord(record: DecisionRecord): boolean {
  return record.action === "manual";
}

/** The status an action leaves a connection in when applied. */
export function targetStatusOf(action: "approve" | "reject" | "revoke"): "Approved" | "Rejected" {
  return action === "approve" ? "Approved" : "Rejected";
}

/**
 * A record ID that sorts by time: the decision's start time in fixed-width UTC, then a unique suffix (at most
 * 48 letters and digits).
 * Table Storage keys and listings rely on the sort.
 */
export function decisionRecordId(startedAt: Date, unique: string): string {
  return `${startedAt.toISOString().replace(/[-:.]/g, "")}-${unique.replace(/[^A-Za-z0-9]/g, "").slice(0, 48)}`;
}

const MAX_DESCRIPTION_LENGTH = 256;

/**
 * The text written into privateLinkServiceConnectionState.description, so whoever looks at the connection
 * in the portal sees who decided and why. Kept short; Azure shows it in one line.
 */
export function connectionDescription(input: {
  readonly action: "approve" | "reject" | "revoke";
  readonly actor: string;
  readonly ruleVersion?: number | undefined;
  readonly actorName?: string | undefined;
  readonly ticket?: string | undefined;
  readonly reason: string;
}): string {
  const verb = input.action === "approve" ? "Approved" : input.action === "reject" ? "Rejected" : "Revoked";
  const by = input.actor.startsWith("rule:")
    ? `Portcullis rule ${input.actor.slice("rule:".length)}${input.ruleVersion !== undefined ? ` v${input.ruleVersion}` : ""}`
    : input.actor === DEFAULT_ACTOR
      ? "Portcullis default action"
      : `${input.actorName ?? input.actor} via Portcullis`;
  const ticket = input.ticket !== undefined ? ` [${input.ticket}]` : "";
  const text = `${verb} by ${by}${ticket}: ${input.reason}`.replace(/[\u0000-\u001f\u007f]+/g, " ");
  return text.length > MAX_DESCRIPTION_LENGTH ? `${text.slice(0, MAX_DESCRIPTION_LENGTH - 1)}…` : text;
}
