/**
 * Azure Functions entry point (package.json `main`). Registers every definition in the function table
 * with the v4 programming model. Settings are parsed here, once, so a bad setting stops start-up with
 * one message listing every problem instead of failing later inside an invocation.
 */
import { app } from "@azure/functions";
import { settings, type Settings } from "./config.ts";
import type { FunctionDefinition } from "./functions/definition.ts";
import { functionDefinitions } from "./functions/index.ts";

const appSettings = settings();

/**
 * Timer schedules name their app setting as `%NAME%`. They are resolved here from the parsed settings, so the
 * schema's defaults apply in Azure too (the host itself would fail on an app setting that is not set).
 */
export function resolveSchedule(schedule: string, parsed: Settings): string {
  return schedule.replace(/%([A-Za-z0-9_]+)%/g, (whole, name: string) => {
    const value = (parsed as unknown as Record<string, unknown>)[name];
    if (typeof value !== "string") throw new Error(`timer schedule ${whole} names no string setting`);
    return value;
  });
}

function register(definition: FunctionDefinition): void {
  switch (definition.kind) {
    case "http":
      app.http(definition.name, {
        route: definition.route,
        methods: [...definition.methods],
        authLevel: definition.authLevel,
        handler: definition.handler,
      });
      return;
    case "eventGrid":
      app.eventGrid(definition.name, { handler: (event, context) => definition.handler(event, context) });
      return;
    case "timer":
      app.timer(definition.name, {
        schedule: resolveSchedule(definition.schedule, appSettings),
        runOnStartup: definition.runOnStartup ?? false,
        handler: definition.handler,
      });
      return;
  }
}

for (const definition of functionDefinitions) register(definition);

/** The names registered, for start-up logs and the test that runs the built output with plain node. */
export const registeredFunctionNames: readonly string[] = functionDefinitions.map((d) => d.name);
