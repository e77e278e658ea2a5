/**
 * CLI habits as a new user meets them, each as a child process against the local stack (Azurite + the ARM
 * emulator): a stale `--local` stack file fails fast, warnings about rules that approve too much, the rule-by-rule
 * explanation in `connections show`, case-insensitive enum flags, `reject` on an Approved connection pointing to
 * `revoke`, flag errors naming the flag, and tables cut to the terminal's width (full with --wide).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { CliError } from "../../src/cli/exit-codes.ts";
import { requireLocalStackRunning, resolveTarget } from "../../src/cli/target.ts";
import { createComposition } from "../../src/composition.ts";
import { parseSettings } from "../../src/config.ts";
import type { RuleInput } from "../../src/domain/rules/schema.ts";
import { reconcilePending } from "../../src/workflows/reconcile-pending.ts";
import { CONSUMER_SUB, NODE, parseJson, runCli, runInTerminal, runLocal, startCliStack, type CliStack } from "./cli-stack.ts";

const APPROVE_ALL = `- id: approve-everyone
  priority: 10
  action: approve
  reason: Everyone is welcome
- id: approve-consumer
  priority: 20
  action: approve
  reason: Consumer subscription
  conditions:
    requester-subscriptions: ["${CONSUMER_SUB}"]
- id: approve-by-pattern
  priority: 30
  action: approve
  reason: Any endpoint at all
  conditions:
    private-endpoint-ids: ["*"]
`;

/** Decided by the sweep: billing approved by a rule; the audit rule on the requester tenant cannot know it. */
const SWEEP_RULES: RuleInput[] = [
  { id: "approve-billing", priority: 10, action: "approve", reason: "Billing is trusted", conditions: { "request-message": ["Billing"], "requester-subscriptions": [CONSUMER_SUB] } },
  { id: "audit-partner-tenant", priority: 5, mode: "audit", action: "approve", reason: "Partner tenant (trial)", conditions: { "requester-tenants": ["22222222-2222-4222-8222-222222222222"] } },
];

describe("CLI habits", () => {
  let stack: CliStack;
  let connections: { id: string; name: string; status: string }[];
  before(async () => {
    stack = await startCliStack();
    const settings = parseSettings({ ...stack.settings, PORTCULLIS_ARM_CA_FILE: join(stack.dir, "arm-ca.pem"), PORTCULLIS_ARM_TOKEN_CA_FILE: join(stack.dir, "arm-token-ca.pem") });
    const deps = await createComposition(settings, { armPollIntervalInMs: 20 }).engineDeps({ info() {}, warn() {}, error() {} });
    for (const rule of SWEEP_RULES) await deps.ruleStore.putRule(rule, { ifNoneMatch: "*", actor: { objectId: "test", name: "habits test" } });
    await reconcilePending(randomUUID(), deps);
    connections = parseJson<{ connections: { id: string; name: string; status: string }[] }>(await runLocal(stack, ["connections", "list", "--json"])).connections;
  });
  after(() => stack.close());

  test("--local with a stale stack file (its process gone, or its servers down) fails in under 2 s: no local stack is running", async () => {
    const file = JSON.parse(readFileSync(stack.stackFile, "utf8")) as { settings: Record<string, string> };
    const exited = spawnSync(NODE, ["-e", ""]).pid;
    const goneFile = join(stack.dir, "gone.json");
    writeFileSync(goneFile, JSON.stringify({ ...file, pid: exited }));
    const downFile = join(stack.dir, "down.json");
    const down = { ...file.settings, PORTCULLIS_ARM_ENDPOINT: "https://127.0.0.1:9", PORTCULLIS_TABLES_CONNECTION_STRING: file.settings["PORTCULLIS_TABLES_CONNECTION_STRING"]!.replace(/127\.0\.0\.1:\d+/, "127.0.0.1:9") };
    writeFileSync(downFile, JSON.stringify({ ...file, settings: down }));
    for (const [stale, why] of [[goneFile, /the process that wrote it \(pid \d+\) has exited/], [downFile, /the ARM emulator at https:\/\/127\.0\.0\.1:9 and Table Storage at .* did not answer/]] as const) {
      // The check itself, timed in-process: on a busy machine a child's Node start-up alone can take seconds.
      const target = resolveTarget({ local: true, stackFile: stale }, {}, { scope: true });
      const started = performance.now();
      await assert.rejects(requireLocalStackRunning(target), (error: CliError) => error.exitCode === 2 && /^no local stack is running: start it with npm start/.test(error.message));
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds < 2, `the liveness check took ${seconds.toFixed(2)} s`);
      // The command as a user runs it: the message and the exit code, without waiting for the SDKs' retries.
      const result = await runCli(["--local", "--stack-file", stale, "connections", "list"]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /error: no local stack is running: start it with npm start/);
      assert.match(result.stderr, why);
    }
  });

  test("rules validate says loudly (stderr, with line:column) which valid rules approve too much; --json lists them", async () => {
    const file = join(stack.dir, "too-much.yaml");
    writeFileSync(file, APPROVE_ALL);
    const [human, json] = await Promise.all([runCli(["rules", "validate", "-f", file]), runCli(["rules", "validate", "-f", file, "--json"])]);
    assert.equal(human.code, 0, "valid: warnings do not fail validation");
    assert.match(human.stdout, /valid rule set of 3 rule\(s\) \(2 warning\(s\): valid, but see above\)/);
    assert.match(human.stderr, new RegExp(`warning: ${file}:1:3  \\[0\\]\\.conditions: enforcing approve rule "approve-everyone" has no condition besides group-ids, so it approves every connection`));
    assert.match(human.stderr, new RegExp(`warning: ${file}:16:5  \\[2\\]\\.conditions\\.private-endpoint-ids: enforcing approve rule "approve-by-pattern" has only conditions that match everything`));
    assert.doesNotMatch(human.stderr, /approve-consumer/);
    const report = parseJson<{ valid: boolean; warnings: { line: number; path: string; message: string }[] }>(json);
    assert.equal(report.valid, true);
    assert.deepEqual(report.warnings.map((w) => [w.line, w.path]), [[1, "[0].conditions"], [16, "[2].conditions.private-endpoint-ids"]]);
  });

  test("what-if and rules import warn on stderr too; what-if --json carries the warnings", async () => {
    const file = join(stack.dir, "too-much-what-if.yaml");
    writeFileSync(file, APPROVE_ALL);
    const [table, json, importDry] = await Promise.all([
      runLocal(stack, ["what-if", "-f", file]),
      runLocal(stack, ["what-if", "-f", file, "--json"]),
      runLocal(stack, ["rules", "import", "-f", file, "--dry-run"]),
    ]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stderr, /warning: .*approve-everyone" has no condition besides group-ids/);
    assert.deepEqual(parseJson<{ warnings: { ruleId: string; code: string }[] }>(json).warnings.map((w) => [w.ruleId, w.code]), [["approve-everyone", "approves-everything"], ["approve-by-pattern", "wildcards-only"]]);
    assert.equal(importDry.code, 0, importDry.stderr);
    assert.match(importDry.stderr, /warning: .*approve-by-pattern" has only conditions that match everything/);
  });

  test("connections show explains rule by rule, in its human output, why the rules decided as they did", async () => {
    const billing = connections.find((c) => c.name.startsWith("pe-billing"))!;
    const orders = connections.find((c) => c.name.startsWith("pe-orders"))!;
    const [approved, pending] = await Promise.all([runLocal(stack, ["connections", "show", billing.id]), runLocal(stack, ["connections", "show", orders.id])]);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /\nWhy: approve by rule:approve-billing at .* \(rule by rule, as evaluated then\)\n/);
    assert.match(approved.stdout, /\n {2}Rule "approve-billing" v1 .*matched/);
    assert.match(approved.stdout, /\n {2}Rule "audit-partner-tenant" v1 [^\n]*requester tenant/, "the audit rule's unknown requester tenant is explained");
    assert.match(pending.stdout, /\nWhy: manual by default at /);
    assert.match(pending.stdout, /approve-billing[^\n]*request message/, "why approve-billing did not match Orders");
  });

  test("enum flags take any case: --status pending, --mode DRY-RUN, --format JSON", async () => {
    const [lower, upperMode, exportJson] = await Promise.all([
      runLocal(stack, ["connections", "list", "--status", "pending", "--json"]),
      runLocal(stack, ["--mode", "DRY-RUN", "rules", "list"]),
      runLocal(stack, ["rules", "export", "--format", "JSON"]),
    ]);
    assert.equal(lower.code, 0, lower.stderr);
    const listed = parseJson<{ connections: { status: string }[] }>(lower).connections;
    assert.ok(listed.length > 0 && listed.every((c) => c.status === "Pending"));
    assert.equal(upperMode.code, 0, upperMode.stderr);
    assert.match(upperMode.stderr, /mode dry-run/);
    assert.equal(exportJson.code, 0, exportJson.stderr);
    assert.ok(Array.isArray(parseJson<{ rules: unknown[] }>(exportJson).rules));
  });

  test("reject on an Approved connection says to revoke it, with the command", async () => {
    const legacy = connections.find((c) => c.name.startsWith("pe-legacy"))!;
    assert.equal(legacy.status, "Approved");
    const result = await runLocal(stack, ["reject", legacy.id, "--ticket", "CHG0000001", "--reason", "Offboarded"]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /it is Approved, not Pending/);
    assert.match(result.stderr, new RegExp(`To take back an Approved one, revoke it:\\n {2}portcullis revoke apim-cli/${legacy.name.replace(/\./g, "\\.")} --ticket <ticket>`));
  });

  test("a bad value given by flag is reported under the flag's name, not the environment variable's", async () => {
    const result = await runCli(["--subscription", "not-a-guid", "--apim", "/subscriptions/x", "--storage-account", "stportcullis", "connections", "list"], { cwd: "/" });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /- --subscription: expected a subscription ID \(GUID\) \(got "not-a-guid"\)/);
    assert.match(result.stderr, /- --apim: expected an APIM resource ID/);
    assert.doesNotMatch(result.stderr, /PORTCULLIS_MANAGED_SUBSCRIPTIONS:/);
  });

  test("on a narrow terminal tables fit its width, IDs cut with …; --wide prints them whole", async () => {
    const args = ["--local", "--stack-file", stack.stackFile, "connections", "list"];
    const [narrow, wide] = await Promise.all([runInTerminal(args, { columns: 100, env: { NO_COLOR: "1" } }), runInTerminal(["--wide", ...args], { columns: 100, env: { NO_COLOR: "1" } })]);
    assert.equal(narrow.code, 0, narrow.output);
    // What a person sees of each line: the part after the last carriage return (the progress line is redrawn in place).
    const seen = (output: string) => output.split("\n").map((line) => line.split("\r").at(-1)!.replace(/\u001b\[[0-9;]*[A-Za-z]/g, ""));
    const table = seen(narrow.output).filter((line) => /^(CONNECTION|apim-cli)/.test(line));
    assert.equal(table.length, 1 + connections.length, narrow.output);
    for (const line of table) assert.ok([...line].length <= 100, `${[...line].length} > 100: ${line}`);
    assert.match(table.slice(1).join("\n"), /…/);
    const wideRows = seen(wide.output).filter((line) => line.startsWith("apim-cli"));
    for (const c of connections) assert.ok(wideRows.some((line) => line.startsWith(`apim-cli/${c.name} `)), `--wide shows ${c.name} whole`);
    assert.ok(wideRows.some((line) => [...line].length > 100));
  });
});
