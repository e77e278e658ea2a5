/**
 * `node dev/functions-host/main.ts [--port 7071]`: serves the function table that src/index.ts registers,
 * the way `func start` would. Like Core Tools, it copies `Values` from local.settings.json into the
 * environment without overriding variables already set, and takes the route prefix from host.json.
 * Settings are then parsed once, as src/index.ts does, so a bad setting stops start-up with one message.
 * (npm start composes Azurite, the ARM emulator and this host in dev/start.ts; this entry serves the
 * functions alone, against whatever the settings point at.)
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { settings, SettingsError } from "../../src/config.ts";
import { functionDefinitions } from "../../src/functions/index.ts";
import { startFunctionsHost } from "./index.ts";

const projectRoot = new URL("../../", import.meta.url);

/** `Values` of local.settings.json, or nothing when the file is absent. */
function readLocalSettings(): Record<string, string> {
  const file = new URL("local.settings.json", projectRoot);
  if (!existsSync(file)) return {};
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { Values?: Record<string, unknown> };
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.Values ?? {})) {
    if (value !== null && value !== undefined) values[name] = String(value);
  }
  return values;
}

/** host.json `extensions.http.routePrefix`, default "api". */
function readRoutePrefix(): string {
  const file = new URL("host.json", projectRoot);
  if (!existsSync(file)) return "api";
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { extensions?: { http?: { routePrefix?: unknown } } };
  const prefix = parsed.extensions?.http?.routePrefix;
  return typeof prefix === "string" ? prefix : "api";
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: { port: { type: "string", default: "7071" } } });
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got '${args.port}'`);

  for (const [name, value] of Object.entries(readLocalSettings())) {
    if (process.env[name] === undefined) process.env[name] = value;
    else console.log(`Skipping '${name}' from local.settings.json: it is already set in the environment.`);
  }
  settings();

  const host = await startFunctionsHost({ definitions: functionDefinitions, port, routePrefix: readRoutePrefix() });
  console.log(
    [
      `Master key (admin, x-functions-key or ?code=): ${host.keys.master}`,
      `Default function key: ${host.keys.defaultFunctionKey}`,
      `Event Grid system key (eventgrid_extension): ${host.keys.eventGridSystemKey}`,
    ].join("\n"),
  );
  const shutDown = (): void => {
    void host.close().then(() => process.exit(0));
  };
  process.once("SIGINT", shutDown);
  process.once("SIGTERM", shutDown);
}

main().catch((error: unknown) => {
  console.error(error instanceof SettingsError ? error.message : error);
  process.exit(1);
});
