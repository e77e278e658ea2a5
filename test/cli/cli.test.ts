/**
 * The command as a whole: --help on every command (with examples and exit codes), how `npx portcullis` finds the
 * bin, usage errors (exit 2), authentication failures (exit 3), unreachable storage (exit 4), and where settings
 * come from (config file < environment < flags; the local stack file alone with --local).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { buildProgram, runCli as runInProcess } from "../../src/cli/program.ts";
import type { CliIo } from "../../src/cli/context.ts";
import { PROVIDER_SUB, ROOT, runCli, runLocal, startCliStack, type CliStack } from "./cli-stack.ts";

/** Captures what an in-process run writes. */
function memoryIo(): CliIo & { text(): string } {
  let text = "";
  const sink = { write: (chunk: string) => ((text += chunk), true), isTTY: false };
  return { stdout: sink, stderr: sink, stdin: process.stdin, env: {}, cwd: ROOT, text: () => text };
}

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.filter((c) => c.name() !== "help").flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

describe("help", () => {
  test("every command has --help with examples and the exit codes (in-process walk of the command tree)", async () => {
    const paths = commandPaths(buildProgram(memoryIo(), () => {}));
    assert.ok(paths.length >= 18, `found ${paths.length} commands`);
    for (const path of [[], ...paths]) {
      const io = memoryIo();
      const code = await runInProcess([...path, "--help"], io);
      assert.equal(code, 0, `portcullis ${path.join(" ")} --help`);
      assert.match(io.text(), /Usage: portcullis/, path.join(" "));
      assert.match(io.text(), /\nExamples:\n {2}\$ /, `examples in: portcullis ${path.join(" ")} --help`);
      assert.match(io.text(), /Exit codes:\n {2}0 {2}success\n {2}1 {2}findings at or above --fail-on/, `exit codes in: portcullis ${path.join(" ")} --help`);
    }
  });

  test("the bin prints help and its version as a child process, and npx resolves the package's own bin", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string; bin: Record<string, string> };
    assert.equal(pkg.bin["portcullis"], "bin/portcullis.js");
    const npx = new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn("npx", ["--yes", "portcullis", "--version"], { cwd: ROOT, env: { ...process.env, NO_UPDATE_NOTIFIER: "1" }, stdio: ["ignore", "pipe", "ignore"] });
      let stdout = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout }));
    });
    const [help, version, viaNpx] = await Promise.all([runCli(["--help"]), runCli(["--version"]), npx]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Target options:\n {2}--local/);
    assert.match(help.stdout, /Rules:\n {2}rules/);
    assert.equal(version.stdout.trim(), pkg.version);
    assert.equal(viaNpx.code, 0);
    assert.equal(viaNpx.stdout.trim(), pkg.version);
  });

  test("output piped into a reader that stops early (| head) ends the CLI quietly, not with an EPIPE crash", () => {
    const bin = join(ROOT, "bin", "portcullis.js");
    // `true` exits without reading, so the CLI's first write meets a closed pipe, as it does after `head` has enough.
    const piped = spawnSync("bash", ["-c", `"${process.execPath}" "${bin}" --help | true; echo "exit=\${PIPESTATUS[0]}"`], { cwd: ROOT, encoding: "utf8" });
    assert.match(piped.stdout, /exit=0/);
    assert.doesNotMatch(piped.stderr, /EPIPE|Error/, piped.stderr);
  });
});

describe("usage errors exit 2", { concurrency: true }, () => {
  test("no command, an unknown command or option, a missing required option, a value outside the choices", async () => {
    const runs = await Promise.all([
      runCli([]),
      runCli(["approvee"]),
      runCli(["rules", "list", "--colour"]),
      runCli(["rules", "validate"]),
      runCli(["connections", "list", "--status", "Maybe"]),
    ]);
    for (const run of runs) assert.equal(run.code, 2, run.stderr);
    const [none, unknownCommand, unknownOption, missing, choice] = runs.map((r) => r.stderr);
    assert.match(none!, /Usage: portcullis/);
    assert.match(unknownCommand!, /unknown command 'approvee'/);
    assert.match(unknownOption!, /unknown option '--colour'/);
    assert.match(missing!, /required option '-f, --file <file>' not specified/);
    assert.match(choice!, /argument 'Maybe' is invalid. Allowed choices are Pending, Approved, Rejected/);
  });

  test("missing settings name the flag, variable and config key that give them; --local without a stack says to run npm start", async () => {
    const [nothing, noStack] = await Promise.all([runCli(["connections", "list"], { cwd: "/" }), runCli(["--local", "rules", "list"], { cwd: "/", env: { PORTCULLIS_STACK_FILE: "/nonexistent/stack.json" } })]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /which resources to read is not set: give --subscription ID \/ --resource RESOURCE-ID \(or --apim RESOURCE-ID\), PORTCULLIS_MANAGED_SUBSCRIPTIONS \/ PORTCULLIS_MANAGED_RESOURCES/);
    assert.match(nothing.stderr, /the storage account is not set: give --storage-account NAME/);
    assert.equal(noStack.code, 2);
    assert.match(noStack.stderr, /no local stack is running: start it with npm start/);
    assert.match(noStack.stderr, /No stack file at \/nonexistent\/stack\.json/);
    assert.match(noStack.stderr, /npm start/);
  });
});

describe("settings, authentication and reachability", { concurrency: true }, () => {
  let stack: CliStack;
  let guarded: CliStack;
  before(async () => {
    [stack, guarded] = await Promise.all([startCliStack(), startCliStack({ untrustedArmTokens: true })]);
  });
  after(() => Promise.all([stack.close(), guarded.close()]));

  test("a config file supplies settings, the environment overrides it and flags override both; --local ignores the environment", async () => {
    const config = join(stack.dir, "portcullis.config.yaml");
    const s = stack.settings;
    writeFileSync(
      config,
      [
        `subscriptions: [${PROVIDER_SUB}]`,
        "tablePrefix: clitest",
        "settings:",
        `  PORTCULLIS_TABLES_CONNECTION_STRING: "${s["PORTCULLIS_TABLES_CONNECTION_STRING"]}"`,
        `  PORTCULLIS_ARM_ENDPOINT: ${s["PORTCULLIS_ARM_ENDPOINT"]}`,
        "  PORTCULLIS_ARM_CREDENTIAL: local-emulator",
        "  PORTCULLIS_ARM_CA_FILE: arm-ca.pem",
        `  PORTCULLIS_ARM_TOKEN_ENDPOINT: ${s["PORTCULLIS_ARM_TOKEN_ENDPOINT"]}`,
        "  PORTCULLIS_ARM_TOKEN_CA_FILE: arm-token-ca.pem",
        "",
      ].join("\n"),
    );
    const [fromFile, envWins, flagWins, localIgnoresEnv] = await Promise.all([
      runCli(["rules", "list", "--json"], { cwd: stack.dir }),
      runCli(["rules", "list"], { cwd: stack.dir, env: { PORTCULLIS_TABLE_PREFIX: "fromenv" } }),
      runCli(["--config", config, "--table-prefix", "fromflag", "rules", "list"], { env: { PORTCULLIS_TABLE_PREFIX: "fromenv" } }),
      runLocal(stack, ["rules", "list", "--json"], { env: { PORTCULLIS_TABLE_PREFIX: "fromenv" } }),
    ]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stderr, new RegExp(`target: Azure \\(settings from config ${config.replace(/\./g, "\\.")}\\)`));
    assert.match(fromFile.stderr, /identity: Local operator/);
    assert.deepEqual(JSON.parse(fromFile.stdout).rules, []);
    // Tables with another prefix do not exist: a clear usage error, not a stack of storage JSON.
    for (const [run, prefix] of [[envWins, "fromenv"], [flagWins, "fromflag"]] as const) {
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, new RegExp(`\\(tables ${prefix}\\*\\)`));
      assert.match(run.stderr, /A Portcullis table does not exist in this storage account/);
    }
    assert.match(envWins.stderr, /settings from config .* \+ environment\)/);
    assert.match(flagWins.stderr, /\+ environment \+ flags\)/);
    assert.equal(localIgnoresEnv.code, 0, localIgnoresEnv.stderr);
    assert.match(localIgnoresEnv.stderr, /\(tables clitest\*\)/);
  });

  test("an invalid config file is a usage error listing each problem at its file:line:column, with the valid keys", async () => {
    const config = join(stack.dir, "broken.yaml");
    writeFileSync(config, ["subscriptions: a1a1a1a1-0000-4000-8000-000000000001", "storageAccount: Not_Valid", "colour: blue", "settings:", "  portcullis_mode: enforce", ""].join("\n"));
    const result = await runCli(["--config", config, "rules", "list"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /broken\.yaml has 3 problem\(s\)/);
    assert.match(result.stderr, new RegExp(`${config.replace(/\./g, "\\.")}:2:17  storageAccount: a storage account name`));
    assert.match(result.stderr, new RegExp(`${config.replace(/\./g, "\\.")}:3:1  colour: unknown key "colour"; valid keys are subscriptions, instances, resources, resourceTypes, storageAccount, tablesEndpoint, tablePrefix, dnsZones, mode, settings`));
    assert.match(result.stderr, new RegExp(`${config.replace(/\./g, "\\.")}:5:3  settings\\.portcullis_mode: "portcullis_mode" is not a setting: settings keys are PORTCULLIS_\\* app settings`));
    assert.ok(result.stderr.indexOf(":3:1") < result.stderr.indexOf(":5:3"), "problems in file order");
  });

  test("exit 3 when ARM refuses the token (a partial listing included) or nobody is signed in; exit 4 when storage is unreachable", async () => {
    const unreachable = JSON.parse(readFileSync(stack.stackFile, "utf8")) as { settings: Record<string, string> };
    unreachable.settings["PORTCULLIS_TABLES_CONNECTION_STRING"] = unreachable.settings["PORTCULLIS_TABLES_CONNECTION_STRING"]!.replace(/127\.0\.0\.1:\d+/, "127.0.0.1:9");
    // An Azure-style target (config file), not --local: a local target with storage down is "no local stack is running".
    const downFile = join(stack.dir, "storage-down.yaml");
    writeFileSync(downFile, `settings:\n${Object.entries(unreachable.settings).map(([name, value]) => `  ${name}: ${JSON.stringify(value)}`).join("\n")}\n`);
    const [refused, refusedWrite, notSignedIn, storageDown] = await Promise.all([
      runLocal(guarded, ["connections", "list"]),
      runLocal(guarded, ["approve", "apim-cli/pe-orders.1", "--ticket", "CHG0000001", "--reason", "Orders"]),
      runCli(["--subscription", PROVIDER_SUB, "--storage-account", "stportcullisnone", "connections", "list"], { cwd: "/" }),
      runCli(["--config", downFile, "rules", "list"], { cwd: stack.dir }),
    ]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /could not read \/subscriptions\/a1a1a1a1-0000-4000-8000-000000000001\/providers\/Microsoft.ApiManagement\/service \(unauthenticated\)/);
    assert.equal(refusedWrite.code, 3, refusedWrite.stderr);
    assert.match(refusedWrite.stderr, /\[InvalidAuthenticationToken\]\nCheck that the signed-in identity has the roles/);
    assert.equal(notSignedIn.code, 3, notSignedIn.stderr);
    assert.match(notSignedIn.stderr, /target: Azure \(settings from flags\)/);
    assert.match(notSignedIn.stderr, /Not signed in to Azure: .*\nSign in with `az login`/);
    assert.equal(storageDown.code, 4, storageDown.stderr);
    assert.match(storageDown.stderr, /ECONNREFUSED/);
    assert.match(storageDown.stderr, /Try again later/);
  });
});
