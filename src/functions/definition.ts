/**
 * The one table of functions: each trigger module exports a FunctionDefinition; src/index.ts registers
 * every definition with the Azure Functions v4 model, and the local host (dev/functions-host) serves the
 * same table. What runs locally is therefore what is deployed.
 */
import type azf from "@azure/functions";
import type { Settings } from "../config.ts";

export type HttpAuthLevel = "anonymous" | "function" | "admin";

export interface HttpFunctionDefinition {
  readonly kind: "http";
  readonly name: string;
  /** Route under /api, in the Functions route template syntax (`instances/{subscriptionId}/...`). */
  readonly route: string;
  readonly methods: readonly ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS")[];
  readonly authLevel: HttpAuthLevel;
  /**
   * The app role of the Entra ID bearer token the app itself requires (src/http/route.ts), when it requires one.
   * The host knows nothing of it (the trigger is `anonymous` to the host); it is here so a route list can say which
   * routes are open and which need a token.
   */
  readonly requiresBearerRole?: string | undefined;
  readonly handler: (request: azf.HttpRequest, context: azf.InvocationContext) => Promise<azf.HttpResponseInit>;
}

export interface EventGridFunctionDefinition {
  readonly kind: "eventGrid";
  readonly name: string;
  /** Receives one event (Event Grid schema or CloudEvents 1.0), exactly as the host delivers it. */
  readonly handler: (event: unknown, context: azf.InvocationContext) => Promise<void>;
}

export interface TimerFunctionDefinition {
  readonly kind: "timer";
  readonly name: string;
  /** Six-field NCRONTAB, or `%SETTING_NAME%` to read it from an app setting (resolved by the host). */
  readonly schedule: string;
  readonly runOnStartup?: boolean;
  readonly handler: (timer: azf.Timer, context: azf.InvocationContext) => Promise<void>;
}

export type FunctionDefinition = HttpFunctionDefinition | EventGridFunctionDefinition | TimerFunctionDefinition;

/**
 * The table with every timer's `%NAME%` schedule replaced by that setting's parsed value. src/index.ts registers
 * this form, so the schema's defaults apply in Azure too (the host would refuse an app setting that is not set), and
 * the local host is given the same form, so what runs locally is what is deployed.
 */
export function withResolvedSchedules(definitions: readonly FunctionDefinition[], settings: Settings): FunctionDefinition[] {
  return definitions.map((definition) =>
    definition.kind !== "timer"
      ? definition
      : {
          ...definition,
          schedule: definition.schedule.replace(/%([A-Za-z0-9_]+)%/g, (whole, name: string) => {
            const value = (settings as unknown as Record<string, unknown>)[name];
            if (typeof value !== "string") throw new Error(`timer ${definition.name}: schedule ${whole} names no string setting`);
            return value;
          }),
        },
  );
}
