/**
 * Timer trigger `reconcilePending` (schedule: the PORTCULLIS_RECONCILE_SCHEDULE setting, default every 5 minutes):
 * the sweep that decides every Pending connection the event path missed. Thin: run the sweep, log its summary,
 * which rule decided each connection and why, the connections left for a human, and every failure. A failure of
 * one instance or connection is reported, never thrown: the next run retries it.
 */
import type azf from "@azure/functions";
import { composition, engineDeps } from "../composition.ts";
import { noTelemetry, type Telemetry } from "../ports/telemetry.ts";
import { recordSweepTelemetry } from "../telemetry/runs.ts";
import type { EngineDeps, EngineLogger } from "../workflows/engine-deps.ts";
import { reconcilePending as runSweep, type ReconcileSummary } from "../workflows/reconcile-pending.ts";
import type { TimerFunctionDefinition } from "./definition.ts";
import { decisionLogLine, invocationLogger } from "./private-endpoint-events.ts";

/** Runs one sweep with the given engine (tests pass their own; the trigger uses the app's), logs it and records its metrics. */
export async function runReconcilePending(
  context: azf.InvocationContext,
  getDeps: (log: EngineLogger) => Promise<EngineDeps>,
  telemetry: Telemetry = noTelemetry,
): Promise<ReconcileSummary> {
  const deps = await getDeps(invocationLogger(context));
  const summary = await runSweep(context.invocationId, deps);
  const counts = Object.entries(summary.outcomes).map(([outcome, n]) => `${outcome} ${n}`).join(", ") || "nothing to do";
  const seconds = ((summary.finishedAt.getTime() - summary.startedAt.getTime()) / 1000).toFixed(1);
  const found =
    summary.inventory === "resource-graph"
      ? `${summary.connections} connection(s) (Pending candidates from Resource Graph, each re-read from ARM) on ${summary.instances} instance(s)`
      : `${summary.connections} connection(s) on ${summary.instances} instance(s)`;
  context.log(`Sweep: ${found} in ${seconds} s: ${counts}.`);
  const held = new Map(summary.heldForUnknownFacts.map((h) => [h.connectionId, h]));
  for (const decision of summary.decided) context.log(decisionLogLine(decision));
  for (const connectionId of summary.awaitingManual) {
    const unknown = held.get(connectionId);
    const why = unknown === undefined ? "" : ` (rule ${unknown.ruleId} needs ${unknown.missingFacts.join(", ")}, unknown to the sweep)`;
    context.log(`Pending for a human: ${connectionId}${why}`);
  }
  if (summary.ruleSetProblems !== undefined) {
    const rows = summary.ruleSetProblems.map((p) => `${p.rowKey}: ${p.message}`).join("; ");
    context.error(`The rule set is unusable, so nothing was decided automatically (fail closed): ${rows}`);
  }
  for (const failure of summary.instanceFailures) context.error(`Could not sweep ${failure.resourceId}: ${failure.error}`);
  for (const failure of summary.connectionFailures) context.error(`Could not decide ${failure.resourceId}: ${failure.error} (retried next run)`);
  await recordSweepTelemetry(summary, deps, telemetry, (message) => context.warn(message));
  return summary;
}

export const reconcilePending: TimerFunctionDefinition = {
  kind: "timer",
  name: "reconcilePending",
  schedule: "%PORTCULLIS_RECONCILE_SCHEDULE%",
  handler: async (_timer, context) => {
    await runReconcilePending(context, engineDeps, await composition().telemetry());
  },
};
