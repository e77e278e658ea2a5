/**
 * Which estate a run talks to, and with which settings. Two targets:
 *
 * - Azure (default): the same PORTCULLIS_* settings as the app, taken from (later wins) a config file
 *   (`--config`, else portcullis.config.json|yaml|yml in the current directory), the environment, then flags.
 *   ARM and Table Storage are reached with DefaultAzureCredential, so `az login` is enough.
 * - Local (`--local`): the settings `npm start` wrote to .local/stack.json, then flags. The shell's PORTCULLIS_*
 *   variables are ignored there, so Azure settings in a shell never leak into a local run.
 *
 * Settings are parsed with the app's own zod schema; the composition root (src/composition.ts) builds the adapters
 * from them, exactly as in the Functions app. Every command needs the storage account; all but `rules` also need
 * the managed scope. A missing or invalid setting is a usage error naming the flag, variable and config key.
 */
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { settingsSchema, ungovernedResourceProblems, type Settings } from "../config.ts";
import { CliError, EXIT } from "./exit-codes.ts";
import { formatProblem, locationOf, type FileProblem } from "./rule-files.ts";

/** The global flags that choose and shape the target (commander's parsed values). */
export interface TargetFlags {
  readonly local?: boolean | undefined;
  readonly stackFile?: string | undefined;
  readonly config?: string | undefined;
  readonly subscription?: readonly string[] | undefined;
  readonly apim?: readonly string[] | undefined;
  readonly resource?: readonly string[] | undefined;
  readonly resourceType?: readonly string[] | undefined;
  readonly storageAccount?: string | undefined;
  readonly tablesEndpoint?: string | undefined;
  readonly tablePrefix?: string | undefined;
  readonly dnsZone?: readonly string[] | undefined;
  readonly mode?: string | undefined;
  /** Output option carried with the global flags: tables are not cut to the terminal's width. */
  readonly wide?: boolean | undefined;
}

/** What a command needs besides storage: the managed scope (instances and/or subscriptions) for reading ARM. */
export interface TargetNeeds {
  readonly scope: boolean;
}

export interface Target {
  readonly kind: "azure" | "local";
  readonly settings: Settings;
  /** Local targets: the stack file and the process that wrote it, for the liveness check. */
  readonly stack?: { readonly file: string; readonly pid: number | undefined } | undefined;
  /** Where the settings came from, for the banner: the stack file (local), or e.g. "config portcullis.config.yaml + environment". */
  readonly source: string;
}

/** The local stack file `npm start` writes; only `settings` is read here. */
const stackFileSchema = z.looseObject({ settings: z.record(z.string(), z.string()), pid: z.int().positive().optional() });

const stringList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v.join(",") : v));

/** portcullis.config.json|yaml: friendly keys for the usual settings, `settings` for any other PORTCULLIS_* one. */
const configFileSchema = z.strictObject({
  subscriptions: stringList.optional(),
  instances: stringList.optional(),
  resources: stringList.optional(),
  resourceTypes: stringList.optional(),
  storageAccount: z.string().regex(/^[a-z0-9]{3,24}$/, "a storage account name: 3-24 lower-case letters and digits").optional(),
  tablesEndpoint: z.string().optional(),
  tablePrefix: z.string().optional(),
  dnsZones: stringList.optional(),
  mode: z.enum(["enforce", "dry-run"]).optional(),
  settings: z.record(z.string().regex(/^PORTCULLIS_[A-Z0-9_]+$/, "settings keys are PORTCULLIS_* app settings"), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional(),
});

const CONFIG_FILE_NAMES = ["portcullis.config.json", "portcullis.config.yaml", "portcullis.config.yml"];

/** The project root of this CLI (two levels above src/cli/), where `npm start` writes .local/stack.json. */
const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The API's token settings mean nothing to the CLI (it calls ARM and storage directly and validates no tokens),
 * so when absent they get inert values that satisfy the app's schema.
 */
const INERT_API_SETTINGS = {
  PORTCULLIS_AUTH_ISSUER: "https://login.microsoftonline.com/organizations/v2.0",
  PORTCULLIS_AUTH_AUDIENCE: "api://portcullis-cli-unused",
} as const;

/** Resolves the target from flags, the environment and files. Throws a usage error (exit 2) on bad settings. */
export function resolveTarget(flags: TargetFlags, env: Readonly<Record<string, string | undefined>>, needs: TargetNeeds, cwd: string = process.cwd()): Target {
  const flagSettings = settingsFromFlags(flags);
  if (flags.local) {
    const stackFile = findStackFile(flags.stackFile ?? env["PORTCULLIS_STACK_FILE"], cwd);
    const { settings: stack, pid } = readStackFile(stackFile);
    return { kind: "local", ...parseCliSettings({ ...stack, ...flagSettings }, needs, "local", originsOf(flagSettings, flags)), source: stackFile, stack: { file: stackFile, pid } };
  }
  const configFile = findConfigFile(flags.config, cwd);
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const fromEnv = Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith("PORTCULLIS_")));
  const sources = [configFile ? `config ${configFile}` : undefined, Object.keys(fromEnv).length > 0 ? "environment" : undefined, Object.keys(flagSettings).length > 0 ? "flags" : undefined];
  const source = sources.filter((s) => s !== undefined).join(" + ") || "defaults";
  const origins = { ...Object.fromEntries(Object.keys(fromFile).map((name) => [name, `${name} in ${configFile}`])), ...Object.fromEntries(Object.keys(fromEnv).map((name) => [name, name])), ...originsOf(flagSettings, flags) };
  return { kind: "azure", ...parseCliSettings({ ...fromFile, ...fromEnv, ...flagSettings }, needs, "azure", origins), source };
}

/** The flag that sets each setting, so a bad value is reported under the name the user typed. */
const FLAG_OF_SETTING: Readonly<Record<string, (flags: TargetFlags) => string>> = {
  PORTCULLIS_MANAGED_SUBSCRIPTIONS: () => "--subscription",
  PORTCULLIS_MANAGED_INSTANCES: () => "--apim",
  PORTCULLIS_MANAGED_RESOURCES: () => "--resource",
  PORTCULLIS_MANAGED_RESOURCE_TYPES: () => "--resource-type",
  PORTCULLIS_DNS_ZONE_IDS: () => "--dns-zone",
  PORTCULLIS_TABLES_ENDPOINT: (flags) => (flags.storageAccount !== undefined ? "--storage-account" : "--tables-endpoint"),
  PORTCULLIS_TABLE_PREFIX: () => "--table-prefix",
  PORTCULLIS_MODE: () => "--mode",
};

function originsOf(flagSettings: Readonly<Record<string, string>>, flags: TargetFlags): Record<string, string> {
  const origins: Record<string, string> = {};
  for (const name of Object.keys(flagSettings)) {
    const flag = FLAG_OF_SETTING[name];
    if (flag !== undefined) origins[name] = flag(flags);
  }
  return origins;
}

function settingsFromFlags(flags: TargetFlags): Record<string, string> {
  const settings: Record<string, string> = {};
  if (flags.subscription?.length) settings["PORTCULLIS_MANAGED_SUBSCRIPTIONS"] = flags.subscription.join(",");
  if (flags.apim?.length) settings["PORTCULLIS_MANAGED_INSTANCES"] = flags.apim.join(",");
  if (flags.resource?.length) settings["PORTCULLIS_MANAGED_RESOURCES"] = flags.resource.join(",");
  if (flags.resourceType?.length) settings["PORTCULLIS_MANAGED_RESOURCE_TYPES"] = flags.resourceType.join(",");
  if (flags.dnsZone?.length) settings["PORTCULLIS_DNS_ZONE_IDS"] = flags.dnsZone.join(",");
  if (flags.storageAccount !== undefined) Object.assign(settings, storageAccountSettings(flags.storageAccount));
  if (flags.tablesEndpoint !== undefined) Object.assign(settings, { PORTCULLIS_TABLES_ENDPOINT: flags.tablesEndpoint, PORTCULLIS_TABLES_CONNECTION_STRING: "" });
  if (flags.tablePrefix !== undefined) settings["PORTCULLIS_TABLE_PREFIX"] = flags.tablePrefix;
  if (flags.mode !== undefined) settings["PORTCULLIS_MODE"] = flags.mode;
  return settings;
}

/** A storage account name means its public table endpoint, reached with the signed-in identity (no keys). */
function storageAccountSettings(name: string): Record<string, string> {
  if (!/^[a-z0-9]{3,24}$/.test(name)) throw new CliError(EXIT.usage, `--storage-account: "${name}" is not a storage account name (3-24 lower-case letters and digits)`);
  return { PORTCULLIS_TABLES_ENDPOINT: `https://${name}.table.core.windows.net`, PORTCULLIS_TABLES_CONNECTION_STRING: "" };
}

function findStackFile(given: string | undefined, cwd: string): string {
  const candidates = given !== undefined ? [resolve(cwd, given)] : [join(cwd, ".local", "stack.json"), join(PROJECT_ROOT, ".local", "stack.json")];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new CliError(
      EXIT.usage,
      `no local stack is running: start it with npm start (in another terminal; it writes .local/stack.json). No stack file at ${[...new Set(candidates)].join(" or ")}; or pass --stack-file.`,
    );
  }
  return found;
}

/** The stack's settings; relative *_FILE paths are taken relative to the project root (the folder holding .local/). */
function readStackFile(path: string): { settings: Record<string, string>; pid: number | undefined } {
  let parsed: z.output<typeof stackFileSchema>;
  try {
    parsed = stackFileSchema.parse(JSON.parse(readFileSync(path, "utf8")));
  } catch (error) {
    throw new CliError(EXIT.usage, `${path} is not a local stack file (expected {"settings": {...}}): ${(error as Error).message.split("\n")[0]}`);
  }
  const root = dirname(path).endsWith(".local") ? dirname(dirname(path)) : dirname(path);
  const settings = Object.fromEntries(
    Object.entries(parsed.settings).map(([name, value]) => [name, name.endsWith("_FILE") && value !== "" && !isAbsolute(value) ? resolve(root, value) : value]),
  );
  return { settings, pid: parsed.pid };
}

/** How long the liveness check waits for a local server to accept a connection: a stale file must fail fast. */
const LOCAL_PROBE_TIMEOUT_MS = 1_500;

/** True when something accepts a TCP connection at the URL's host and port within the timeout. */
function accepts(url: string): Promise<boolean> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (alive: boolean) => {
      socket.destroy();
      done(alive);
    };
    socket.setTimeout(LOCAL_PROBE_TIMEOUT_MS, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A local target's stack must be running before anything is asked of it: otherwise the SDKs retry a refused
 * connection for about a minute and end with "try again later". The process that wrote the file must exist and the
 * ARM emulator and Table Storage must accept connections; checked in parallel, so a stale file fails in under 2 s.
 */
export async function requireLocalStackRunning(target: Target): Promise<void> {
  if (target.kind !== "local" || target.stack === undefined) return;
  const { file, pid } = target.stack;
  const tables = target.settings.PORTCULLIS_TABLES_ENDPOINT ?? tableEndpointIn(target.settings.PORTCULLIS_TABLES_CONNECTION_STRING);
  const endpoints = [
    { what: "the ARM emulator", url: target.settings.PORTCULLIS_ARM_ENDPOINT },
    ...(tables !== undefined ? [{ what: "Table Storage", url: tables }] : []),
  ];
  const writerGone = pid !== undefined && !processExists(pid);
  const dead = writerGone ? endpoints : (await Promise.all(endpoints.map(async (e) => ((await accepts(e.url)) ? undefined : e)))).filter((e) => e !== undefined);
  if (!writerGone && dead.length === 0) return;
  const why = writerGone ? `the process that wrote it (pid ${pid}) has exited` : `${dead.map((e) => `${e.what} at ${e.url}`).join(" and ")} did not answer`;
  throw new CliError(EXIT.usage, `no local stack is running: start it with npm start (${file} is stale: ${why}).`);
}

function tableEndpointIn(connectionString: string | undefined): string | undefined {
  return connectionString === undefined ? undefined : /TableEndpoint=([^;]+)/i.exec(connectionString)?.[1];
}

function findConfigFile(given: string | undefined, cwd: string): string | undefined {
  if (given !== undefined) {
    const path = resolve(cwd, given);
    if (!existsSync(path)) throw new CliError(EXIT.usage, `--config: ${path} does not exist`);
    return path;
  }
  return CONFIG_FILE_NAMES.map((name) => join(cwd, name)).find((path) => existsSync(path));
}

/** Reads a config file (JSON or YAML) into PORTCULLIS_* settings; relative *_FILE paths are relative to the file. */
function readConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(EXIT.usage, `--config: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const config = parseConfigText(path, text);

  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.settings ?? {})) {
    const text = Array.isArray(value) ? value.join(",") : String(value);
    settings[name] = name.endsWith("_FILE") && text !== "" && !isAbsolute(text) ? resolve(dirname(path), text) : text;
  }
  if (config.subscriptions !== undefined) settings["PORTCULLIS_MANAGED_SUBSCRIPTIONS"] = config.subscriptions;
  if (config.instances !== undefined) settings["PORTCULLIS_MANAGED_INSTANCES"] = config.instances;
  if (config.resources !== undefined) settings["PORTCULLIS_MANAGED_RESOURCES"] = config.resources;
  if (config.resourceTypes !== undefined) settings["PORTCULLIS_MANAGED_RESOURCE_TYPES"] = config.resourceTypes;
  if (config.dnsZones !== undefined) settings["PORTCULLIS_DNS_ZONE_IDS"] = config.dnsZones;
  if (config.storageAccount !== undefined) Object.assign(settings, storageAccountSettings(config.storageAccount));
  if (config.tablesEndpoint !== undefined) settings["PORTCULLIS_TABLES_ENDPOINT"] = config.tablesEndpoint;
  if (config.tablePrefix !== undefined) settings["PORTCULLIS_TABLE_PREFIX"] = config.tablePrefix;
  if (config.mode !== undefined) settings["PORTCULLIS_MODE"] = config.mode;
  return settings;
}

const CONFIG_KEYS = Object.keys(configFileSchema.shape);

/**
 * Parses config file text with the config schema, reporting every problem as `file:line:column  key: message`
 * (as rule files do), and an unknown key with the valid ones. Pure, so positions can be tested on strings.
 */
export function parseConfigText(path: string, text: string): z.output<typeof configFileSchema> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true });
  const problems: FileProblem[] = document.errors.map((e) => ({
    location: e.linePos ? { line: e.linePos[0].line, column: e.linePos[0].col } : undefined,
    path: "",
    message: (e.message.split("\n")[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ""),
  }));
  if (problems.length === 0) {
    const result = configFileSchema.safeParse(document.toJS() ?? {});
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const keys = issue.path.map((k) => (typeof k === "symbol" ? String(k) : k));
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          const valid = keys.length === 0 ? `valid keys are ${CONFIG_KEYS.join(", ")}` : "settings keys are PORTCULLIS_* app settings";
          problems.push({ location: locationOf(document, lineCounter, [...keys, key], true), path: [...keys, key].join("."), message: `unknown key "${key}"; ${valid}` });
        }
        continue;
      }
      // A bad settings key is reported at the key, a bad value at the value.
      const badKey = issue.code === "invalid_key";
      const message = badKey ? `"${String(keys.at(-1))}" is not a setting: settings keys are PORTCULLIS_* app settings in capitals, e.g. PORTCULLIS_MODE` : issue.message;
      problems.push({ location: locationOf(document, lineCounter, keys, badKey), path: keys.join(".") || "(file)", message });
    }
    problems.sort((a, b) => (a.location?.line ?? Infinity) - (b.location?.line ?? Infinity) || (a.location?.column ?? 0) - (b.location?.column ?? 0));
  }
  const lines = problems.map((p) => `  ${formatProblem(path, p)}`);
  throw new CliError(EXIT.usage, `${path} has ${problems.length} problem(s):\n${lines.join("\n")}`);
}

/** How a user gives each setting a command may need, for the "missing" message. */
const HOW_TO_SET = {
  scope: "--subscription ID / --resource RESOURCE-ID (or --apim RESOURCE-ID), PORTCULLIS_MANAGED_SUBSCRIPTIONS / PORTCULLIS_MANAGED_RESOURCES, or subscriptions / resources in portcullis.config.yaml",
  tables: "--storage-account NAME (or --tables-endpoint URL), PORTCULLIS_TABLES_ENDPOINT, or storageAccount in portcullis.config.yaml",
};

/** Parses settings with the app's schema, then checks that storage (and, when needed, the managed scope) is set. */
export function parseCliSettings(
  raw: Readonly<Record<string, string | undefined>>,
  needs: TargetNeeds,
  kind: Target["kind"],
  /** Where each setting came from when not the variable itself: `--subscription`, `subscriptions in FILE`. */
  origins: Readonly<Record<string, string>> = {},
): Pick<Target, "settings"> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) if (value !== undefined && value.trim() !== "") env[name] = value;
  for (const [name, value] of Object.entries(INERT_API_SETTINGS)) env[name] ??= value;
  const result = settingsSchema.safeParse(env);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const name = issue.path.length > 0 ? String(issue.path[0]) : "(settings)";
        const value = env[name];
        return `${origins[name] ?? name}: ${issue.message} (${value === undefined ? "missing" : `got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}`})`;
      });
  if (needs.scope && !env["PORTCULLIS_MANAGED_RESOURCES"] && !env["PORTCULLIS_MANAGED_INSTANCES"] && !env["PORTCULLIS_MANAGED_SUBSCRIPTIONS"]) {
    problems.push(`which resources to read is not set: give ${HOW_TO_SET.scope}`);
  }
  problems.push(...ungovernedResourceProblems(env).map((p) => p.replace(/^[A-Z_]+/, (name) => origins[name] ?? name)));
  if (!env["PORTCULLIS_TABLES_ENDPOINT"] && !env["PORTCULLIS_TABLES_CONNECTION_STRING"]) {
    problems.push(`the storage account is not set: give ${HOW_TO_SET.tables}`);
  }
  if (problems.length > 0 || !result.success) {
    const where = kind === "local" ? " in the local stack's settings" : "";
    throw new CliError(EXIT.usage, `${problems.length} setting problem(s)${where}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return { settings: result.data };
}
