/**
 * `portcullis rules ...`: read, write, validate, import and export the rules in Table Storage through the same
 * RuleStore (and so the same schema, ETags and history) as the engine and the HTTP API.
 */
import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import type { Command } from "commander";
import { stringify as toYaml } from "yaml";
import { byPriorityThenId } from "../../domain/rules/evaluate.ts";
import { lintRules, type LintableRule } from "../../domain/rules/lint.ts";
import type { RuleHistoryEntry } from "../../domain/rules/history.ts";
import type { Rule, RuleDraft } from "../../domain/rules/schema.ts";
import { PortcullisError } from "../../domain/errors.ts";
import type { CommandContext } from "../context.ts";
import { CliError, EXIT } from "../exit-codes.ts";
import { choiceOption, withExamples, type CommandHost } from "../program.ts";
import { describeDiff, diffRuleSets, draftOf, type RuleChange } from "../rule-diff.ts";
import { formatProblem, readRuleFile, requireValid } from "../rule-files.ts";
import { renderTable, toJson, type Style, type Terminal } from "../terminal.ts";

/** Colours an action word: approve green, reject red, manual yellow. */
export function styleAction(style: Style, action: string, text: string = action): string {
  return action === "approve" ? style.green(text) : action === "reject" ? style.red(text) : action === "manual" ? style.yellow(text) : text;
}

function validity(rule: Rule): string {
  if (rule.validFrom === undefined && rule.validUntil === undefined) return "always";
  return `${rule.validFrom ?? "…"} – ${rule.validUntil ?? "…"}`;
}

function actorName(actor: { objectId: string; name?: string | undefined }): string {
  return actor.name ?? actor.objectId;
}

/**
 * Says loudly (stderr, yellow) which rules approve too much: valid, so the command goes on, but nobody should store
 * an "approve everything" rule without noticing. `lines` are already formatted (a file position, or a rule id).
 */
export function printRuleWarnings(terminal: Terminal, lines: readonly string[]): void {
  for (const line of lines) terminal.info(terminal.errStyle.yellow(`warning: ${line}`));
}

/** The lint warnings of rules in hand (stored or drafts), as lines for printRuleWarnings. */
export function ruleWarningLines(rules: readonly LintableRule[]): string[] {
  return lintRules(rules).map((w) => `${w.ruleId}: ${w.message}`);
}

/** A rule file's warnings as `file:line:column  path: message` lines. */
export function fileWarningLines(file: { path: string; warnings: readonly Parameters<typeof formatProblem>[1][] }): string[] {
  return file.warnings.map((w) => formatProblem(file.path, w));
}

/** Rules live in storage only; no managed scope is needed to work on them. */
const STORAGE_ONLY = { scope: false } as const;

export function registerRuleCommands(program: Command, host: CommandHost): void {
  const rules = program
    .command("rules")
    .description("list, read, change, validate, import and export approval rules")
    .helpGroup("Rules:");
  withExamples(rules, [
    "portcullis --local rules list",
    "portcullis --local rules export > rules.yaml",
    "portcullis rules validate -f rules.yaml",
    "portcullis --local rules import -f rules.yaml",
  ]);

  withExamples(
    rules
      .command("list")
      .description("list the stored rules by priority (or why the stored set is unusable)")
      .option("--json", "print the rule set snapshot as JSON")
      .action(async (options: { json?: boolean }, command: Command) =>
        host.run(command, STORAGE_ONLY, async (context) => {
          const snapshot = await (await context.services.ruleStore()).getRuleSet();
          if (options.json) {
            context.terminal.out(toJson(snapshot.status === "usable" ? { ...snapshot, warnings: lintRules(snapshot.rules) } : snapshot));
            return;
          }
          if (snapshot.status === "unusable") {
            reportUnusable(context, snapshot.problems);
            return;
          }
          const { style } = context.terminal;
          const sorted = [...snapshot.rules].sort(byPriorityThenId);
          printRuleWarnings(context.terminal, ruleWarningLines(sorted));
          if (sorted.length === 0) {
            context.terminal.info("No rules are stored: every Pending connection gets the default action.");
            return;
          }
          context.terminal.out(
            renderTable(
              sorted,
              [
                { header: "PRIORITY", value: (r) => String(r.priority) },
                { header: "ID", value: (r) => r.id, shrink: "end" },
                { header: "ACTION", value: (r) => r.action, style: (text, r) => styleAction(style, r.action, text) },
                { header: "MODE", value: (r) => r.mode },
                { header: "ENABLED", value: (r) => (r.enabled ? "yes" : "no"), style: (text, r) => (r.enabled ? text : style.dim(text)) },
                { header: "VALID", value: validity, shrink: "end" },
                { header: "VERSION", value: (r) => String(r.version) },
                { header: "REASON", value: (r) => r.reason, shrink: "end" },
              ],
              style.bold,
              context.terminal.tableWidth,
            ),
          );
        }),
      ),
    ["portcullis --local rules list", "portcullis --local rules list --json | jq '.rules[].id'"],
  );

  withExamples(
    rules
      .command("get")
      .description("print one rule as an editable file (YAML, or JSON with --json); its ETag goes to stderr")
      .argument("<id>", "rule id")
      .option("--json", "print {rule, etag} as JSON")
      .action(async (id: string, options: { json?: boolean }, command: Command) =>
        host.run(command, STORAGE_ONLY, async (context) => {
          const found = await (await context.services.ruleStore()).getRule(id);
          if (found === undefined) throw new CliError(EXIT.usage, `There is no rule "${id}" (see \`portcullis rules list\`).`);
          if (options.json) {
            context.terminal.out(toJson(found));
            return;
          }
          const { rule, etag } = found;
          context.terminal.info(context.terminal.errStyle.dim(`version ${rule.version}, updated ${rule.updatedAt} by ${actorName(rule.updatedBy)}; etag ${etag}`));
          context.terminal.out(toYaml(draftOf(rule)));
        }),
      ),
    ["portcullis --local rules get approve-internal-app-subscriptions > rule.yaml", "portcullis --local rules get my-rule --json | jq -r .etag"],
  );

  withExamples(
    rules
      .command("put")
      .description("create or update one rule from a YAML or JSON file")
      .requiredOption("-f, --file <file>", "the rule (YAML or JSON)")
      .option("--if-match <etag>", "update only if the stored rule still has this ETag (from `rules get`)")
      .option("--ticket <ticket>", "change ticket recorded in the rule's history")
      .option("--json", "print {rule, etag} as JSON")
      .action(async (options: { file: string; ifMatch?: string; ticket?: string; json?: boolean }, command: Command) =>
        host.run(command, STORAGE_ONLY, async (context) => {
          const file = requireValid(readRuleFile(options.file, "rule"));
          const draft = file.drafts[0]!;
          printRuleWarnings(context.terminal, fileWarningLines(file));
          const store = await context.services.ruleStoreForWriting();
          const common = { actor: context.identity.actor, ...(options.ticket !== undefined ? { ticket: options.ticket } : {}) };
          let written: { rule: Rule; etag: string };
          if (options.ifMatch !== undefined) {
            written = await store.putRule(draft, { ...common, ifMatch: options.ifMatch });
          } else {
            const current = await store.getRule(draft.id);
            written = await store.putRule(draft, current === undefined ? { ...common, ifNoneMatch: "*" } : { ...common, ifMatch: current.etag });
            if (current !== undefined) {
              context.terminal.info(context.terminal.errStyle.dim(`updated over version ${current.rule.version} as read just now; pass --if-match to guard against concurrent edits`));
            }
          }
          if (options.json) context.terminal.out(toJson(written));
          else context.terminal.out(`${written.rule.version === 1 ? "created" : "updated"} ${written.rule.id} (version ${written.rule.version}, etag ${written.etag})`);
        }),
      ),
    ["portcullis --local rules put -f rule.yaml --ticket CHG0001234", "portcullis rules put -f rule.json --if-match 'W/\"datetime...\"'"],
  );

  withExamples(
    rules
      .command("delete")
      .description("delete one rule (asks first on a terminal; --yes when scripted)")
      .argument("<id>", "rule id")
      .option("--if-match <etag>", "delete only if the stored rule still has this ETag")
      .option("--ticket <ticket>", "change ticket recorded in the rule's history")
      .option("-y, --yes", "do not ask for confirmation (required when not on a terminal)")
      .option("--json", "print {deleted, version} as JSON")
      .action(async (id: string, options: { ifMatch?: string; ticket?: string; yes?: boolean; json?: boolean }, command: Command) =>
        host.run(command, STORAGE_ONLY, async (context) => {
          const store = await context.services.ruleStoreForWriting();
          const current = await store.getRule(id);
          if (current === undefined) throw new CliError(EXIT.usage, `There is no rule "${id}" (see \`portcullis rules list\`).`);
          await requireConsent(context, options.yes, `Delete rule ${id} (version ${current.rule.version}, ${current.rule.action})?`);
          await store.deleteRule(id, {
            ifMatch: options.ifMatch ?? current.etag,
            actor: context.identity.actor,
            ...(options.ticket !== undefined ? { ticket: options.ticket } : {}),
          });
          if (options.json) context.terminal.out(toJson({ deleted: id, version: current.rule.version }));
          else context.terminal.out(`deleted ${id} (was version ${current.rule.version}; kept in its history)`);
        }),
      ),
    ["portcullis --local rules delete old-rule", "portcullis rules delete old-rule --yes --ticket CHG0001234"],
  );

  withExamples(
    rules
      .command("history")
      .description("every version of a rule, newest first: who changed it, when, and with which ticket")
      .argument("<id>", "rule id")
      .option("--json", "print the history entries as JSON")
      .action(async (id: string, options: { json?: boolean }, command: Command) =>
        host.run(command, STORAGE_ONLY, async (context) => {
          const history = await (await context.services.ruleStore()).listHistory(id);
          if (options.json) {
            context.terminal.out(toJson(history));
            return;
          }
          if (history.length === 0) throw new CliError(EXIT.usage, `Rule "${id}" has no history: it was never stored.`);
          const { style } = context.terminal;
          context.terminal.out(
            renderTable<RuleHistoryEntry>(
              history,
              [
                { header: "VERSION", value: (e) => String(e.version) },
                { header: "CHANGE", value: (e) => e.change, style: (text, e) => (e.change === "deleted" ? style.red(text) : text) },
                { header: "WHEN", value: (e) => e.changedAt },
                { header: "BY", value: (e) => actorName(e.changedBy), shrink: "end" },
                { header: "TICKET", value: (e) => e.ticket ?? "" },
                { header: "RULE", value: (e) => (e.rule ? `priority ${e.rule.priority}, ${e.rule.action}, ${e.rule.mode}${e.rule.enabled ? "" : ", disabled"}` : ""), shrink: "end" },
              ],
              style.bold,
              context.terminal.tableWidth,
            ),
          );
        }),
      ),
    ["portcullis --local rules history approve-internal-app-subscriptions"],
  );

  withExamples(
    rules
      .command("validate")
      .description("check a rule or rule set file against the rule schema, offline; reports every problem at its line:column")
      .requiredOption("-f, --file <file>", "a rule, or a rule set (a list of rules, or {rules: [...]}), in YAML or JSON")
      .option("--json", "print {file, valid, shape, rules, problems} as JSON")
      .action(async (options: { file: string; json?: boolean }) =>
        host.runOffline(async (terminal) => {
          const file = readRuleFile(options.file, "either");
          if (options.json) {
            terminal.out(
              toJson({
                file: options.file,
                valid: file.problems.length === 0,
                shape: file.shape,
                rules: file.drafts.map((d) => d.id),
                problems: file.problems.map((p) => ({ line: p.location?.line ?? null, column: p.location?.column ?? null, path: p.path, message: p.message })),
                warnings: file.warnings.map((p) => ({ line: p.location?.line ?? null, column: p.location?.column ?? null, path: p.path, message: p.message })),
              }),
            );
          } else if (file.problems.length === 0) {
            printRuleWarnings(terminal, fileWarningLines(file));
            const warned = file.warnings.length === 0 ? "" : ` (${file.warnings.length} warning(s): valid, but see above)`;
            terminal.out(`${options.file}: valid ${file.shape === "rule" ? "rule" : `rule set of ${file.drafts.length} rule(s)`}${warned}`);
          } else {
            for (const problem of file.problems) terminal.out(formatProblem(options.file, problem));
            terminal.info(terminal.errStyle.red(`${options.file}: ${file.problems.length} problem(s)`));
          }
          return file.problems.length === 0 ? EXIT.success : EXIT.usage;
        }),
      ),
    ["portcullis rules validate -f rules.yaml", "portcullis rules validate -f rule.json --json"],
  );

  withExamples(
    rules
      .command("import")
      .description("make the stored rules exactly the file's rule set: shows the diff, asks, then writes (stored rules not in the file are deleted)")
      .requiredOption("-f, --file <file>", "rule set (a list of rules, or {rules: [...]}), YAML or JSON")
      .option("--ticket <ticket>", "change ticket recorded in each rule's history")
      .option("-y, --yes", "apply without asking (required when not on a terminal)")
      .option("--dry-run", "show the diff and exit without writing")
      .option("--json", "print the planned and applied changes as JSON")
      .action(async (options: { file: string; ticket?: string; yes?: boolean; dryRun?: boolean; json?: boolean }, command: Command) =>
        host.run(command, STORAGE_ONLY, async (context) => importRules(context, options)),
      ),
    [
      "portcullis --local rules import -f dev/demo/rules.json",
      "portcullis rules import -f rules.yaml --dry-run",
      "portcullis rules import -f rules.yaml --yes --ticket CHG0001234   # in a pipeline",
    ],
  );

  withExamples(
    rules
      .command("export")
      .description("print the stored rule set as a file `rules import` accepts (YAML, or JSON)")
      .addOption(choiceOption("--format <format>", "file format (default: from --out's extension, else yaml)", ["yaml", "json"]))
      .option("--json", "same as --format json")
      .option("-o, --out <file>", "write to this file instead of stdout")
      .action(async (options: { format?: "yaml" | "json"; json?: boolean; out?: string }, command: Command) =>
        host.run(command, STORAGE_ONLY, async (context) => {
          const snapshot = await (await context.services.ruleStore()).getRuleSet();
          if (snapshot.status === "unusable") {
            reportUnusable(context, snapshot.problems);
            throw new PortcullisError("internal", "The stored rule set is unusable, so it cannot be exported as a valid rule set; repair or delete the rows above.");
          }
          const drafts: RuleDraft[] = [...snapshot.rules].sort(byPriorityThenId).map(draftOf);
          const format = options.json ? "json" : (options.format ?? (options.out !== undefined && extname(options.out).toLowerCase() === ".json" ? "json" : "yaml"));
          const body = format === "json" ? toJson({ rules: drafts }) : `# Portcullis rule set, version ${snapshot.version}\n${toYaml({ rules: drafts })}`;
          if (options.out === undefined) {
            context.terminal.out(body);
            return;
          }
          writeFileSync(options.out, body);
          context.terminal.info(`wrote ${drafts.length} rule(s) to ${options.out}`);
        }),
      ),
    ["portcullis --local rules export > rules.yaml", "portcullis rules export --format json --out rules.json"],
  );
}

/** Prints why the stored rule set is unusable (the engine is failing closed). */
function reportUnusable(context: CommandContext, problems: readonly { rowKey: string; message: string }[]): void {
  const { errStyle } = context.terminal;
  context.terminal.info(errStyle.red(`The stored rule set is UNUSABLE: the engine decides nothing automatically until it is repaired (${problems.length} problem row(s)):`));
  for (const problem of problems) context.terminal.out(`${problem.rowKey}: ${problem.message}`);
}

/** Asks on a terminal; without one, only --yes lets a destructive command go ahead (exit 2 otherwise). */
async function requireConsent(context: CommandContext, yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  if (!context.interactive) throw new CliError(EXIT.usage, "Not on a terminal, so nobody can confirm: pass --yes to go ahead.");
  if (!(await context.confirm(question))) throw new CliError(EXIT.usage, "Cancelled; nothing was changed.");
}

async function importRules(context: CommandContext, options: { file: string; ticket?: string; yes?: boolean; dryRun?: boolean; json?: boolean }) {
  const file = requireValid(readRuleFile(options.file, "rule-set"));
  printRuleWarnings(context.terminal, fileWarningLines(file));
  const store = await context.services.ruleStoreForWriting();
  const snapshot = await store.getRuleSet();
  if (snapshot.status === "unusable") {
    reportUnusable(context, snapshot.problems);
    throw new PortcullisError("internal", "The stored rule set is unusable; import cannot compute a safe diff. Repair or delete the broken rows first.");
  }
  const diff = diffRuleSets(snapshot.rules, file.drafts);
  const { terminal } = context;
  const lines = describeDiff(diff);
  const styled = lines.map((line) => (line.startsWith("+") ? terminal.errStyle.green(line) : line.startsWith("-") ? terminal.errStyle.red(line) : line.startsWith("~") ? terminal.errStyle.yellow(line) : line));
  terminal.info(`${options.file} against the stored rule set (version ${snapshot.version}):`);
  for (const line of styled) terminal.info(line);
  const plan = diff.changes.map((c) => ({ kind: c.kind, id: c.id, ...("fields" in c ? { fields: c.fields.map((f) => f.field) } : {}) }));
  if (diff.changes.length === 0) {
    if (options.json) terminal.out(toJson({ planned: [], applied: [], unchanged: diff.unchanged }));
    else terminal.info("Nothing to change.");
    return;
  }
  if (options.dryRun) {
    if (options.json) terminal.out(toJson({ planned: plan, applied: [], unchanged: diff.unchanged }));
    terminal.info("--dry-run: nothing written.");
    return;
  }
  const counts = { create: 0, update: 0, delete: 0 };
  for (const c of diff.changes) counts[c.kind] += 1;
  await requireConsent(context, options.yes, `Apply ${counts.create} create(s), ${counts.update} update(s) and ${counts.delete} delete(s)?`);
  const applied: { kind: RuleChange["kind"]; id: string; version: number }[] = [];
  const ticket = options.ticket !== undefined ? { ticket: options.ticket } : {};
  try {
    for (const change of diff.changes) {
      const actor = context.identity.actor;
      if (change.kind === "create") {
        const written = await store.putRule(change.draft, { actor, ifNoneMatch: "*", ...ticket });
        applied.push({ kind: "create", id: change.id, version: written.rule.version });
        continue;
      }
      const current = await store.getRule(change.id);
      if (current === undefined || current.rule.version !== change.storedVersion) {
        throw new PortcullisError("precondition-failed", `Rule ${change.id} changed since the diff was computed (now ${current === undefined ? "deleted" : `version ${current.rule.version}`}); run the import again.`);
      }
      if (change.kind === "update") {
        const written = await store.putRule(change.draft, { actor, ifMatch: current.etag, ...ticket });
        applied.push({ kind: "update", id: change.id, version: written.rule.version });
      } else {
        await store.deleteRule(change.id, { actor, ifMatch: current.etag, ...ticket });
        applied.push({ kind: "delete", id: change.id, version: change.storedVersion });
      }
    }
  } catch (error) {
    if (applied.length > 0) terminal.info(terminal.errStyle.yellow(`Stopped after ${applied.length} of ${diff.changes.length} change(s): ${applied.map((a) => `${a.kind} ${a.id}`).join(", ")}.`));
    throw error;
  }
  if (options.json) terminal.out(toJson({ planned: plan, applied, unchanged: diff.unchanged }));
  else terminal.out(`applied ${applied.length} change(s): ${counts.create} created, ${counts.update} updated, ${counts.delete} deleted`);
}
