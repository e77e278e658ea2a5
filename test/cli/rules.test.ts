/**
 * `portcullis rules ...` as a child process against the local stack (Azurite + ARM emulator started here):
 * validate (offline, every problem at its line), import with its diff and consent rules, list / get / put /
 * history / export / delete, ETag conflicts, and TTY vs piped output with NO_COLOR.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseJson, runCli, runInTerminal, runLocal, startCliStack, type CliStack } from "./cli-stack.ts";

const SGR = /\u001b\[[0-9;]*m/;

const VALID_SET = `# two rules
rules:
  - id: approve-consumer
    priority: 10
    action: approve
    reason: Consumer subscription is trusted
    conditions:
      requester-subscriptions: ["c1c1c1c1-0000-4000-8000-000000000002"]
  - id: reject-everything-else
    priority: 900
    action: reject
    mode: audit
    reason: Unknown requester
`;

/** Three different mistakes: a priority that is not a number (line 5), an unknown field (line 9), and a rule without a reason (reported where that rule starts, line 11). */
const THREE_MISTAKES = `rules:
  - id: approve-consumer
    action: approve
    reason: ok
    priority: high
  - id: second
    priority: 2
    action: reject
    colour: blue
    reason: no
  - id: third
    priority: 3
    action: manual
    description: forgot the reason
`;

describe("rules validate (offline: no stack needed)", () => {
  const dir = { dir: mkdtempSync(join(tmpdir(), "portcullis-validate-")) };
  after(() => rmSync(dir.dir, { recursive: true, force: true }));

  test("reports all three mistakes with their line and column, exits 2, and contacts no target", async () => {
    const file = join(dir.dir, "three.yaml");
    writeFileSync(file, THREE_MISTAKES);
    const result = await runCli(["rules", "validate", "-f", file]);
    assert.equal(result.code, 2, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 3, result.stdout);
    assert.match(lines[0]!, new RegExp(`^${file}:5:15  rules\\[0\\]\\.priority: `));
    assert.match(lines[1]!, new RegExp(`^${file}:9:5  rules\\[1\\]\\.colour: unknown field "colour"`));
    assert.match(lines[2]!, new RegExp(`^${file}:11:5  rules\\[2\\]\\.reason: "reason" is required`));
    assert.match(result.stderr, /target: none/);
    assert.match(result.stderr, /3 problem\(s\)/);

    const json = await runCli(["rules", "validate", "-f", file, "--json"]);
    assert.equal(json.code, 2);
    const report = parseJson<{ valid: boolean; problems: { line: number; column: number; path: string }[] }>(json);
    assert.equal(report.valid, false);
    assert.deepEqual(report.problems.map((p) => [p.line, p.path]), [[5, "rules[0].priority"], [9, "rules[1].colour"], [11, "rules[2].reason"]]);
  });

  test("accepts a valid rule set in YAML and a single rule in JSON", async () => {
    const set = join(dir.dir, "set.yaml");
    writeFileSync(set, VALID_SET);
    const single = join(dir.dir, "one.json");
    writeFileSync(single, JSON.stringify({ id: "solo", priority: 1, action: "manual", reason: "look at it" }, null, 2));
    const [a, b] = await Promise.all([runCli(["rules", "validate", "-f", set]), runCli(["rules", "validate", "-f", single, "--json"])]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /valid rule set of 2 rule\(s\)/);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(parseJson<{ valid: boolean; shape: string; rules: string[] }>(b), { file: single, valid: true, shape: "rule", rules: ["solo"], problems: [], warnings: [] });
  });

  test("a file that does not exist is a usage error", async () => {
    const result = await runCli(["rules", "validate", "-f", join(dir.dir, "missing.yaml")]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Cannot read .*missing\.yaml: ENOENT/);
  });
});

describe("rules against the local stack", () => {
  let stack: CliStack;
  let setFile: string;
  before(async () => {
    stack = await startCliStack();
    setFile = join(stack.dir, "rules.yaml");
    writeFileSync(setFile, VALID_SET);
  });
  after(() => stack.close());

  test("import refuses without --yes when nobody can confirm, shows the diff, and writes nothing", async () => {
    const refused = await runLocal(stack, ["rules", "import", "-f", setFile]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /\+ approve-consumer {2}\(new: priority 10, approve, enforce\)/);
    assert.match(refused.stderr, /\+ reject-everything-else/);
    assert.match(refused.stderr, /pass --yes/);
    const dryRun = await runLocal(stack, ["rules", "import", "-f", setFile, "--dry-run", "--json"]);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.deepEqual(parseJson<{ planned: { kind: string; id: string }[] }>(dryRun).planned.map((p) => `${p.kind} ${p.id}`), ["create approve-consumer", "create reject-everything-else"]);
    const list = await runLocal(stack, ["rules", "list", "--json"]);
    assert.deepEqual(parseJson<{ status: string; rules: unknown[] }>(list).rules, []);
  });

  test("import --yes writes the set; list, get, history and export read it back; a second import changes nothing", async () => {
    const imported = await runLocal(stack, ["rules", "import", "-f", setFile, "--yes", "--ticket", "CHG0000001", "--json"]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(parseJson<{ applied: { kind: string; id: string; version: number }[] }>(imported).applied, [
      { kind: "create", id: "approve-consumer", version: 1 },
      { kind: "create", id: "reject-everything-else", version: 1 },
    ]);

    const [list, table, get, history, exported] = await Promise.all([
      runLocal(stack, ["rules", "list", "--json"]),
      runLocal(stack, ["rules", "list"]),
      runLocal(stack, ["rules", "get", "approve-consumer", "--json"]),
      runLocal(stack, ["rules", "history", "approve-consumer", "--json"]),
      runLocal(stack, ["rules", "export", "--format", "json"]),
    ]);
    const snapshot = parseJson<{ status: string; rules: { id: string; version: number; updatedBy: { objectId: string } }[] }>(list);
    assert.equal(snapshot.status, "usable");
    assert.deepEqual(snapshot.rules.map((r) => r.id).sort(), ["approve-consumer", "reject-everything-else"]);
    assert.equal(snapshot.rules[0]!.updatedBy.objectId, "local-operator");
    assert.match(table.stdout, /^PRIORITY +ID +ACTION +MODE/m);
    assert.match(table.stdout, /^10 +approve-consumer +approve +enforce +yes +always +1 +Consumer subscription is trusted$/m);
    assert.doesNotMatch(table.stdout + table.stderr, SGR, "no colour when piped");
    const got = parseJson<{ rule: { id: string }; etag: string }>(get);
    assert.equal(got.rule.id, "approve-consumer");
    assert.ok(got.etag.length > 0);
    assert.deepEqual(parseJson<{ version: number; change: string; ticket: string }[]>(history).map((h) => [h.version, h.change, h.ticket]), [[1, "created", "CHG0000001"]]);
    const exportFile = join(stack.dir, "exported.json");
    writeFileSync(exportFile, exported.stdout);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(parseJson<{ rules: { id: string }[] }>(exported).rules.map((r: { id: string }) => r.id), ["approve-consumer", "reject-everything-else"]);

    const again = await runLocal(stack, ["rules", "import", "-f", exportFile]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /= 2 unchanged/);
    assert.match(again.stderr, /Nothing to change/);
  });

  test("get prints an editable YAML rule that put writes back; a stale --if-match is refused with exit 2", async () => {
    const yaml = await runLocal(stack, ["rules", "get", "approve-consumer"]);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.match(yaml.stderr, /version 1, updated .* by Local operator \(portcullis CLI\); etag /);
    const file = join(stack.dir, "rule.yaml");
    writeFileSync(file, yaml.stdout.replace("priority: 10", "priority: 20"));
    const stale = (await runLocal(stack, ["rules", "get", "approve-consumer", "--json"])).stdout;
    const put = await runLocal(stack, ["rules", "put", "-f", file, "--json"]);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(parseJson<{ rule: { priority: number; version: number } }>(put).rule.version, 2);
    const conflict = await runLocal(stack, ["rules", "put", "-f", file, "--if-match", (JSON.parse(stale) as { etag: string }).etag]);
    assert.equal(conflict.code, 2, conflict.stderr);
    const history = parseJson<{ version: number; change: string }[]>(await runLocal(stack, ["rules", "history", "approve-consumer", "--json"]));
    assert.deepEqual(history.map((h) => h.version), [2, 1]);
  });

  test("put rejects an invalid rule file before touching storage, pointing at the line", async () => {
    const file = join(stack.dir, "bad-rule.yaml");
    writeFileSync(file, "id: Bad Id\npriority: 1\naction: approve\nreason: x\n");
    const result = await runLocal(stack, ["rules", "put", "-f", file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`${file}:1:5  id: a rule id is kebab-case`));
  });

  test("under a terminal: import asks and applies on 'y'; tables are coloured unless NO_COLOR is set", async () => {
    const file = join(stack.dir, "three.yaml");
    writeFileSync(file, `${readFileSync(setFile, "utf8")}  - id: added-in-terminal\n    priority: 50\n    action: manual\n    reason: Needs a human\n`);
    const imported = await runInTerminal(["--local", "--stack-file", stack.stackFile, "rules", "import", "-f", file], { input: "y\n" });
    assert.equal(imported.code, 0, imported.output);
    assert.match(imported.output, /Apply 1 create\(s\), 1 update\(s\) and 0 delete\(s\)\? \[y\/N\]/);
    assert.match(imported.output, /applied 2 change\(s\): 1 created, 1 updated, 0 deleted/);

    const coloured = await runInTerminal(["--local", "--stack-file", stack.stackFile, "rules", "list"]);
    assert.equal(coloured.code, 0, coloured.output);
    assert.match(coloured.output, /\u001b\[32mapprove/, "approve in green");
    const plain = await runInTerminal(["--local", "--stack-file", stack.stackFile, "rules", "list"], { env: { NO_COLOR: "1" } });
    assert.equal(plain.code, 0, plain.output);
    assert.doesNotMatch(plain.output, SGR);
    assert.match(plain.output, /added-in-terminal/);
  });

  test("delete asks on a terminal, needs --yes when piped, and keeps the history", async () => {
    const refused = await runLocal(stack, ["rules", "delete", "added-in-terminal"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /pass --yes/);
    const declined = await runInTerminal(["--local", "--stack-file", stack.stackFile, "rules", "delete", "added-in-terminal"], { input: "n\n" });
    assert.equal(declined.code, 2, declined.output);
    assert.match(declined.output, /Cancelled; nothing was changed/);
    const deleted = await runLocal(stack, ["rules", "delete", "added-in-terminal", "--yes", "--json"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(parseJson(deleted), { deleted: "added-in-terminal", version: 1 });
    const [gone, history] = await Promise.all([
      runLocal(stack, ["rules", "get", "added-in-terminal"]),
      runLocal(stack, ["rules", "history", "added-in-terminal", "--json"]),
    ]);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /There is no rule "added-in-terminal"/);
    assert.deepEqual(parseJson<{ change: string }[]>(history).map((h) => h.change), ["deleted", "created"]);
  });
});
