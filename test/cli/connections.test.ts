/**
 * `portcullis connections list|show`, `what-if`, `approve` and `reject` as child processes against the local stack:
 * JSON output parsed and checked, the HTTP API's checks (ticket pattern, Pending only), the decision records with
 * the local operator as actor, and the resulting state in the ARM emulator.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { APIM_ID, CONSUMER_SUB, parseJson, runInTerminal, runLocal, startCliStack, type CliStack } from "./cli-stack.ts";

interface ListedConnection {
  id: string;
  name: string;
  status: string;
  privateEndpointId: string;
  latestDecision: { action: string; actor: string; actorName: string; ticket: string; outcome: string } | null;
}

describe("connections, what-if and manual decisions", () => {
  let stack: CliStack;
  let orders: ListedConnection;
  let billing: ListedConnection;
  let trial: ListedConnection;
  before(async () => {
    stack = await startCliStack();
  });
  after(() => stack.close());

  test("connections list --json lists every connection of the managed instances; --status and --instance filter", async () => {
    const [all, pending, byName, unknown] = await Promise.all([
      runLocal(stack, ["connections", "list", "--json"]),
      runLocal(stack, ["connections", "list", "--status", "Pending", "--json"]),
      runLocal(stack, ["connections", "list", "--instance", "apim-cli", "--status", "Approved", "--json"]),
      runLocal(stack, ["connections", "list", "--instance", "no-such-apim"]),
    ]);
    assert.equal(all.code, 0, all.stderr);
    const connections = parseJson<{ connections: ListedConnection[] }>(all).connections;
    assert.deepEqual(connections.map((c) => c.privateEndpointId.split("/").at(-1)).sort(), ["pe-billing", "pe-legacy", "pe-orders", "pe-trial"]);
    assert.ok(connections.every((c) => c.id.startsWith(`${APIM_ID}/privateEndpointConnections/`) && c.latestDecision === null));
    orders = connections.find((c) => c.name.startsWith("pe-orders"))!;
    billing = connections.find((c) => c.name.startsWith("pe-billing"))!;
    trial = connections.find((c) => c.name.startsWith("pe-trial"))!;
    assert.deepEqual(parseJson<{ connections: ListedConnection[] }>(pending).connections.map((c) => c.status), ["Pending", "Pending", "Pending"]);
    assert.deepEqual(parseJson<{ connections: ListedConnection[] }>(byName).connections.map((c) => c.name.split(".")[0]), ["pe-legacy"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No managed resource is named "no-such-apim"/);
  });

  test("what-if shows which Pending connection a proposed rule would decide, as a table and as JSON, writing nothing", async () => {
    const file = join(stack.dir, "proposed.yaml");
    writeFileSync(
      file,
      `- id: approve-billing\n  priority: 10\n  action: approve\n  reason: Billing is trusted\n  conditions:\n    request-message: ["Billing"]\n    requester-subscriptions: ["${CONSUMER_SUB}"]\n`,
    );
    const [table, json] = await Promise.all([runLocal(stack, ["what-if", "-f", file]), runLocal(stack, ["what-if", "-f", file, "--json"])]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`apim-cli/${billing.name.replace(/\./g, "\\.")} +Pending +manual \\(default\\) +approve \\(approve-billing v1\\) +CHANGES`));
    assert.match(table.stdout, /3 Pending: 1 Pending connection\(s\) would be decided differently/);
    const report = parseJson<{ summary: { connections: number; pending: number; changedPending: number }; rules: { ruleId: string; approve: string[] }[] }>(json);
    assert.deepEqual(report.summary, { connections: 4, pending: 3, changed: 1, changedPending: 1 });
    assert.deepEqual(report.rules.map((r) => [r.ruleId, r.approve]), [["approve-billing", [billing.id]]]);
    const rules = parseJson<{ rules: unknown[] }>(await runLocal(stack, ["rules", "list", "--json"]));
    assert.deepEqual(rules.rules, [], "what-if stores nothing");
  });

  test("approve checks the ticket like the API, then approves in ARM and records the local operator as actor", async () => {
    const [badTicket, partialTicket, longReason, bidiReason] = await Promise.all([
      runLocal(stack, ["approve", orders.id, "--ticket", "please", "--reason", "Orders team"]),
      runLocal(stack, ["approve", orders.id, "--ticket", "see CHG0001234", "--reason", "Orders team"]),
      runLocal(stack, ["approve", orders.id, "--ticket", "CHG0001234", "--reason", "x".repeat(141)]),
      runLocal(stack, ["approve", orders.id, "--ticket", "CHG0001234", "--reason", "Orders \u202emaet"]),
    ]);
    for (const refused of [badTicket, partialTicket, longReason, bidiReason]) assert.equal(refused.code, 2, refused.stderr);
    assert.match(bidiReason.stderr, /--reason: a reason cannot contain bidi controls \(found U\+202E at position 7/);
    assert.match(badTicket.stderr, /--ticket "please" is not a ticket this deployment accepts: for example "CHG0012345" or "RITM0012345" or "INC0012345"/);
    assert.match(partialTicket.stderr, /is not a ticket this deployment accepts/, "the whole ticket must match, as in the API");
    assert.match(longReason.stderr, /--reason: a reason has at most 140 characters/);

    const approved = await runLocal(stack, ["approve", orders.id, "--ticket", "CHG0001234", "--reason", "Orders team", "--requested-by", "jane@contoso.example", "--json"]);
    assert.equal(approved.code, 0, approved.stderr);
    const { result, record } = parseJson<{ result: string; record: Record<string, unknown> }>(approved);
    assert.equal(result, "completed");
    assert.equal(record["action"], "approve");
    assert.equal(record["outcome"], "applied");
    assert.equal(record["actor"], "principal:local-operator");
    assert.equal(record["ticket"], "CHG0001234");
    assert.equal(record["requestedBy"], "jane@contoso.example");
    assert.equal(record["statusAfter"], "Approved");

    const again = await runLocal(stack, ["approve", orders.id, "--ticket", "CHG0001234", "--reason", "twice"]);
    assert.equal(again.code, 2, "only a Pending connection can be approved");
    assert.match(again.stderr, /it is Approved, not Pending/);
  });

  test("with --mode dry-run, approve records what it would do and leaves Azure unchanged", async () => {
    const dryRun = await runLocal(stack, ["--mode", "dry-run", "approve", trial.id, "--ticket", "INC0000042", "--reason", "Trial"]);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stderr, /mode dry-run/);
    assert.match(dryRun.stdout, /^dry-run: recorded that .*pe-trial.* would be approved; Azure was not changed/m);
    const shown = parseJson<{ connection: { status: string }; decisions: { action: string; mode: string; outcome: string }[] }>(
      await runLocal(stack, ["connections", "show", trial.id, "--json"]),
    );
    assert.equal(shown.connection.status, "Pending");
    assert.deepEqual(shown.decisions.map((d) => [d.action, d.mode, d.outcome]), [["approve", "dry-run", "would-apply"]]);
  });

  test("reject takes INSTANCE/CONNECTION; show and list then report the decisions", async () => {
    const rejected = await runLocal(stack, ["reject", `apim-cli/${billing.name}`, "--ticket", "OPS-42", "--reason", "Unknown consumer"]);
    assert.equal(rejected.code, 0, rejected.stderr);
    assert.match(rejected.stdout, /^Rejected \/subscriptions\/.*pe-billing/m);
    assert.match(rejected.stdout, /ticket OPS-42 · actor Local operator \(portcullis CLI\)/);

    const [show, list] = await Promise.all([
      runLocal(stack, ["connections", "show", `apim-cli/${billing.name}`, "--json"]),
      runLocal(stack, ["connections", "list", "--json"]),
    ]);
    const shown = parseJson<{ connection: { status: string; description: string }; privateEndpoint: { connections: { requestMessage: string }[] }; decisions: { action: string; ticket: string }[] }>(show);
    assert.equal(shown.connection.status, "Rejected");
    assert.match(shown.connection.description, /Rejected by Local operator \(portcullis CLI\) via Portcullis \[OPS-42\]: Unknown consumer/);
    assert.equal(shown.privateEndpoint.connections[0]!.requestMessage, "Billing");
    assert.deepEqual(shown.decisions.map((d) => [d.action, d.ticket]), [["reject", "OPS-42"]]);
    const byId = new Map(parseJson<{ connections: ListedConnection[] }>(list).connections.map((c) => [c.id, c]));
    assert.equal(byId.get(orders.id)!.latestDecision!.action, "approve");
    assert.equal(byId.get(billing.id)!.latestDecision!.action, "reject");
    const inArm = stack.emulator.snapshot() as { subscriptions: unknown };
    assert.match(JSON.stringify(inArm), /OPS-42/, "the ARM emulator holds the rejection's description");
  });

  test("piped tables are plain; under a terminal the status is coloured", async () => {
    const [piped, tty] = await Promise.all([
      runLocal(stack, ["connections", "list"]),
      runInTerminal(["--local", "--stack-file", stack.stackFile, "connections", "list"]),
    ]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /^CONNECTION +TYPE +STATUS +REQUESTER +LATEST DECISION$/m);
    assert.match(piped.stdout, /API Management +Rejected +c1c1c1c1-0000-4000-8000-000000000002\/rg-consumer\/pe-billing +reject by Local operator/);
    assert.doesNotMatch(piped.stdout + piped.stderr, /\u001b\[/);
    assert.equal(tty.code, 0, tty.output);
    assert.match(tty.output, /\u001b\[31mRejected/);
    assert.match(tty.output, /\u001b\[32mApproved/);
  });
});
