/**
 * The claim: one row per (connection, private endpoint) that makes every decision happen exactly once.
 *
 * A claim is changed only by conditional writes (insert-if-absent, or replace-if-ETag-unchanged), so of two
 * engines racing for the same connection exactly one wins and the other does nothing. It holds:
 * - a lease while someone acts: the full intent (action, actor, target status, description, ticket, ...),
 *   written BEFORE the ARM write, with an expiry so a crash never blocks the connection for good; an
 *   expired lease can be taken over, and its intent lets a later run record a write that did happen;
 * - what the decision log already holds (`recordedStatus`, `marks`), so a record is written once.
 *
 *   (absent) ──take──▶ leased(intent) ──settle──▶ idle{recordedStatus, marks}
 *                         │  ▲  └─ release (transient failure) ─▶ idle (unchanged)
 *                         │  └── take over once expiresAt has passed
 *   idle ──take──▶ leased ...
 *
 * Pure: no I/O; the store port (src/ports/claim-store.ts) does the conditional writes.
 */
import { z } from "zod";
import { decisionRecordFields, type RecordedStatus } from "./decision.ts";
import { resourceIdKey } from "../resource-id.ts";

/** Identifies a claim: a connection as requested by one particular private endpoint. */
export interface ClaimKey {
  readonly connectionId: string;
  /** undefined when ARM did not name the endpoint; the claim is then keyed by the connection alone. */
  readonly privateEndpointId: string | undefined;
}

/**
 * What the lease holder is doing; enough to write the decision record without the holder: the record's own
 * fields (decisionRecordFields) plus what the ARM write sets. The type is inferred from the schema, which the
 * claim store parses stored leases with.
 */
export const claimIntentSchema = decisionRecordFields
  .pick({
    action: true,
    mode: true,
    actor: true,
    actorName: true,
    actorAppId: true,
    ruleId: true,
    ruleVersion: true,
    ticket: true,
    requestedBy: true,
    reason: true,
    explanation: true,
    statusBefore: true,
    requesterSubscriptionId: true,
    requesterTenantId: true,
    requesterTenantSource: true,
    triggeringEventIds: true,
    correlationId: true,
  })
  .extend({
    /** Status the ARM write will leave the connection in; undefined when no ARM write is intended. */
    targetStatus: z.enum(["Approved", "Rejected"]).optional(),
    /** The description the ARM write sets (how a later run recognises the write as ours). */
    description: z.string().optional(),
  })
  .readonly();

export type ClaimIntent = z.output<typeof claimIntentSchema>;

export interface ClaimLease {
  /** Unique per attempt; the holder proves ownership with it. */
  readonly owner: string;
  readonly startedAt: Date;
  readonly expiresAt: Date;
  readonly intent: ClaimIntent;
  /**
   * The ARM operation the lease's write started (the port's serialized state), kept once the holder could not see
   * it to its end, so whoever takes the claim over resumes it before deciding anything.
   */
  readonly operation?: string | undefined;
}

/** A claim as stored (without its ETag). */
export interface ClaimState extends ClaimKey {
  readonly resourceId: string;
  readonly lease: ClaimLease | undefined;
  /** The last status the decision log holds for this connection (a decision applied or observed). */
  readonly recordedStatus: RecordedStatus | undefined;
  /** Record-once marks of what was logged while the connection was Pending (see pendingMarks). */
  readonly marks: readonly string[];
  /** An automatic action that ARM refused is not retried before this time. */
  readonly retryNotBefore: Date | undefined;
  readonly updatedAt: Date;
}

/** A claim as read from the store: its state and the ETag its next conditional write must match. */
export interface ConnectionClaim extends ClaimState {
  readonly etag: string;
}

/** The mark recorded once when a connection is left for a human (manual action, or rules failing closed). */
export const AWAITING_MANUAL_MARK = "awaiting-manual";

/** Marks kept per claim; older ones are dropped first (a dropped mark can only cause one repeated record). */
export const MAX_MARKS = 32;

/** The canonical string of a claim key, for maps and storage keys. */
export function claimKeyString(key: ClaimKey): string {
  return `${resourceIdKey(key.connectionId)}|${key.privateEndpointId === undefined ? "-" : resourceIdKey(key.privateEndpointId)}`;
}

/** True while a lease is held and not yet expired: nobody else may act on the connection. */
export function isLeaseActive(claim: ClaimState | undefined, now: Date): boolean {
  return claim?.lease !== undefined && claim.lease.expiresAt.getTime() > now.getTime();
}

/**
 * True while another run holds the claim. A run may finish what its own lease started (same correlation ID), e.g.
 * a sweep retrying a connection whose ARM write landed but whose polling failed.
 */
export function isLeaseHeldByAnotherRun(claim: ClaimState | undefined, now: Date, correlationId: string): boolean {
  return isLeaseActive(claim, now) && claim!.lease!.intent.correlationId !== correlationId;
}

/** Adds marks, keeping the newest MAX_MARKS and no duplicates. */
export function withMarks(existing: readonly string[], added: readonly string[]): readonly string[] {
  const merged = [...existing.filter((m) => !added.includes(m)), ...added];
  return merged.slice(Math.max(0, merged.length - MAX_MARKS));
}

/**
 * True when an expired lease's ARM write evidently happened: the connection shows the intended status and
 * exactly the description the holder wrote. Used to record a decision whose holder stopped before recording it.
 */
export function leaseWriteLanded(lease: ClaimLease, observed: { readonly status: RecordedStatus; readonly description: string | undefined }): boolean {
  return (
    lease.intent.targetStatus !== undefined &&
    lease.intent.targetStatus === observed.status &&
    lease.intent.description !== undefined &&
    lease.intent.description === observed.description
  );
}
