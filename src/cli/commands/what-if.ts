/**
 * `portcullis what-if -f FILE`: what a proposed rule set would do to every current connection of the managed
 * instances, compared with the stored rules, through whatIfRules (the same workflow as POST /api/what-if). Writes
 * nothing anywhere.
 */
import type { Command } from "commander";
import type { DecidedBy } from "../../domain/rules/evaluate.ts";
import type { ConnectionWhatIf, WhatIfOutcome } from "../../domain/rules/what-if.ts";
import { shortConnectionName } from "../estate.ts";
import { exitCodeForSkipped } from "../exit-codes.ts";
import { withExamples, type CommandHost } from "../program.ts";
import { readRuleFile, requireValid } from "../rule-files.ts";
import { renderTable, toJson } from "../terminal.ts";
import { lintRules } from "../../domain/rules/lint.ts";
import { fileWarningLines, printRuleWarnings, styleAction } from "./rules.ts";

/**
 * Who decided: a rule (`id vN`), a rule that could not decide because a fact is unknown (`id vN: tenant unknown`,
 * a manual outcome), the default, or the fail-closed guard.
 */
function decider(by: DecidedBy): string {
  if (by.kind === "rule") return `${by.ruleId} v${by.ruleVersion}`;
  if (by.kind === "unknown-fact") return `${by.ruleId} v${by.ruleVersion}: ${by.missingFacts.join(", ")} unknown`;
  return by.kind;
}

function outcome(o: WhatIfOutcome): string {
  return `${o.action} (${decider(o.decidedBy)})`;
}

/** "changes" only when the engine would act differently (Pending); "info" for settled connections. */
function effect(row: ConnectionWhatIf): string {
  return row.wouldTakeEffect ? "CHANGES" : row.changes ? "info only" : "same";
}

export function registerWhatIfCommand(program: Command, host: CommandHost): void {
  withExamples(
    program
      .command("what-if")
      .description("show what a proposed rule set would do to every current connection, against the stored rules (writes nothing)")
      .helpGroup("Rules:")
      .requiredOption("-f, --file <file>", "proposed rule set (a list of rules, or {rules: [...]}), YAML or JSON")
      .option("--changes-only", "list only the connections whose outcome changes")
      .option("--json", "print the full comparison as JSON")
      .action(async (options: { file: string; changesOnly?: boolean; json?: boolean }, command: Command) =>
        host.run(command, { scope: true }, async (context) => {
          const file = requireValid(readRuleFile(options.file, "rule-set"));
          printRuleWarnings(context.terminal, fileWarningLines(file));
          const [deps, { whatIfRules }] = await Promise.all([context.services.readDeps(), import("../../workflows/what-if-rules.ts")]);
          context.terminal.progress(`evaluating ${file.drafts.length} proposed rule(s) against every connection of the managed instances…`);
          const report = await whatIfRules(file.drafts, context.identity.actor, deps);
          context.terminal.progress(undefined);
          for (const unreadable of report.unreadable) {
            context.terminal.info(context.terminal.errStyle.yellow(`warning: could not read ${unreadable.resourceId} (${unreadable.reason}); its connections are not compared`));
          }
          const exitCode = exitCodeForSkipped(report.unreadable.map((u) => u.reason));
          if (options.json) {
            context.terminal.out(toJson({ ...report, warnings: lintRules(file.drafts) }));
            return exitCode;
          }
          const { style } = context.terminal;
          for (const problem of report.proposedProblems) context.terminal.info(context.terminal.errStyle.red(`proposed set unusable: ${problem.rowKey}: ${problem.message}`));
          const rows = options.changesOnly ? report.connections.filter((c) => c.changes) : report.connections;
          if (rows.length > 0) {
            context.terminal.out(
              renderTable(
                rows,
                [
                  { header: "CONNECTION", value: (r) => shortConnectionName(r.connectionId), shrink: "middle" },
                  { header: "STATUS", value: (r) => r.currentStatus },
                  { header: "STORED RULES", value: (r) => outcome(r.stored), shrink: "end" },
                  { header: "PROPOSED RULES", value: (r) => outcome(r.proposed), shrink: "end", style: (text, r) => (r.changes ? styleAction(style, r.proposed.action, text) : text) },
                  { header: "EFFECT", value: effect, style: (text, r) => (r.wouldTakeEffect ? style.bold(text) : style.dim(text)) },
                ],
                style.bold,
                context.terminal.tableWidth,
              ),
            );
          }
          const s = report.summary;
          context.terminal.out(
            `${s.connections} connection(s), ${s.pending} Pending: ${s.changedPending} Pending connection(s) would be decided differently; ${s.changed - s.changedPending} settled one(s) differ for information only.`,
          );
          context.terminal.info(context.terminal.errStyle.dim(report.note));
          return exitCode;
        }),
      ),
    [
      "portcullis --local what-if -f dev/demo/rules.json",
      "portcullis --local rules export > rules.yaml && $EDITOR rules.yaml && portcullis --local what-if -f rules.yaml --changes-only",
      "portcullis what-if -f rules.yaml --json | jq '.summary'",
    ],
  );
}
