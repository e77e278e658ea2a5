/** Every function Portcullis registers. Add a trigger module here and nowhere else. */
import { composition } from "../composition.ts";
import { createApiFunctions } from "./api.ts";
import { complianceAudit } from "./compliance-audit.ts";
import type { FunctionDefinition } from "./definition.ts";
import { health } from "./health.ts";
import { housekeeping } from "./housekeeping.ts";
import { privateEndpointEvents } from "./private-endpoint-events.ts";
import { reconcilePending } from "./reconcile-pending.ts";
import { withTelemetry } from "./telemetry.ts";
import { noTelemetry, type Telemetry } from "../ports/telemetry.ts";

/**
 * The app's telemetry for the trigger wrapper. Settings that do not parse are the handler's to report (the entry
 * point refuses to start with them anyway): telemetry itself never fails an invocation.
 */
async function appTelemetry(): Promise<Telemetry> {
  try {
    return await composition().telemetry();
  } catch {
    return noTelemetry;
  }
}

/** Each function traced and its logs redacted (src/functions/telemetry.ts); telemetry itself starts on first use. */
export const functionDefinitions: readonly FunctionDefinition[] = [
  health,
  privateEndpointEvents,
  reconcilePending,
  complianceAudit,
  housekeeping,
  ...createApiFunctions(composition),
].map((definition) => withTelemetry(definition, appTelemetry));
