/**
 * The `portcullis` command tree (commander). Global options choose the target; each command runs through
 * runCommand, which prints the target and identity first and maps failures to the documented exit codes.
 * Every command's --help ends with examples and the exit codes.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { registerAuditCommands } from "./commands/audit.ts";
import { registerConnectionCommands } from "./commands/connections.ts";
import { registerRuleCommands } from "./commands/rules.ts";
import { registerWhatIfCommand } from "./commands/what-if.ts";
import { runCommand, runOffline, type CliIo, type CommandContext } from "./context.ts";
import { EXIT, EXIT_CODES_HELP, type ExitCode } from "./exit-codes.ts";
import type { TargetFlags, TargetNeeds } from "./target.ts";
import { createTerminal, type Terminal } from "./terminal.ts";

/** What command modules use to add commands: runners that resolve the target first (or contact none). */
export interface CommandHost {
  /** Runs an action against the target (banner, identity, services, exit codes). */
  run(command: Command, needs: TargetNeeds, action: (context: CommandContext) => Promise<ExitCode | void>): Promise<void>;
  /** Runs an action that contacts no target (e.g. validating a file). */
  runOffline(action: (terminal: Terminal) => Promise<ExitCode | void>): Promise<void>;
}

/** Adds the examples and the exit codes to a command's --help. */
export function withExamples(command: Command, examples: readonly string[]): Command {
  return command.addHelpText("after", `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n\n${EXIT_CODES_HELP}\n`);
}

/**
 * An option whose value is one of `choices`, matched case-insensitively (`--status pending` means Pending) and
 * passed on in its canonical spelling. --help still lists the choices; anything else is commander's usual
 * "argument 'x' is invalid. Allowed choices are ..." (exit 2).
 */
export function choiceOption<const C extends string>(flags: string, description: string, choices: readonly C[]): Option {
  return new Option(flags, description).choices(choices).argParser((value: string): C => {
    const match = choices.find((choice) => choice.toLowerCase() === value.trim().toLowerCase());
    if (match === undefined) throw new InvalidArgumentError(`Allowed choices are ${choices.join(", ")}.`);
    return match;
  });
}

/** Collects a repeatable, comma-separable option into one list. */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").map((v) => v.trim()).filter((v) => v !== "")];
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "0.0.0";
}

/** Builds the command tree; `setExitCode` receives each action's exit code. */
export function buildProgram(io: CliIo, setExitCode: (code: ExitCode) => void): Command {
  const program = new Command("portcullis");
  program
    .description(
      "Operate Portcullis from a terminal: rules, what-if, connections, approvals and compliance audits, " +
        "against Azure (signed in with `az login`) or the local stack (--local, after `npm start`). " +
        "Results go to stdout (--json for scripts); the target, identity and progress go to stderr.",
    )
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      outputError: (text, write) => write(createTerminal(io.stdout, io.stderr, io.env).errStyle.red(text)),
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError("(add --help for usage)")
    .optionsGroup("Target options:")
    .option("--local", "use the local stack started by `npm start` (reads .local/stack.json)")
    .option("--stack-file <path>", "the local stack file to use with --local (default: ./.local/stack.json)")
    .option("--config <file>", "config file (default: portcullis.config.json|yaml|yml in the current directory)")
    .option("--subscription <id>", "manage every resource of the governed types in this subscription (repeatable)", collect)
    .option("--resource <resource-id>", "manage this resource, of a governed type (repeatable)", collect)
    .option("--resource-type <type>", "govern this resource type, e.g. Microsoft.Storage/storageAccounts, or * for every registered type (repeatable; default: API Management)", collect)
    .option("--apim <resource-id>", "manage this APIM instance (repeatable; older spelling of --resource)", collect)
    .option("--storage-account <name>", "the Portcullis storage account (tables reached with your Azure sign-in)")
    .option("--tables-endpoint <url>", "the Table Storage endpoint, instead of --storage-account")
    .option("--table-prefix <prefix>", "table name prefix (default: portcullis)")
    .option("--dns-zone <resource-id>", "private DNS zone to check in audits (repeatable)", collect)
    .addOption(choiceOption("--mode <mode>", "enforce writes decisions to Azure; dry-run records only (default: PORTCULLIS_MODE, else dry-run)", ["enforce", "dry-run"]))
    .optionsGroup("Output options:")
    .option("--wide", "never cut table columns to the terminal's width (full IDs); piped output and --json are never cut")
    .addHelpText(
      "after",
      `
Settings come from (later wins): the config file, PORTCULLIS_* environment variables (the
same settings as the Functions app), then the target options above. With --local they come
from .local/stack.json instead of the environment.

Examples:
  $ npm start                                   # in another terminal: the local stack
  $ portcullis --local connections list
  $ portcullis --local approve contoso-apim-prod/pe-fabrikam-to-prod.<id> --ticket CHG0012345 --reason "Partner approved"
  $ portcullis --subscription <subscription-id> --storage-account stportcullis audit run --format html --out report.html
  $ portcullis --local audit suppressions
  $ portcullis rules validate -f rules.yaml

${EXIT_CODES_HELP}
`,
    );

  const host: CommandHost = {
    async run(command, needs, action) {
      setExitCode(await runCommand(io, command.optsWithGlobals<TargetFlags>(), needs, action));
    },
    async runOffline(action) {
      setExitCode(await runOffline(io, action));
    },
  };
  registerRuleCommands(program, host);
  registerWhatIfCommand(program, host);
  registerConnectionCommands(program, host);
  registerAuditCommands(program, host);
  return program;
}

/** Runs the CLI with these arguments (without `node` and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.success;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      const informational = error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help";
      return informational && error.exitCode === 0 ? EXIT.success : EXIT.usage;
    }
    throw error;
  }
  return exitCode;
}
