/**
 * What every command runs with: the terminal, the resolved target and identity, the application's services
 * (built by src/composition.ts, the same as the Functions app uses) and a way to ask the user to confirm.
 * `runCommand` is the one place that resolves these, prints the banner, and turns failures into exit codes.
 */
import { createInterface } from "node:readline/promises";
import { DEFAULT_MANAGED_RESOURCE_TYPE, managedScopeOf } from "../config.ts";
import { EXIT, describeFailure, type ExitCode } from "./exit-codes.ts";
import { LOCAL_OPERATOR, type CliIdentity } from "./identity.ts";
import { createCliServices, type CliServices } from "./services.ts";
import { requireLocalStackRunning, resolveTarget, type Target, type TargetFlags, type TargetNeeds } from "./target.ts";
import { createTerminal, type OutputStream, type Terminal } from "./terminal.ts";

/** The process's streams and environment; injectable so the CLI can be driven in-process too. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface CommandContext {
  readonly terminal: Terminal;
  readonly target: Target;
  readonly identity: CliIdentity;
  readonly services: CliServices;
  /** Asks a yes/no question on the terminal; true only for "y" or "yes". */
  confirm(question: string): Promise<boolean>;
  /** True when a person can answer `confirm` (stdin and stderr are terminals). */
  readonly interactive: boolean;
}

/** Resolves the target, identity and services, prints the banner, runs the action, maps failures to exit codes. */
export async function runCommand(
  io: CliIo,
  flags: TargetFlags,
  needs: TargetNeeds,
  action: (context: CommandContext) => Promise<ExitCode | void>,
): Promise<ExitCode> {
  const terminal = createTerminal(io.stdout, io.stderr, io.env, { wide: flags.wide });
  return guarded(io, terminal, async () => {
    const target = resolveTarget(flags, io.env, needs, io.cwd);
    await requireLocalStackRunning(target);
    const services = createCliServices(target);
    for (const line of bannerLines(target)) terminal.info(terminal.errStyle.dim(line));
    // On the local stack the ARM token is the local app principal's (client credentials at the local issuer), not a
    // person's: whoever runs the CLI there is recorded as the local operator. Otherwise the ARM token says who acts.
    const identity = target.settings.PORTCULLIS_ARM_CREDENTIAL === "local-emulator" ? LOCAL_OPERATOR : await services.identity();
    terminal.info(terminal.errStyle.dim(`identity: ${identity.display}`));
    const interactive = io.stdin.isTTY === true && io.stderr.isTTY === true;
    const context: CommandContext = {
      terminal,
      target,
      identity,
      services,
      interactive,
      confirm: (question) => ask(io, terminal, question),
    };
    return (await action(context)) ?? EXIT.success;
  });
}

/** Runs an action that contacts no target (validating a file): same output rules and exit codes. */
export async function runOffline(io: CliIo, action: (terminal: Terminal) => Promise<ExitCode | void>): Promise<ExitCode> {
  const terminal = createTerminal(io.stdout, io.stderr, io.env);
  return guarded(io, terminal, async () => {
    terminal.info(terminal.errStyle.dim("portcullis · target: none (reads local files only; no Azure or storage call)"));
    return (await action(terminal)) ?? EXIT.success;
  });
}

/** Turns anything the run throws into its message on stderr and its exit code; always clears progress. */
async function guarded(io: CliIo, terminal: Terminal, run: () => Promise<ExitCode>): Promise<ExitCode> {
  try {
    return await run();
  } catch (error) {
    terminal.progress(undefined);
    const { exitCode, message } = describeFailure(error);
    terminal.info(terminal.errStyle.red(`error: ${message}`));
    if (io.env["PORTCULLIS_CLI_DEBUG"] === "1" && error instanceof Error) terminal.info(error.stack ?? "");
    return exitCode;
  } finally {
    terminal.progress(undefined);
  }
}

/** Two lines printed first on stderr: which target and mode, then where ARM and storage are and the scope. */
function bannerLines(target: Target): string[] {
  const s = target.settings;
  const storage = s.PORTCULLIS_TABLES_ENDPOINT ?? (s.PORTCULLIS_TABLES_CONNECTION_STRING ? tableEndpointOf(s.PORTCULLIS_TABLES_CONNECTION_STRING) : "not set");
  const managed = managedScopeOf(s);
  const scope = [
    managed.resourceIds.length > 0 ? `${managed.resourceIds.length} resource(s)` : undefined,
    s.PORTCULLIS_MANAGED_SUBSCRIPTIONS.length > 0 ? `subscription(s) ${s.PORTCULLIS_MANAGED_SUBSCRIPTIONS.join(", ")}` : undefined,
  ].filter((part) => part !== undefined);
  // Only when more than the default is governed: an APIM-only estate reads as it always did.
  const types = managed.resourceTypes.length === 1 && managed.resourceTypes[0] === DEFAULT_MANAGED_RESOURCE_TYPE ? "" : ` (types ${managed.resourceTypes.join(", ")})`;
  const where = target.kind === "local" ? `local stack (${target.source})` : `Azure (settings from ${target.source})`;
  return [
    `portcullis · target: ${where} · mode ${s.PORTCULLIS_MODE}`,
    `  ARM ${s.PORTCULLIS_ARM_ENDPOINT} · storage ${storage}${s.PORTCULLIS_TABLE_PREFIX !== "portcullis" ? ` (tables ${s.PORTCULLIS_TABLE_PREFIX}*)` : ""} · scope ${scope.length > 0 ? scope.join(" + ") : "not set"}${types}`,
  ];
}

/** The TableEndpoint of a connection string, without its account key. */
function tableEndpointOf(connectionString: string): string {
  return /TableEndpoint=([^;]+)/i.exec(connectionString)?.[1] ?? "connection string";
}

async function ask(io: CliIo, terminal: Terminal, question: string): Promise<boolean> {
  terminal.progress(undefined);
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream, terminal: false });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
