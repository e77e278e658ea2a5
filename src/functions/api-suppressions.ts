/**
 * Finding suppressions over HTTP: list them (Reader), set or replace one on a finding an audit recorded, and remove
 * one (Admin). A suppression names a reason, the owner who answers for the risk and an expiry at most
 * MAX_SUPPRESSION_DAYS ahead; writes carry a `Portcullis-Ticket` header, as rule writes do, and record the caller
 * (from the token) and the time. The change applies from the next audit run (timer, POST /api/audits); stored runs
 * and their reports are not rewritten.
 */
import { z } from "zod";
import { FINDING_STATUSES, SEVERITIES } from "../domain/audit/findings.ts";
import { FINDING_ID_PATTERN, MAX_SUPPRESSION_DAYS, suppressionExpiryProblem, type SuppressionEntry } from "../domain/audit/suppressions.ts";
import { refuseUnsafeText } from "../domain/text-safety.ts";
import { ProblemError, problemResponse } from "../http/problem.ts";
import type { ApiRoute } from "../http/route.ts";
import { systemClock } from "../ports/clock.ts";
import { listSuppressionEntries, suppressFinding, unsuppressFinding } from "../workflows/suppressions.ts";
import { apiRoute, requireTicketPattern, type ApiServices } from "./api-runtime.ts";
import { ticketSchema } from "./api-views.ts";

const TICKET_HEADER = "portcullis-ticket";
const timestamp = z.iso.datetime({ offset: true });

const findingParams = z.strictObject({
  findingId: z
    .string()
    .max(200, "a finding ID has at most 200 characters")
    .regex(FINDING_ID_PATTERN, "a finding ID as reports show it: a check ID and 20 hex digits, e.g. public-network-access-0123456789abcdef0123")
    .meta({ description: "The finding's stable ID (from a report)." }),
});

const writeHeaders = z.object({
  [TICKET_HEADER]: ticketSchema.meta({ description: "Change ticket for this suppression change (recorded with the suppression)." }),
});

/** Body of PUT /suppressions/{findingId}; the expiry's range is checked against the clock in the handler. */
export const suppressionBodySchema = z
  .strictObject({
    reason: z
      .string()
      .superRefine(refuseUnsafeText("a reason"))
      .trim()
      .min(1, "a reason is required")
      .max(2000, "a reason has at most 2000 characters")
      .meta({ description: "Why the risk is accepted for now." }),
    owner: z
      .string()
      .superRefine(refuseUnsafeText("an owner"))
      .trim()
      .min(1, "an owner is required")
      .max(200, "an owner has at most 200 characters")
      .meta({ description: "Who answers for the risk while it is suppressed (a person or team, e.g. an e-mail address)." }),
    expiresAt: timestamp.meta({
      description: `When the suppression ends and the finding reopens: an ISO 8601 timestamp with a time zone, in the future and at most ${MAX_SUPPRESSION_DAYS} days ahead.`,
    }),
  })
  .meta({ description: "A suppression of one finding." });

const actorSchema = z.object({ objectId: z.string(), appId: z.string().optional(), name: z.string().optional() });

export const suppressionEntrySchema = z
  .object({
    findingId: z.string(),
    reason: z.string(),
    owner: z.string(),
    expiresAt: timestamp,
    createdAt: timestamp,
    createdBy: actorSchema.optional().meta({ description: "Who set it; absent on suppressions added to storage by hand." }),
    ticket: z.string().optional(),
    expired: z.boolean().meta({ description: "The expiry has passed: the finding is open again from the next audit run." }),
    finding: z
      .object({
        checkId: z.string(),
        severity: z.enum(SEVERITIES),
        resourceId: z.string(),
        instanceId: z.string().optional(),
        message: z.string(),
        status: z.enum(FINDING_STATUSES).meta({ description: "The finding's status in runId; a suppression change shows from the next run." }),
        notEvaluated: z
          .object({ reason: z.string() })
          .optional()
          .meta({ description: "Set when runId could not evaluate the finding (e.g. its DNS zone was not examined): carried from the run before, neither confirmed nor fixed." }),
        runId: z.string(),
      })
      .optional()
      .meta({ description: "The suppressed finding as the latest run recorded it; absent when that run did not see it." }),
  })
  .meta({ description: "A finding suppression." });

export const suppressionListSchema = z.object({
  latestRunId: z.string().optional().meta({ description: "The run the findings are described from; absent before the first audit." }),
  items: z.array(suppressionEntrySchema).meta({ description: "Every suppression, soonest expiry first." }),
});

export type SuppressionEntryView = z.output<typeof suppressionEntrySchema>;

/** The JSON form of a suppression entry (also what the CLI prints with --json). */
export function suppressionEntryView(entry: SuppressionEntry): SuppressionEntryView {
  return JSON.parse(JSON.stringify({ ...entry.suppression, expired: entry.expired, finding: entry.finding })) as SuppressionEntryView;
}

export const listSuppressions = apiRoute({
  name: "listSuppressions",
  method: "GET",
  route: "suppressions",
  summary: "List the finding suppressions",
  description: "Every stored suppression, whether it has expired, and its finding's check and resource where the latest audit run recorded it.",
  tags: ["audits"],
  role: "Portcullis.Reader",
  responses: { 200: { description: "The suppressions.", schema: suppressionListSchema } },
  async handle(_input, { services, log }) {
    const { auditStore } = await services.auditDeps((message) => log.warn(message));
    const listing = await listSuppressionEntries(auditStore, systemClock.now());
    return { status: 200, body: { ...(listing.latestRunId !== undefined ? { latestRunId: listing.latestRunId } : {}), items: listing.entries.map(suppressionEntryView) } };
  },
});

export const putSuppression = apiRoute({
  name: "putSuppression",
  method: "PUT",
  route: "suppressions/{findingId}",
  summary: "Suppress a finding until an expiry (create or replace)",
  description:
    "The finding must have been recorded by an audit run. Records the caller and the Portcullis-Ticket. The finding shows as suppressed from the next audit run; when the suppression expires it reopens.",
  tags: ["audits"],
  role: "Portcullis.Admin",
  params: findingParams,
  headers: writeHeaders,
  body: suppressionBodySchema,
  check: ({ headers }, services) => requireTicketPattern(headers[TICKET_HEADER], services, "header", "Portcullis-Ticket"),
  responses: {
    200: { description: "Replaced an earlier suppression of the finding.", schema: suppressionEntrySchema },
    201: { description: "Suppressed.", schema: suppressionEntrySchema },
    404: { description: "No audit run recorded a finding with this ID." },
  },
  async handle({ params, headers, body, principal }, { services, log, correlationId }) {
    const now = systemClock.now();
    const problem = suppressionExpiryProblem(body.expiresAt, now);
    if (problem !== undefined) {
      throw new ProblemError("validation", "The suppression's expiry is out of range.", { errors: [{ in: "body", field: "expiresAt", detail: problem }] });
    }
    const { auditStore } = await services.auditDeps((message) => log.warn(message));
    const result = await suppressFinding(
      auditStore,
      { ...body, findingId: params.findingId, actor: { objectId: principal.objectId, appId: principal.appId, name: principal.name }, ticket: headers[TICKET_HEADER] },
      now,
    );
    if (result.kind === "unknown-finding") return problemResponse("not-found", `No audit run has recorded a finding ${params.findingId}.`, { correlationId });
    log.info(`suppressed ${params.findingId} until ${result.entry.suppression.expiresAt} by principal:${principal.objectId} [${headers[TICKET_HEADER]}]`);
    return { status: result.created ? 201 : 200, body: suppressionEntryView(result.entry) };
  },
});

export const deleteSuppression = apiRoute({
  name: "deleteSuppression",
  method: "DELETE",
  route: "suppressions/{findingId}",
  summary: "Remove a finding's suppression",
  description: "The finding is open again from the next audit run. The removal (caller and Portcullis-Ticket) is written to the app's log.",
  tags: ["audits"],
  role: "Portcullis.Admin",
  params: findingParams,
  headers: writeHeaders,
  check: ({ headers }, services) => requireTicketPattern(headers[TICKET_HEADER], services, "header", "Portcullis-Ticket"),
  responses: {
    204: { description: "Removed." },
    404: { description: "The finding has no suppression." },
  },
  async handle({ params, headers, principal }, { services, log, correlationId }) {
    const { auditStore } = await services.auditDeps((message) => log.warn(message));
    const removed = await unsuppressFinding(auditStore, params.findingId);
    if (removed === undefined) return problemResponse("not-found", `The finding ${params.findingId} has no suppression.`, { correlationId });
    log.info(`removed the suppression of ${params.findingId} (owner ${removed.owner}, until ${removed.expiresAt}) by principal:${principal.objectId} [${headers[TICKET_HEADER]}]`);
    return { status: 204 };
  },
});

/** The suppression routes, in the order the API document lists them. */
export const suppressionRoutes: readonly ApiRoute<ApiServices>[] = [listSuppressions, putSuppression, deleteSuppression];
