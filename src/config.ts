/**
 * Every Portcullis app setting, parsed once with one zod schema.
 *
 * A missing or invalid setting stops start-up with one message that names each setting and its
 * problem, never its value (any setting may hold a pasted secret). infra/ sets every required setting (a test reads the Bicep to prove it), and
 * local.settings.sample.json lists them all with sample values.
 */
import { z } from "zod";
import type { ManagedScope } from "./domain/decisions/decision-scope.ts";
import { providerOf, REGISTERED_RESOURCE_TYPES } from "./domain/providers/registry.ts";
import { resourceIdKey, resourceTypeOf } from "./domain/resource-id.ts";

const ARM_ID_APIM =
  /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.ApiManagement\/service\/[^/]+$/i;
const ARM_ID_DNS_ZONE =
  /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/privateDnsZones\/[^/]+$/i;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A comma-separated setting, blank entries dropped; each item must match `item`. */
function list<T extends z.ZodType<unknown, string>>(item: T) {
  return z
    .string()
    .optional()
    .transform((raw) => (raw ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0))
    .pipe(z.array(item));
}

/** The type an upgrade governs when PORTCULLIS_MANAGED_RESOURCE_TYPES is unset: what Portcullis governed before it. */
export const DEFAULT_MANAGED_RESOURCE_TYPE = "Microsoft.ApiManagement/service";

const registeredTypes = (): string => REGISTERED_RESOURCE_TYPES.join(", ");

/**
 * PORTCULLIS_MANAGED_RESOURCE_TYPES: ARM types from the provider registry (case-insensitive, given back in the registry's
 * casing), or `*` for every registered type. Unset: API Management only, so an upgrade never silently starts governing
 * storage accounts or vaults.
 */
const managedResourceTypes = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const items = (raw ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    if (items.length === 0) return [DEFAULT_MANAGED_RESOURCE_TYPE];
    if (items.includes("*")) {
      if (items.length > 1) ctx.addIssue({ code: "custom", message: "'*' (every registered type) cannot be combined with named types" });
      return [...REGISTERED_RESOURCE_TYPES];
    }
    const types: string[] = [];
    for (const item of items) {
      const provider = providerOf(item);
      // Named only when it has a type's shape: naming it is what makes the message useful, and a pasted secret never has it.
      const shown = /^[A-Za-z][A-Za-z0-9.]{0,63}\/[A-Za-z][A-Za-z0-9]{0,63}$/.test(item) ? `'${item}'` : `entry ${items.indexOf(item) + 1}`;
      if (provider === undefined) ctx.addIssue({ code: "custom", message: `${shown} is not a registered resource type; registered: ${registeredTypes()}` });
      else if (!types.includes(provider.resourceType)) types.push(provider.resourceType);
    }
    return types;
  });

/** A top-level resource ID of a registered Private Link type. */
const privateLinkResourceId = z
  .string()
  .refine((id) => {
    const type = resourceTypeOf(id);
    return type !== undefined && /^\/subscriptions\/[0-9a-fA-F-]{36}\//i.test(id) && providerOf(type) !== undefined;
  }, `expected the resource ID of a registered type (${REGISTERED_RESOURCE_TYPES.join(", ")})`);

const booleanSetting = z
  .enum(["true", "false", "True", "False", "1", "0"])
  .optional()
  .transform((v) => v === "true" || v === "True" || v === "1");

/** NCRONTAB with six fields ({second} {minute} {hour} {day} {month} {day-of-week}). */
const ncrontab = z.string().regex(/^\S+( \S+){5}$/, "expected six NCRONTAB fields: {second} {minute} {hour} {day} {month} {day-of-week}");

export const REMEDIABLE_CHECKS = ["public-network-access", "dns-record"] as const;

export const settingsSchema = z.object({
    /** `enforce` writes decisions to ARM; `dry-run` evaluates and records only. */
    PORTCULLIS_MODE: z.enum(["enforce", "dry-run"]).default("dry-run"),
    /** What happens to a connection no rule matches. */
    PORTCULLIS_DEFAULT_ACTION: z.enum(["manual", "reject"]).default("manual"),
    /** Which resource types Portcullis governs (registry types, case-insensitive; `*` = all). Default: API Management. */
    PORTCULLIS_MANAGED_RESOURCE_TYPES: managedResourceTypes,
    /** Explicit resource IDs that Portcullis governs; each of a governed type. */
    PORTCULLIS_MANAGED_RESOURCES: list(privateLinkResourceId),
    /** Deprecated alias of PORTCULLIS_MANAGED_RESOURCES for APIM IDs (still read; start-up warns). */
    PORTCULLIS_MANAGED_INSTANCES: list(z.string().regex(ARM_ID_APIM, "expected an APIM resource ID")),
    /** Subscriptions in which every resource of the governed types is governed. */
    PORTCULLIS_MANAGED_SUBSCRIPTIONS: list(z.string().regex(GUID, "expected a subscription ID (GUID)")),
    /**
     * Where the sweep finds Pending connections and the audit its resources, connections, endpoints and NICs:
     * `arm-listing` (per subscription and resource; small estates, or where Resource Graph is not allowed) or
     * `resource-graph` (a few paged queries for the whole scope; docs/inventory.md). Either way only candidates: every
     * write, and every high-severity finding, is re-read from ARM first.
     */
    PORTCULLIS_INVENTORY: z.enum(["arm-listing", "resource-graph"]).default("arm-listing"),
    PORTCULLIS_RECONCILE_SCHEDULE: ncrontab.default("0 */5 * * * *"),
    PORTCULLIS_AUDIT_SCHEDULE: ncrontab.default("0 0 6 * * *"),
    /** When expired idempotency keys and old finished operations are deleted (Table Storage has no TTL). */
    PORTCULLIS_HOUSEKEEPING_SCHEDULE: ncrontab.default("0 30 3 * * *"),
    /** How long a finished operation stays readable at GET /api/operations/{id}. */
    PORTCULLIS_OPERATION_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
    /** Table service endpoint reached with the managed identity (Azure). */
    PORTCULLIS_TABLES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
    /** Connection string (local stack / Azurite only; Azure uses the endpoint and identity). */
    PORTCULLIS_TABLES_CONNECTION_STRING: z.string().min(1).optional(),
    PORTCULLIS_TABLE_PREFIX: z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,39}$/, "letters and digits, starting with a letter, at most 40").default("portcullis"),
    /** Azure Resource Manager endpoint; the local stack points it at the ARM emulator. */
    PORTCULLIS_ARM_ENDPOINT: z.url({ protocol: /^https$/ }).default("https://management.azure.com"),
    /**
     * `default` = DefaultAzureCredential (managed identity in Azure); `local-emulator` = client credentials at the local
     * OpenID issuer (PORTCULLIS_ARM_TOKEN_ENDPOINT), whose tokens the ARM emulator verifies and authorizes.
     */
    PORTCULLIS_ARM_CREDENTIAL: z.enum(["default", "local-emulator"]).default("default"),
    /** Local stack only: the local issuer's token endpoint the `local-emulator` credential asks. */
    PORTCULLIS_ARM_TOKEN_ENDPOINT: z.url({ protocol: /^https$/ }).optional(),
    /** Local stack only: the client ID the `local-emulator` credential names (its object ID follows from it). */
    PORTCULLIS_ARM_CLIENT_ID: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, "letters, digits, '.', '_', '-'").optional(),
    /** Local stack only: PEM file of the local issuer's certificate, for the token endpoint. */
    PORTCULLIS_ARM_TOKEN_CA_FILE: z.string().min(1).optional(),
    /** PEM file of a CA to trust for ARM (local emulator's self-signed certificate only). */
    PORTCULLIS_ARM_CA_FILE: z.string().min(1).optional(),
    /** Upper bound on concurrent ARM calls per workflow run. */
    PORTCULLIS_ARM_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
    /** Optional Event Grid custom topic endpoint for Portcullis notifications (CloudEvents). */
    PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
    /** Entra ID issuer and audience of the API's bearer tokens. */
    PORTCULLIS_AUTH_ISSUER: z.url({ protocol: /^https$/ }),
    PORTCULLIS_AUTH_AUDIENCE: z.string().min(1),
    /** PEM file of a CA to trust for the issuer's discovery document and JWKS (local OpenID issuer only; never set in Azure). */
    PORTCULLIS_AUTH_CA_FILE: z.string().min(1).optional(),
    /** Ticket references accepted by the manual approval API. */
    PORTCULLIS_TICKET_PATTERN: z
      .string()
      .default("^(?:(?:CHG|RITM|INC)\\d{7}|[A-Z][A-Z0-9_]+-\\d+)$")
      .refine((p) => { try { new RegExp(p); return true; } catch { return false; } }, "not a valid regular expression"),
    /** How long the approval API waits for ARM before answering 202 with an operation. */
    PORTCULLIS_APPROVAL_WAIT_MS: z.coerce.number().int().min(0).max(230_000).default(20_000),
    /** Audit: private DNS zones (privatelink.azure-api.net) to compare against endpoint IPs. */
    PORTCULLIS_DNS_ZONE_IDS: list(z.string().regex(ARM_ID_DNS_ZONE, "expected a private DNS zone resource ID")),
    /** Audit: instances allowed to keep public network access. */
    PORTCULLIS_PUBLIC_ACCESS_EXEMPT: list(z.string().regex(ARM_ID_APIM, "expected an APIM resource ID")),
    /** Audit: when public network access must be Disabled: once an approved connection exists, or always. */
    PORTCULLIS_PUBLIC_ACCESS_REQUIRE_DISABLED: z.enum(["when-approved", "always"]).default("when-approved"),
    PORTCULLIS_PENDING_MAX_AGE_HOURS: z.coerce.number().positive().default(24),
    PORTCULLIS_REJECTED_MAX_AGE_DAYS: z.coerce.number().positive().default(30),
    PORTCULLIS_CAPACITY_WARNING: z.coerce.number().int().min(1).max(100).default(80),
    /** Audit remediations to apply (off unless listed). */
    PORTCULLIS_REMEDIATE: list(z.enum(REMEDIABLE_CHECKS)),
    /** Set by App Service when its built-in authentication is on; only then is x-ms-client-principal trusted. */
    WEBSITE_AUTH_ENABLED: booleanSetting,
    /**
     * Application Insights: when set, traces and metrics go there through OpenTelemetry (docs/operations.md);
     * unset, no telemetry SDK is loaded and nothing is sent. infra sets it with the host's settings.
     */
    APPLICATIONINSIGHTS_CONNECTION_STRING: z
      .string()
      .regex(/(^|;)\s*(InstrumentationKey|IngestionEndpoint)\s*=/i, "expected an Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=...)")
      .optional(),
    /** `Authorization=AAD` (with ClientId=...): send telemetry with the app's identity, for resources that refuse keys. */
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z.string().optional(),
  });

/**
 * Rules that span settings. Checked on the raw values, so they are reported together with the
 * per-setting problems rather than only once everything else is valid.
 */
function crossSettingProblems(env: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  if (!env["PORTCULLIS_MANAGED_RESOURCES"] && !env["PORTCULLIS_MANAGED_INSTANCES"] && !env["PORTCULLIS_MANAGED_SUBSCRIPTIONS"]) {
    problems.push(
      "PORTCULLIS_MANAGED_RESOURCES: set PORTCULLIS_MANAGED_RESOURCES and/or PORTCULLIS_MANAGED_SUBSCRIPTIONS: Portcullis must know which resources it governs (missing)",
    );
  }
  if (!env["PORTCULLIS_TABLES_ENDPOINT"] && !env["PORTCULLIS_TABLES_CONNECTION_STRING"]) {
    problems.push(
      "PORTCULLIS_TABLES_ENDPOINT: set PORTCULLIS_TABLES_ENDPOINT (Azure, managed identity) or PORTCULLIS_TABLES_CONNECTION_STRING (local stack) (missing)",
    );
  }
  problems.push(...ungovernedResourceProblems(env));
  return problems;
}

/**
 * A listed resource whose type PORTCULLIS_MANAGED_RESOURCE_TYPES does not govern would be silently ignored: refuse it,
 * naming the entry and its type (the ID itself is not shown, as for every setting). Checked on the raw values.
 */
export function ungovernedResourceProblems(env: Readonly<Record<string, string | undefined>>): string[] {
  const types = managedResourceTypes.safeParse(env["PORTCULLIS_MANAGED_RESOURCE_TYPES"]);
  if (!types.success) return [];
  const governed = new Set(types.data.map((t) => t.toLowerCase()));
  const problems: string[] = [];
  for (const name of ["PORTCULLIS_MANAGED_RESOURCES", "PORTCULLIS_MANAGED_INSTANCES"]) {
    (env[name] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .forEach((id, i) => {
        const provider = providerOf(resourceTypeOf(id) ?? "");
        if (provider !== undefined && !governed.has(provider.resourceType.toLowerCase())) {
          problems.push(`${name}: entry ${i + 1}: is a ${provider.resourceType}, which PORTCULLIS_MANAGED_RESOURCE_TYPES (${types.data.join(", ")}) does not govern`);
        }
      });
  }
  return problems;
}


export type Settings = z.output<typeof settingsSchema>;

/**
 * The managed scope the settings describe: the governed types, the listed resources (PORTCULLIS_MANAGED_RESOURCES plus
 * the deprecated PORTCULLIS_MANAGED_INSTANCES, each once) and the managed subscriptions.
 */
export function managedScopeOf(
  s: Pick<Settings, "PORTCULLIS_MANAGED_RESOURCE_TYPES" | "PORTCULLIS_MANAGED_RESOURCES" | "PORTCULLIS_MANAGED_INSTANCES" | "PORTCULLIS_MANAGED_SUBSCRIPTIONS">,
): ManagedScope {
  const resourceIds = new Map<string, string>();
  for (const id of [...s.PORTCULLIS_MANAGED_RESOURCES, ...s.PORTCULLIS_MANAGED_INSTANCES]) if (!resourceIds.has(resourceIdKey(id))) resourceIds.set(resourceIdKey(id), id);
  return { resourceTypes: s.PORTCULLIS_MANAGED_RESOURCE_TYPES, resourceIds: [...resourceIds.values()], subscriptionIds: s.PORTCULLIS_MANAGED_SUBSCRIPTIONS };
}

/** What start-up logs as a warning: deprecated settings still in use, with what replaces them. */
export function settingsWarnings(s: Pick<Settings, "PORTCULLIS_MANAGED_INSTANCES">): string[] {
  return s.PORTCULLIS_MANAGED_INSTANCES.length > 0
    ? [
        "PORTCULLIS_MANAGED_INSTANCES is deprecated: it is read as PORTCULLIS_MANAGED_RESOURCES (which takes the resource ID of any governed type); move its entries there.",
      ]
    : [];
}

/** Thrown when settings do not parse; its message lists every problem by setting name. */
export class SettingsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Portcullis cannot start: ${problems.length} setting problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SettingsError";
    this.problems = problems;
  }
}

/** Parses settings from an environment (process.env in the app). Throws SettingsError listing every problem. */
export function parseSettings(rawEnv: Readonly<Record<string, string | undefined>>): Settings {
  // App Service and azd write unset settings as empty strings: treat those as absent.
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== undefined && v.trim() !== ""));
  const result = settingsSchema.safeParse(env);
  const crossProblems = crossSettingProblems(env);
  if (result.success && crossProblems.length === 0) return result.data;
  // Never the value: a connection string or key pasted into the wrong setting would end up in the host's logs.
  const fieldProblems = (result.success ? [] : result.error.issues).map((issue) => {
    const name = issue.path.length > 0 ? String(issue.path[0]) : "(settings)";
    const entry = typeof issue.path[1] === "number" ? `entry ${issue.path[1] + 1}: ` : "";
    const shown = env[name] === undefined ? "missing" : "set; the value is not shown as it may hold a secret";
    return `${name}: ${entry}${issue.message} (${shown})`;
  });
  throw new SettingsError([...fieldProblems, ...crossProblems]);
}

let cached: Settings | undefined;
/** The app's settings, parsed from process.env on first use and kept. */
export function settings(): Settings {
  cached ??= parseSettings(process.env);
  return cached;
}
