/**
 * zod schemas for what the audit stores, used when reading it back: a row edited by hand (a suppression
 * added with Storage Explorer) or written by an older version is checked at the boundary, not trusted.
 */
import { z } from "zod";
import { CHECK_IDS, type CheckId } from "./checks.ts";
import { FINDING_STATUSES, SEVERITIES, type Finding, type Suppression } from "./findings.ts";
import { REMEDIATIONS, type PlannedChange } from "./plan.ts";
import type { AuditRunSummary, InstanceSummary, RemediationRecord } from "./run.ts";
import type { ConnectionSighting } from "./sightings.ts";

const isoTime = z.iso.datetime({ offset: true });
const checkId = z.enum(CHECK_IDS as [CheckId, ...CheckId[]]);
const severity = z.enum(SEVERITIES);
const optionalString = z.string().optional();

export const suppressionSchema = z.object({
  findingId: z.string().min(1).max(200),
  reason: z.string().min(1).max(2000),
  owner: z.string().min(1).max(200),
  expiresAt: isoTime,
  createdAt: isoTime,
  createdBy: z.object({ objectId: z.string().min(1), appId: optionalString, name: optionalString }).optional(),
  ticket: optionalString,
}) satisfies z.ZodType<Suppression>;

export const findingSchema = z.object({
  id: z.string().min(1),
  checkId,
  severity,
  instanceId: optionalString,
  resourceType: optionalString,
  resourceId: z.string().min(1),
  message: z.string(),
  evidence: z.object({ expected: z.string(), actual: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
  remediation: z.object({ portal: z.string(), azCli: z.string() }),
  status: z.enum(FINDING_STATUSES),
  firstSeenAt: isoTime,
  lastSeenAt: isoTime,
  resolvedAt: isoTime.optional(),
  suppression: suppressionSchema.optional(),
  notEvaluated: z.object({ reason: z.string() }).optional(),
}) satisfies z.ZodType<Finding, unknown>;

export const sightingSchema = z.object({
  connectionId: z.string().min(1),
  status: z.enum(["Pending", "Approved", "Rejected"]),
  firstSeenAt: isoTime,
}) satisfies z.ZodType<ConnectionSighting>;

const connectionCounts = z.object({ total: z.number().int(), pending: z.number().int(), approved: z.number().int(), rejected: z.number().int() });

export const instanceSummarySchema = z.object({
  instanceId: z.string().min(1),
  resourceType: optionalString,
  name: z.string(),
  readable: z.boolean(),
  skuName: optionalString,
  platformVersion: optionalString,
  virtualNetworkType: optionalString,
  publicNetworkAccess: optionalString,
  connections: connectionCounts,
  openFindings: z.number().int(),
  score: z.number(),
}) satisfies z.ZodType<InstanceSummary, unknown>;

const outcomes = z.enum(["applied", "dry-run", "skipped-concurrent-change", "refused", "failed"]);

export const runSummarySchema = z.object({
  runId: z.string().min(1),
  startedAt: isoTime,
  finishedAt: isoTime,
  trigger: z.enum(["timer", "manual"]),
  requestedBy: optionalString,
  mode: z.enum(["enforce", "dry-run"]),
  instances: z.number().int(),
  unreadableInstances: z.number().int(),
  connections: connectionCounts,
  findings: z.object({
    open: z.number().int(),
    suppressed: z.number().int(),
    resolved: z.number().int(),
    // Runs stored before "not evaluated" existed have no count.
    notEvaluated: z.number().int().default(0),
  }),
  openBySeverity: z.object({ critical: z.number().int(), high: z.number().int(), medium: z.number().int(), low: z.number().int(), info: z.number().int() }),
  openByCheck: z.partialRecord(checkId, z.number().int()),
  opened: z.number().int(),
  resolvedInRun: z.number().int(),
  remediations: z.record(outcomes, z.number().int()),
  score: z.number(),
}) satisfies z.ZodType<AuditRunSummary, unknown>;

const ips = z.array(z.string());
const findingIds = z.array(z.string());

export const plannedChangeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("disable-public-network-access"), remediation: z.literal(REMEDIATIONS[0]), instanceId: z.string(), value: optionalString, findingIds }),
  z.object({
    kind: z.literal("put-a-record"),
    remediation: z.literal(REMEDIATIONS[1]),
    instanceId: z.string(),
    zoneId: z.string(),
    recordName: z.string(),
    ipv4Addresses: ips,
    previousIpv4Addresses: ips.optional(),
    ifMatch: optionalString,
    ifNoneMatch: z.literal("*").optional(),
    ttl: z.number().int(),
    metadata: z.record(z.string(), z.string()),
    findingIds,
  }),
  z.object({
    kind: z.literal("delete-a-record"),
    remediation: z.literal(REMEDIATIONS[1]),
    instanceId: z.string(),
    zoneId: z.string(),
    recordName: z.string(),
    previousIpv4Addresses: ips,
    ifMatch: z.string(),
    findingIds,
  }),
]) satisfies z.ZodType<PlannedChange, unknown>;

export const remediationRecordSchema = z.object({
  runId: z.string().min(1),
  sequence: z.number().int(),
  recordedAt: isoTime,
  actor: z.string(),
  change: plannedChangeSchema,
  outcome: outcomes,
  message: optionalString,
}) satisfies z.ZodType<RemediationRecord, unknown>;
