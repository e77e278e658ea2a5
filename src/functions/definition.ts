/**
 * The one table of functions: each trigger module exports a FunctionDefinition; src/index.ts registers
 * every definition with the Azure Functions v4 model, and the local host (dev/functions-host) serves the
 * same table. What runs locally is therefore what is deployed.
 */
import type azf from "@azure/functions";

export type HttpAuthLevel = "anonymous" | "function" | "admin";

export interface HttpFunctionDefinition {
  readonly kind: "http";
  readonly name: string;
  /** Route under /api, in the Functions route template syntax (`instances/{subscriptionId}/...`). */
  readonly route: string;
  readonly methods: readonly ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS")[];
  readonly authLevel: HttpAuthLevel;
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
