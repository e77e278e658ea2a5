/**
 * Event Grid trigger `privateEndpointEvents`: Microsoft.Resources.ResourceWriteSuccess / ResourceDeleteSuccess
 * events (Event Grid schema or CloudEvents 1.0) for private endpoints and APIM private endpoint connections.
 *
 * Thin: parse at the boundary, run the event workflow, log what was decided and why. Ignored and malformed events
 * are acknowledged (logged with the reason) so Event Grid does not retry them for 24 hours; a transient failure
 * throws after logging, so Event Grid redelivers.
 */
import type azf from "@azure/functions";
import { engineDeps } from "../composition.ts";
import { parseResourceEvent } from "../domain/decisions/events.ts";
import type { EngineDeps, EngineLogger } from "../workflows/engine-deps.ts";
import { handleResourceEvent } from "../workflows/handle-resource-event.ts";
import type { EventGridFunctionDefinition } from "./definition.ts";

/** The invocation's logger in the shape the engine's workflows take. */
export function invocationLogger(context: azf.InvocationContext): EngineLogger {
  return { info: (m) => context.log(m), warn: (m) => context.warn(m), error: (m) => context.error(m) };
}

/**
 * One log line per connection decision. `claimed-elsewhere` is the normal outcome of exactly-once: a duplicate event,
 * or an event racing the sweep, finds another run already deciding the connection and leaves it to that run; the
 * line says so instead of reading like a failure.
 */
export function decisionLogLine(decision: { readonly connectionId: string; readonly outcome: string; readonly summary: string }): string {
  if (decision.outcome === "claimed-elsewhere") {
    return `${decision.connectionId}: another run is already deciding it (${decision.summary}); left to that run, as intended for duplicate or racing deliveries.`;
  }
  return `${decision.connectionId}: ${decision.outcome}: ${decision.summary}`;
}

/** Handles one delivered event with the given engine (tests pass their own; the trigger uses the app's). */
export async function handlePrivateEndpointEvent(
  delivered: unknown,
  context: azf.InvocationContext,
  getDeps: (log: EngineLogger) => Promise<EngineDeps>,
): Promise<void> {
  const parsed = parseResourceEvent(delivered);
  if (parsed.kind === "ignored") {
    context.log(`Ignored event ${parsed.eventId ?? "(no id)"}: ${parsed.reason}.`);
    return;
  }
  if (parsed.kind === "malformed") {
    context.warn(`Malformed event ${parsed.eventId ?? "(no id)"} acknowledged without action: ${parsed.reason}.`);
    return;
  }
  const event = parsed.event;
  const result = await handleResourceEvent(event, context.invocationId, await getDeps(invocationLogger(context)));
  context.log(`Event ${event.id} (${event.operationName} on ${event.resourceId}): ${result.decisions.length} connection(s).`);
  for (const decision of result.decisions) context.log(decisionLogLine(decision));
  for (const note of result.notes) context.log(`Event ${event.id}: ${note}.`);
  for (const deferred of result.deferredToSweep) context.warn(`Event ${event.id}: ${deferred}.`);
  if (result.retry !== undefined) {
    context.error(`Event ${event.id} failed transiently and will be redelivered: ${result.retry.message}`);
    throw result.retry;
  }
}

export const privateEndpointEvents: EventGridFunctionDefinition = {
  kind: "eventGrid",
  name: "privateEndpointEvents",
  handler: (event, context) => handlePrivateEndpointEvent(event, context, engineDeps),
};
