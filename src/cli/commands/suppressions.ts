/**
 * `portcullis audit suppress | unsuppress | suppressions`: finding suppressions through the same workflow and checks
 * as the HTTP API (PUT / DELETE / GET /api/suppressions): a reason, an owner, an expiry at most MAX_SUPPRESSION_DAYS
 * ahead, a finding an audit recorded, and the signed-in identity recorded as who set it. Changes apply from the
 * next audit run.
 */
import type { Command } from "commander";
import { FINDING_ID_PATTERN, MAX_SUPPRESSION_DAYS, suppressionExpiryProblem, type SuppressionEntry } from "../../domain/audit/suppressions.ts";
import { shortName } from "../../domain/reports/report.ts";
import type { AuditStore } from "../../ports/audit-store.ts";
import type { CommandContext } from "../context.ts";
import { requireTicketMatches } from "../ticket.ts";
import { CliError, EXIT } from "../exit-codes.ts";
import { withExamples, type CommandHost } from "../program.ts";
import { renderTable, toJson } from "../terminal.ts";

const DAY_MS = 86_400_000;
const NEXT_RUN_NOTE = "it applies from the next audit run (`portcullis audit run`, or the daily timer)";

/** The flag each field of the API's body comes from. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = { reason: "reason", owner: "owner", expiresAt: "expires" };

/** Suppressions live in storage only; no managed scope is needed. */
const STORAGE_ONLY = { scope: false } as const;

interface SuppressOptions {
  readonly reason: string;
  readonly owner: string;
  readonly expires: string;
  readonly ticket?: string;
  readonly json?: boolean;
}

/** True for a real calendar day (Date.parse would roll 2025-02-31 over into March). */
function isCalendarDate(text: string): boolean {
  const parsed = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(text);
}

/**
 * `--expires` as typed: `30d` (days from now), a date `2025-12-31` (midnight UTC at its start), or an ISO 8601
 * timestamp with a time zone. Returns the ISO timestamp; a usage error otherwise.
 */
export function parseExpires(text: string, now: Date): string {
  const days = /^(\d{1,4})d$/.exec(text);
  if (days !== null) return new Date(now.getTime() + Number(days[1]) * DAY_MS).toISOString();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text) && isCalendarDate(text)) return `${text}T00:00:00.000Z`;
  if (/^\d{4}-\d{2}-\d{2}T.+(?:Z|[+-]\d{2}:\d{2})$/.test(text) && !Number.isNaN(Date.parse(text))) return text;
  throw new CliError(EXIT.usage, `--expires "${text}" is not a number of days (30d), a date (2025-12-31) or an ISO 8601 timestamp with a time zone.`);
}

/** Checks the finding ID, reason, owner, expiry and ticket with the HTTP API's own schemas and policy. */
async function validatedRequest(context: CommandContext, findingId: string, options: SuppressOptions, now: Date) {
  const { suppressionBodySchema } = await import("../../functions/api-suppressions.ts");
  if (!FINDING_ID_PATTERN.test(findingId)) {
    throw new CliError(EXIT.usage, `"${findingId}" is not a finding ID: a check ID and 20 hex digits, as the ID column of \`portcullis report show\` shows.`);
  }
  const expiresAt = parseExpires(options.expires, now);
  const parsed = suppressionBodySchema.safeParse({ reason: options.reason, owner: options.owner, expiresAt });
  if (!parsed.success) throw new CliError(EXIT.usage, parsed.error.issues.map((issue) => `--${FLAG_OF_FIELD[String(issue.path[0])] ?? String(issue.path[0])}: ${issue.message}`).join("\n"));
  const problem = suppressionExpiryProblem(expiresAt, now);
  if (problem !== undefined) throw new CliError(EXIT.usage, `--expires ${problem}`);
  if (options.ticket !== undefined) requireTicket(context, options.ticket);
  return parsed.data;
}

/** The deployment's ticket pattern, anchored as the API compiles it (src/functions/api-runtime.ts). */
function requireTicket(context: CommandContext, ticket: string): void {
  requireTicketMatches("--ticket", ticket, context.target.settings.PORTCULLIS_TICKET_PATTERN);
}

/** The audit store after its tables are ensured (writes). */
async function storeForWriting(context: CommandContext): Promise<AuditStore> {
  const { terminal } = context;
  return (await context.services.auditDeps((message) => terminal.info(terminal.errStyle.yellow(`warning: ${message}`)))).auditStore;
}

async function suppress(context: CommandContext, findingId: string, options: SuppressOptions): Promise<void> {
  const now = new Date();
  const body = await validatedRequest(context, findingId, options, now);
  const [{ suppressFinding }, { suppressionEntryView }] = await Promise.all([import("../../workflows/suppressions.ts"), import("../../functions/api-suppressions.ts")]);
  const result = await suppressFinding(
    await storeForWriting(context),
    { ...body, findingId, actor: context.identity.actor, ...(options.ticket !== undefined ? { ticket: options.ticket } : {}) },
    now,
  );
  if (result.kind === "unknown-finding") {
    throw new CliError(EXIT.usage, `No audit run has recorded a finding ${findingId}; run \`portcullis audit run\` and take the ID from its report.`);
  }
  const { suppression, finding } = result.entry;
  if (options.json) {
    context.terminal.out(toJson({ created: result.created, suppression: suppressionEntryView(result.entry) }));
  } else {
    const what = finding === undefined ? "" : ` (${finding.checkId} on ${shortName(finding.resourceId)})`;
    context.terminal.out(
      `${result.created ? "Suppressed" : "Replaced the suppression of"} ${findingId}${what} until ${suppression.expiresAt}\n` +
        `  owner ${suppression.owner} · by ${context.identity.actor.name ?? context.identity.actor.objectId}${suppression.ticket !== undefined ? ` · ticket ${suppression.ticket}` : ""}`,
    );
  }
  context.terminal.info(`The finding is ${finding?.status ?? "unknown"} in run ${finding?.runId ?? "-"}; ${NEXT_RUN_NOTE}.`);
}

async function unsuppress(context: CommandContext, findingId: string, options: { ticket?: string; json?: boolean }): Promise<void> {
  if (options.ticket !== undefined) requireTicket(context, options.ticket);
  const { unsuppressFinding } = await import("../../workflows/suppressions.ts");
  const removed = await unsuppressFinding(await storeForWriting(context), findingId);
  if (removed === undefined) throw new CliError(EXIT.usage, `The finding "${findingId}" has no suppression (see \`portcullis audit suppressions\`).`);
  if (options.json) context.terminal.out(toJson({ removed }));
  else context.terminal.out(`Removed the suppression of ${findingId} (owner ${removed.owner}, until ${removed.expiresAt})`);
  context.terminal.info(`The finding reopens if it is still there: ${NEXT_RUN_NOTE}.`);
}

async function listEntries(context: CommandContext, options: { json?: boolean }): Promise<void> {
  const [{ listSuppressionEntries }, { suppressionEntryView }] = await Promise.all([import("../../workflows/suppressions.ts"), import("../../functions/api-suppressions.ts")]);
  const listing = await listSuppressionEntries(await context.services.auditStore(), new Date());
  const { terminal } = context;
  if (options.json) {
    terminal.out(toJson({ latestRunId: listing.latestRunId ?? null, suppressions: listing.entries.map(suppressionEntryView) }));
    return;
  }
  if (listing.entries.length === 0) {
    terminal.info("No findings are suppressed.");
    return;
  }
  const { style } = terminal;
  terminal.out(
    renderTable<SuppressionEntry>(
      listing.entries,
      [
        { header: "FINDING", value: (e) => e.suppression.findingId },
        { header: "RESOURCE", value: (e) => (e.finding === undefined ? "-" : shortName(e.finding.resourceId)), shrink: "middle" },
        { header: "STATE", value: (e) => (e.expired ? "expired" : "active"), style: (text, e) => (e.expired ? style.red(text) : style.green(text)) },
        { header: "EXPIRES", value: (e) => e.suppression.expiresAt },
        { header: "OWNER", value: (e) => e.suppression.owner, shrink: "end" },
        { header: "LATEST RUN", value: (e) => e.finding?.status ?? "not seen" },
        { header: "BY", value: (e) => e.suppression.createdBy?.name ?? e.suppression.createdBy?.objectId ?? "-", shrink: "end" },
        { header: "REASON", value: (e) => e.suppression.reason, shrink: "end" },
      ],
      style.bold,
      terminal.tableWidth,
    ),
  );
  terminal.info(`Statuses are from run ${listing.latestRunId ?? "-"}; a suppression change ${NEXT_RUN_NOTE}.`);
}

/** Adds suppress, unsuppress and suppressions under `portcullis audit`. */
export function registerSuppressionCommands(audit: Command, host: CommandHost): void {
  withExamples(
    audit
      .command("suppress")
      .description(`accept a finding's risk until an expiry (at most ${MAX_SUPPRESSION_DAYS} days): it shows as suppressed from the next run, and reopens when the suppression expires`)
      .argument("<finding-id>", "the finding's ID, as the ID column of `report show` shows it")
      .requiredOption("--reason <reason>", "why the risk is accepted for now")
      .requiredOption("--owner <owner>", "who answers for the risk meanwhile (a person or team)")
      .requiredOption("--expires <when>", "when it ends: 30d (days from now), 2025-12-31 (midnight UTC) or an ISO 8601 timestamp")
      .option("--ticket <ticket>", "change ticket recorded with the suppression (must match PORTCULLIS_TICKET_PATTERN)")
      .option("--json", "print the stored suppression as JSON")
      .action(async (findingId: string, options: SuppressOptions, command: Command) => host.run(command, STORAGE_ONLY, (context) => suppress(context, findingId, options))),
    [
      'portcullis --local audit suppress public-network-access-0123456789abcdef0123 --reason "Cut-over to private access planned" --owner platform-team@contoso.example --expires 30d',
      'portcullis audit suppress dns-record-missing-0123456789abcdef0123 --reason "…" --owner jane@contoso.example --expires 2025-12-31 --ticket CHG0012345',
    ],
  );

  withExamples(
    audit
      .command("unsuppress")
      .description("remove a finding's suppression: the finding reopens at the next run if it is still there")
      .argument("<finding-id>", "the finding's ID")
      .option("--ticket <ticket>", "change ticket for the removal (must match PORTCULLIS_TICKET_PATTERN)")
      .option("--json", "print the removed suppression as JSON")
      .action(async (findingId: string, options: { ticket?: string; json?: boolean }, command: Command) => host.run(command, STORAGE_ONLY, (context) => unsuppress(context, findingId, options))),
    ["portcullis --local audit unsuppress public-network-access-0123456789abcdef0123"],
  );

  withExamples(
    audit
      .command("suppressions")
      .description("every suppression: its finding, owner, expiry, whether it has expired, and the finding's status in the latest run")
      .option("--json", "print {latestRunId, suppressions} as JSON")
      .action(async (options: { json?: boolean }, command: Command) => host.run(command, STORAGE_ONLY, (context) => listEntries(context, options))),
    ["portcullis --local audit suppressions", "portcullis audit suppressions --json | jq -r '.suppressions[] | select(.expired) | .findingId'"],
  );
}
