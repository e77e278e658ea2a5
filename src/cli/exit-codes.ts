/**
 * Exit codes are the CLI's contract with pipelines: a gate can tell "the estate has findings" from "you called
 * it wrong", "you are not signed in" and "Azure or storage did not answer" (retry later) without reading text.
 */
import { PortcullisError, toPortcullisError, type ErrorKind } from "../domain/errors.ts";

export const EXIT = {
  /** Done as asked. */
  success: 0,
  /** `audit run` / `report show`: findings at or above --fail-on. */
  findings: 1,
  /** Unknown command or option, bad argument, invalid file or settings, or a request that cannot be done as given. */
  usage: 2,
  /** Not signed in, token refused, or the identity lacks the role. */
  auth: 3,
  /** Azure Resource Manager or Table Storage unreachable, throttled past the retries, or answering unusably. */
  unavailable: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Help text appended to every command's --help. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  findings at or above --fail-on (audit run, report show)
  2  usage error: unknown command or option, invalid file, settings or input, or the
     request cannot be done as given (not found, not Pending, stale ETag), or no
     local stack is running (--local)
  3  authentication or authorization failure (sign in with az login; check roles)
  4  Azure Resource Manager or Table Storage unreachable or failing (retry later)`;

/** An error the CLI raises itself: a message for the user and the exit code it ends the run with. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

const EXIT_FOR_KIND: Readonly<Record<ErrorKind, ExitCode>> = {
  "invalid-input": EXIT.usage,
  "not-found": EXIT.usage,
  conflict: EXIT.usage,
  "precondition-failed": EXIT.usage,
  unauthenticated: EXIT.auth,
  forbidden: EXIT.auth,
  transient: EXIT.unavailable,
  internal: EXIT.unavailable,
};

/**
 * The exit code for resources a listing had to skip (their PortcullisError kinds): the first auth failure wins
 * (exit 3), then anything else that is not success; a partial answer never exits 0.
 */
export function exitCodeForSkipped(kinds: readonly string[]): ExitCode {
  const codes = kinds.map((kind) => (kind in EXIT_FOR_KIND ? EXIT_FOR_KIND[kind as ErrorKind] : EXIT.unavailable));
  if (codes.includes(EXIT.auth)) return EXIT.auth;
  return codes.find((code) => code !== EXIT.success) ?? EXIT.success;
}

/** Errors @azure/identity raises when no credential works or a sign-in is refused. */
const CREDENTIAL_ERRORS = new Set(["CredentialUnavailableError", "AuthenticationError", "AggregateAuthenticationError", "AuthenticationRequiredError"]);

/** True when the error, or any error in its cause chain, comes from signing in rather than from the request. */
function isCredentialFailure(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; typeof e === "object" && e !== null && depth < 10; depth++) {
    if (CREDENTIAL_ERRORS.has(String((e as { name?: unknown }).name))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The exit code and the one-paragraph message for anything a command threw. */
export function describeFailure(error: unknown): { exitCode: ExitCode; message: string } {
  if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message };
  if (isCredentialFailure(error)) {
    const detail = firstLine(error instanceof Error ? error.message : String(error));
    return { exitCode: EXIT.auth, message: `Not signed in to Azure: ${detail}\nSign in with \`az login\` (or set AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET for a service principal).` };
  }
  const failure = error instanceof PortcullisError ? error : toPortcullisError(error);
  const exitCode = EXIT_FOR_KIND[failure.kind];
  if (failure.message.includes("TableNotFound")) {
    return {
      exitCode,
      message:
        "A Portcullis table does not exist in this storage account. Check --storage-account / --tables-endpoint and " +
        "--table-prefix; a new deployment creates its tables when the Functions app first runs.",
    };
  }
  const code = failure.code !== undefined ? ` [${failure.code}]` : "";
  const hint =
    exitCode === EXIT.auth
      ? "\nCheck that the signed-in identity has the roles Portcullis needs (see docs/cli.md)."
      : exitCode === EXIT.unavailable
        ? `\nAzure or storage did not answer usably${failure.retryAfterSeconds !== undefined ? ` (retry after ${failure.retryAfterSeconds} s)` : ""}; nothing was decided. Try again later.`
        : "";
  return { exitCode, message: `${firstLine(readableMessage(failure.message))}${code}${hint}` };
}

/** Table Storage puts its error in an OData JSON body; show its text rather than the JSON. */
function readableMessage(message: string): string {
  if (!message.startsWith("{")) return message;
  try {
    const body = JSON.parse(message) as { "odata.error"?: { code?: string; message?: { value?: string } } };
    const odata = body["odata.error"];
    return odata?.message?.value !== undefined ? `${odata.code ?? "StorageError"}: ${odata.message.value}` : message;
  } catch {
    return message;
  }
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? text;
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}
