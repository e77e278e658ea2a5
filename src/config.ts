/**
 * Every Portcullis app setting, parsed once with one zod schema.
 *
 * A missing or invalid setting stops start-up with one message that names each setting and its
 * problem, never its value (any setting may hold a pasted secret). infra/ sets every required setting (a test reads the Bicep to prove it), and
 * local.settings.sample.json lists them all with sample values.
 */
import { z } from "zod";

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
    /** Explicit APIM resource IDs that Portcullis governs. */
    PORTCULLIS_MANAGED_INSTANCES: list(z.string().regex(ARM_ID_APIM, "expected an APIM resource ID")),
    /** Subscriptions in which every APIM instance is governed. */
    PORTCULLIS_MANAGED_SUBSCRIPTIONS: list(z.string().regex(GUID, "expected a subscription ID (GUID)")),
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
    /** `default` = DefaultAzureCredential (managed identity in Azure); `local-emulator` = the emulator's test token. */
    PORTCULLIS_ARM_CREDENTIAL: z.enum(["default", "local-emulator"]).default("default"),
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
  if (!env["PORTCULLIS_MANAGED_INSTANCES"] && !env["PORTCULLIS_MANAGED_SUBSCRIPTIONS"]) {
    problems.push(
      "PORTCULLIS_MANAGED_INSTANCES: set PORTCULLIS_MANAGED_INSTANCES and/or PORTCULLIS_MANAGED_SUBSCRIPTIONS: Portcullis must know which instances it governs (missing)",
    );
  }
  if (!env["PORTCULLIS_TABLES_ENDPOINT"] && !env["PORTCULLIS_TABLES_CONNECTION_STRING"]) {
    problems.push(
      "PORTCULLIS_TABLES_ENDPOINT: set PORTCULLIS_TABLES_ENDPOINT (Azure, managed identity) or PORTCULLIS_TABLES_CONNECTION_STRING (local stack) (missing)",
    );
  }
  return problems;
}

export type Settings = z.output<typeof settingsSchema>;

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
