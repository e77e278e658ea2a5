/**
 * `portcullis connections list|show` and `portcullis approve|reject|revoke`: the connections of the managed instances
 * with their decisions, and manual decisions through decideManually, the same workflow (claim, re-read, ARM write,
 * confirmation, decision record) as the HTTP API, with the signed-in identity as the actor.
 */
import { randomUUID } from "node:crypto";
import type { Command } from "commander";
import type { DecisionRecord } from "../../domain/decisions/decision.ts";
import { toPortcullisError } from "../../domain/errors.ts";
import type { ConnectionStatus, PrivateEndpoint, PrivateEndpointConnection } from "../../domain/model.ts";
import { MAX_REASON_LENGTH } from "../../domain/rules/schema.ts";
import { parsePrivateEndpointId } from "../../domain/resource-id.ts";
import type { ManualAction } from "../../workflows/decide-manually.ts";
import type { CommandContext } from "../context.ts";
import { resolveConnectionId, resolveResourceId, resourceTypeLabel, shortConnectionName } from "../estate.ts";
import type { ReadDeps } from "../services.ts";
import { CliError, EXIT, exitCodeForSkipped } from "../exit-codes.ts";
import { requireTicketMatches } from "../ticket.ts";
import { choiceOption, withExamples, type CommandHost } from "../program.ts";
import { renderTable, toJson, type Style } from "../terminal.ts";

function styleStatus(style: Style, status: string, text: string = status): string {
  return status === "Approved" ? style.green(text) : status === "Rejected" ? style.red(text) : status === "Pending" ? style.yellow(text) : text;
}

/** `consumer-sub/rg/pe-name`: where the request comes from, compactly. */
function requester(connection: PrivateEndpointConnection): string {
  const ref = connection.privateEndpointId === undefined ? undefined : parsePrivateEndpointId(connection.privateEndpointId);
  return ref ? `${ref.subscriptionId}/${ref.resourceGroup}/${ref.privateEndpointName}` : (connection.privateEndpointId ?? "unknown");
}

/** requestedBy -> requested-by: the flag a schema field comes from. */
function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** "approve by rule:x at 2025-…", "awaiting a human (default) since 2025-…", "approve [dry-run] (would-apply) by …". */
function describeDecision(record: DecisionRecord | undefined): string {
  if (record === undefined) return "-";
  const when = record.recordedAt.toISOString();
  if (record.action === "manual") return `awaiting a human (${record.actorName ?? record.actor}) since ${when}`;
  const mode = record.mode === "enforce" ? "" : ` [${record.mode}]`;
  const outcome = record.outcome === "applied" ? "" : ` (${record.outcome})`;
  return `${record.action}${mode}${outcome} by ${record.actorName ?? record.actor} at ${when}`;
}

/** The consumer's endpoint for its request message; another tenant's endpoint (403) or a deleted one is just unknown. */
async function readEndpoint(deps: ReadDeps, privateEndpointId: string | undefined): Promise<PrivateEndpoint | undefined> {
  if (privateEndpointId === undefined) return undefined;
  try {
    return await deps.network.getPrivateEndpoint(privateEndpointId);
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind === "forbidden" || failure.kind === "not-found") return undefined;
    throw failure;
  }
}

/**
 * The newest decision the rules made (its explanation says rule by rule why), or undefined when only people or
 * out-of-band changes decided. Records are newest first, as the decision log returns them.
 */
function latestExplained(decisions: readonly DecisionRecord[]): DecisionRecord | undefined {
  return [...decisions].sort((a, b) => b.recordedAt.getTime() - a.recordedAt.getTime()).find((d) => d.explanation.length > 0);
}

/** JSON form of a decision record (dates as ISO strings). */
function recordJson(record: DecisionRecord | undefined) {
  return record === undefined ? null : { ...record, startedAt: record.startedAt.toISOString(), recordedAt: record.recordedAt.toISOString() };
}

/** Connections and decisions need the managed scope (ARM) and storage (the decision log). */
const ESTATE = { scope: true } as const;

export function registerConnectionCommands(program: Command, host: CommandHost): void {
  const connections = program.command("connections").description("list and inspect private endpoint connections of the managed instances").helpGroup("Connections:");
  withExamples(connections, ["portcullis --local connections list --status Pending", "portcullis --local connections show contoso-apim-prod/pe-fabrikam-to-prod.<id>"]);

  withExamples(
    connections
      .command("list")
      .description("every connection of the managed resources (every governed type), with its latest decision")
      .addOption(choiceOption("--status <status>", "only connections in this status (any case: pending, Pending)", ["Pending", "Approved", "Rejected"]))
      .option("--instance <id>", "only this resource (resource ID or name; any governed type)")
      .option("--json", "print the connections as JSON")
      .action(async (options: { status?: ConnectionStatus; instance?: string; json?: boolean }, command: Command) =>
        host.run(command, ESTATE, async (context) => {
          const [deps, { listManagedConnections }] = await Promise.all([context.services.readDeps(), import("../../workflows/manual-connections.ts")]);
          const resourceId = options.instance === undefined ? undefined : await resolveResourceId(options.instance, deps.scope, deps.privateLink);
          context.terminal.progress("reading the managed resources' connections and their decisions…");
          const listing = await listManagedConnections({ status: options.status, resourceId }, deps);
          context.terminal.progress(undefined);
          for (const unreadable of listing.unreadable) {
            context.terminal.info(context.terminal.errStyle.yellow(`warning: could not read ${unreadable.resourceId} (${unreadable.reason}); its connections are missing`));
          }
          const exitCode = exitCodeForSkipped(listing.unreadable.map((u) => u.reason));
          if (options.json) {
            context.terminal.out(
              toJson({
                connections: listing.items.map((item) => ({ ...item.connection, latestDecision: recordJson(item.latestDecision) })),
                unreadable: listing.unreadable,
              }),
            );
            return exitCode;
          }
          if (listing.items.length === 0) {
            context.terminal.info(`No ${options.status === undefined ? "" : `${options.status} `}connections on the managed resources${listing.unreadable.length > 0 ? " that could be read" : ""}.`);
            return exitCode;
          }
          const { style } = context.terminal;
          context.terminal.out(
            renderTable(
              listing.items,
              [
                { header: "CONNECTION", value: (r) => shortConnectionName(r.connection.id), shrink: "middle" },
                { header: "TYPE", value: (r) => resourceTypeLabel(r.connection.resourceId) },
                { header: "STATUS", value: (r) => r.connection.status, style: (text, r) => styleStatus(style, r.connection.status, text) },
                { header: "REQUESTER", value: (r) => requester(r.connection), shrink: "middle" },
                { header: "LATEST DECISION", value: (r) => describeDecision(r.latestDecision), shrink: "end" },
              ],
              style.bold,
              context.terminal.tableWidth,
            ),
          );
          return exitCode;
        }),
      ),
    [
      "portcullis --local connections list",
      "portcullis --local connections list --status Pending --instance contoso-apim-dev",
      "portcullis connections list --json | jq -r '.connections[] | select(.status==\"Pending\") | .id'",
    ],
  );

  withExamples(
    connections
      .command("show")
      .description("one connection: its state, the consumer's endpoint and request message, and every decision")
      .argument("<connection>", "connection resource ID, or INSTANCE/CONNECTION")
      .option("--json", "print {connection, privateEndpoint, decisions} as JSON")
      .action(async (reference: string, options: { json?: boolean }, command: Command) =>
        host.run(command, ESTATE, async (context) => {
          const [deps, { getManagedConnection }] = await Promise.all([context.services.readDeps(), import("../../workflows/manual-connections.ts")]);
          const { connection, decisions } = await getManagedConnection(await resolveConnectionId(reference, deps.scope, deps.privateLink), deps);
          const endpoint = await readEndpoint(deps, connection.privateEndpointId);
          if (options.json) {
            context.terminal.out(toJson({ connection, privateEndpoint: endpoint ?? null, decisions: decisions.map(recordJson) }));
            return;
          }
          const { style } = context.terminal;
          const link = endpoint?.connections.find((c) => c.privateLinkServiceId.toLowerCase() === connection.resourceId.toLowerCase());
          const lines = [
            `${style.bold("Connection")}  ${connection.id}`,
            `${style.bold("Status")}      ${styleStatus(style, connection.status)}${connection.description ? ` - ${connection.description}` : ""}`,
            `${style.bold("Resource")}    ${connection.resourceId}`,
            `${style.bold("Type")}        ${resourceTypeLabel(connection.resourceId)}`,
            `${style.bold("Endpoint")}    ${connection.privateEndpointId ?? "unknown"}${endpoint === undefined ? " (not readable with this identity)" : ""}`,
            `${style.bold("Groups")}      ${connection.groupIds.join(", ") || "-"}`,
            `${style.bold("Request")}     ${link?.requestMessage ? JSON.stringify(link.requestMessage) : "-"}`,
            "",
            style.bold(`Decisions (${decisions.length})`),
          ];
          context.terminal.out(lines.join("\n"));
          if (decisions.length > 0) {
            context.terminal.out(
              renderTable(
                decisions,
                [
                  { header: "WHEN", value: (d) => d.recordedAt.toISOString() },
                  { header: "ACTION", value: (d) => d.action },
                  { header: "MODE", value: (d) => d.mode },
                  { header: "OUTCOME", value: (d) => d.outcome },
                  { header: "ACTOR", value: (d) => d.actorName ?? d.actor, shrink: "end" },
                  { header: "TICKET", value: (d) => d.ticket ?? "" },
                  { header: "REASON", value: (d) => (d.error ? `${d.reason} (error: ${d.error})` : d.reason), shrink: "end" },
                ],
                style.bold,
                context.terminal.tableWidth,
              ),
            );
          }
          const explained = latestExplained(decisions);
          if (explained !== undefined) {
            context.terminal.out(
              [
                "",
                style.bold(`Why: ${explained.action} by ${explained.actorName ?? explained.actor} at ${explained.recordedAt.toISOString()} (rule by rule, as evaluated then)`),
                ...explained.explanation.map((line) => `  ${line}`),
              ].join("\n"),
            );
          }
        }),
      ),
    ["portcullis --local connections show contoso-apim-prod/pe-fabrikam-to-prod.<id>", "portcullis connections show /subscriptions/…/privateEndpointConnections/pe-x.1 --json"],
  );

  for (const action of ["approve", "reject", "revoke"] as const) registerDecisionCommand(program, host, action);
}

/** Per action: its help text, an example reason, and the words its progress and dry-run lines use. */
const DECISION_TEXT: Readonly<Record<ManualAction, { description: string; exampleReason: string; doing: string; done: string }>> = {
  approve: { description: "Approve a Pending connection", exampleReason: "Fabrikam order integration approved", doing: "approving", done: "approved" },
  reject: { description: "Reject a Pending connection", exampleReason: "Not an approved consumer", doing: "rejecting", done: "rejected" },
  revoke: { description: "Revoke an Approved connection (it becomes Rejected)", exampleReason: "Consumer offboarded", doing: "revoking", done: "revoked" },
};

function registerDecisionCommand(program: Command, host: CommandHost, action: ManualAction): void {
  const text = DECISION_TEXT[action];
  withExamples(
    program
      .command(action)
      .description(`${text.description} on a human's authority, recorded with your identity and the ticket`)
      .helpGroup("Decisions:")
      .argument("<connection>", "connection resource ID, or INSTANCE/CONNECTION")
      .requiredOption("--ticket <ticket>", "change ticket reference (must match PORTCULLIS_TICKET_PATTERN, e.g. CHG0012345 or OPS-123)")
      .requiredOption("--reason <reason>", `why, in one sentence (written into the connection's description; at most ${MAX_REASON_LENGTH} characters)`)
      .option("--requested-by <who>", "who asked for it, when acting on someone's behalf (recorded as the ticket's requester, never as the actor)")
      .option("--json", "print the decision record as JSON")
      .action(async (reference: string, options: { ticket: string; reason: string; requestedBy?: string; json?: boolean }, command: Command) =>
        host.run(command, ESTATE, async (context) => decide(context, action, reference, options)),
      ),
    [
      `portcullis --local ${action} contoso-apim-prod/pe-fabrikam-to-prod.<id> --ticket CHG0001234 --reason "${text.exampleReason}"`,
      `portcullis ${action} /subscriptions/…/privateEndpointConnections/pe-x.1 --ticket OPS-42 --reason "…" --json`,
    ],
  );
}

/**
 * `reject` on an Approved connection is refused (only Pending ones can be rejected); what the person wants is
 * `revoke`. Said in the error, after re-reading the connection so the hint is only given when it is Approved.
 */
async function withNextStep(error: unknown, action: ManualAction, connectionId: string, deps: ReadDeps): Promise<unknown> {
  const failure = toPortcullisError(error);
  if (action !== "reject" || failure.code !== "ConnectionNotPending") return error;
  const current = await deps.privateLink.getConnection(connectionId).catch(() => undefined);
  if (current?.status !== "Approved") return error;
  return new CliError(
    EXIT.usage,
    `${failure.message}\nOnly a Pending connection can be rejected. To take back an Approved one, revoke it:\n  portcullis revoke ${shortConnectionName(connectionId)} --ticket <ticket> --reason "<why>"`,
  );
}

/** Checks the ticket, reason and requester with the HTTP API's own body schema and ticket pattern, then runs decideManually. */
async function decide(context: CommandContext, action: ManualAction, reference: string, options: { ticket: string; reason: string; requestedBy?: string; json?: boolean }) {
  const { manualDecisionBodySchema } = await import("../../functions/api-views.ts");
  const parsed = manualDecisionBodySchema.safeParse({ ticket: options.ticket, reason: options.reason, ...(options.requestedBy !== undefined ? { requestedBy: options.requestedBy } : {}) });
  if (!parsed.success) {
    throw new CliError(EXIT.usage, parsed.error.issues.map((issue) => `--${kebab(String(issue.path[0] ?? ""))}: ${issue.message}`).join("\n"));
  }
  requireTicketMatches("--ticket", parsed.data.ticket, context.target.settings.PORTCULLIS_TICKET_PATTERN);
  const { ticket, reason, requestedBy } = parsed.data;
  const { terminal } = context;
  const deps = await context.services.engine({
    info: () => {},
    warn: (message) => terminal.info(terminal.errStyle.yellow(`warning: ${message}`)),
    error: (message) => terminal.info(terminal.errStyle.red(`error: ${message}`)),
  });
  const connectionId = await resolveConnectionId(reference, deps.scope, deps.privateLink);
  const { decideManually } = await import("../../workflows/decide-manually.ts");
  terminal.progress(`${DECISION_TEXT[action].doing} ${shortConnectionName(connectionId)}: waiting for Azure Resource Manager…`);
  const result = await decideManually({ connectionId, action, ticket, reason, requestedBy, actor: context.identity.actor, correlationId: randomUUID() }, deps).catch(
    async (error: unknown) => {
      throw await withNextStep(error, action, connectionId, deps);
    },
  );
  terminal.progress(undefined);
  if (result.kind === "in-progress") throw new CliError(EXIT.unavailable, `Azure Resource Manager has not finished the operation on ${connectionId}; check it with \`portcullis connections show\`.`);
  const record = result.record;
  if (options.json) terminal.out(toJson({ result: result.kind, record: recordJson(record) }));
  if (result.kind === "failed") {
    throw new CliError(EXIT.usage, `Azure Resource Manager refused to ${action} ${connectionId}: ${record.error ?? "no reason given"} (recorded as decision ${record.id}).`);
  }
  if (!options.json) {
    const done = record.outcome === "would-apply"
      ? `dry-run: recorded that ${connectionId} would be ${DECISION_TEXT[action].done}; Azure was not changed (PORTCULLIS_MODE is dry-run)`
      : `${record.statusAfter} ${connectionId}`;
    terminal.out(`${done}\n  ticket ${record.ticket ?? "-"} · actor ${record.actorName ?? record.actor} · decision ${record.id}`);
  }
}
