/**
 * Azure Functions entry point (package.json `main`). Registers every definition in the function table
 * with the v4 programming model. Settings are parsed here, once, so a bad setting stops start-up with
 * one message listing every problem instead of failing later inside an invocation.
 */
import { app } from "@azure/functions";
import { settings, settingsWarnings } from "./config.ts";
import { withResolvedSchedules, type FunctionDefinition } from "./functions/definition.ts";
import { functionDefinitions } from "./functions/index.ts";

const definitions = withResolvedSchedules(functionDefinitions, settings());
// The host writes the worker's console to its logs: a deprecated setting is visible at every start.
for (const warning of settingsWarnings(settings())) console.warn(`Portcullis: ${warning}`);

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
        schedule: definition.schedule,
        runOnStartup: definition.runOnStartup ?? false,
        handler: definition.handler,
      });
      return;
  }
}

for (const definition of definitions) register(definition);

/** The names registered, for start-up logs and the test that runs the built output with plain node. */
export const registeredFunctionNames: readonly string[] = definitions.map((d) => d.name);
