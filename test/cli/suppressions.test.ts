/**
 * `portcullis audit suppress | unsuppress | suppressions` and `portcullis revoke` as child processes against the local
 * stack: the HTTP API's checks (finding recorded, expiry within policy, ticket pattern), the local operator recorded,
 * the effect on the next audit run, exit codes and --json output.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseExpires } from "../../src/cli/commands/suppressions.ts";
import { parseJson, runCli, runInTerminal, runLocal, startCliStack, type CliStack } from "./cli-stack.ts";

interface JsonReport {
  summary: { runId: string; findings: { suppressed: number } };
  findings: { id: string; checkId: string; status: string; suppression?: { owner: string; createdBy?: { objectId: string } } }[];
}

interface JsonEntry {
  findingId: string;
  owner: string;
  reason: string;
  expiresAt: string;
  ticket?: string;
  createdBy?: { objectId: string; name?: string };
  expired: boolean;
  finding?: { checkId: string; status: string; runId: string };
}

const DAY_MS = 86_400_000;

describe("--expires", () => {
  test("takes days from now, a date (midnight UTC) or a timestamp with a time zone; anything else is a usage error", () => {
    const now = new Date("2025-06-01T06:00:00.000Z");
    assert.equal(parseExpires("30d", now), "2025-07-01T06:00:00.000Z");
    assert.equal(parseExpires("2025-12-31", now), "2025-12-31T00:00:00.000Z");
    assert.equal(parseExpires("2025-12-31T18:00:00+01:00", now), "2025-12-31T18:00:00+01:00");
    for (const bad of ["soon", "30", "-1d", "2025-12-31T18:00:00", "31/12/2025", "2025-13-01", "2025-02-31"]) {
      assert.throws(() => parseExpires(bad, now), (e: Error & { exitCode?: number }) => e.exitCode === 2, bad);
    }
  });
});

describe("audit suppressions and revoke", () => {
  let stack: CliStack;
  let publicAccess: string;
  let firstRun: string;
  before(async () => {
    stack = await startCliStack();
  });
  after(() => stack.close());

  const suppress = (id: string, extra: readonly string[] = []) =>
    runLocal(stack, ["audit", "suppress", id, "--reason", "Cut-over to private access planned", "--owner", "platform-team@contoso.example", "--expires", "30d", ...extra]);

  test("before any audit nothing is suppressed, and nothing can be", async () => {
    const [json, table, refused] = await Promise.all([
      runLocal(stack, ["audit", "suppressions", "--json"]),
      runLocal(stack, ["audit", "suppressions"]),
      suppress("public-network-access-0123456789abcdef0123"),
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(parseJson(json), { latestRunId: null, suppressions: [] });
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.stdout, "");
    assert.match(table.stderr, /No findings are suppressed\./);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /No audit run has recorded a finding public-network-access-0123456789abcdef0123/);
  });

  test("after an audit, bad input is a usage error (exit 2) naming the flag, and nothing is stored", async () => {
    const run = await runLocal(stack, ["audit", "run", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const report = parseJson<JsonReport>(run);
    firstRun = report.summary.runId;
    publicAccess = report.findings.find((f) => f.checkId === "public-network-access")!.id;

    const [malformed, unknown, past, tooFar, vague, noOwner, blankReason, badTicket] = await Promise.all([
      suppress("public-network-access"),
      suppress("capacity-0123456789abcdef0123"),
      runLocal(stack, ["audit", "suppress", publicAccess, "--reason", "r", "--owner", "o", "--expires", "2000-01-01"]),
      runLocal(stack, ["audit", "suppress", publicAccess, "--reason", "r", "--owner", "o", "--expires", "400d"]),
      runLocal(stack, ["audit", "suppress", publicAccess, "--reason", "r", "--owner", "o", "--expires", "soon"]),
      runLocal(stack, ["audit", "suppress", publicAccess, "--reason", "r", "--expires", "30d"]),
      runLocal(stack, ["audit", "suppress", publicAccess, "--reason", " ", "--owner", "o", "--expires", "30d"]),
      suppress(publicAccess, ["--ticket", "see ticket"]),
    ]);
    for (const refused of [malformed, unknown, past, tooFar, vague, noOwner, blankReason, badTicket]) assert.equal(refused.code, 2, refused.stderr);
    assert.match(malformed.stderr, /"public-network-access" is not a finding ID/);
    assert.match(unknown.stderr, /No audit run has recorded a finding capacity-0123456789abcdef0123/);
    assert.match(past.stderr, /--expires must be in the future/);
    assert.match(tooFar.stderr, /--expires must be at most 365 days ahead/);
    assert.match(vague.stderr, /--expires "soon" is not a number of days/);
    assert.match(noOwner.stderr, /required option '--owner <owner>' not specified/);
    assert.match(blankReason.stderr, /--reason: a reason is required/);
    assert.match(badTicket.stderr, /--ticket "see ticket" is not a ticket this deployment accepts: for example "CHG0012345"/);
    assert.deepEqual(parseJson<{ suppressions: unknown[] }>(await runLocal(stack, ["audit", "suppressions", "--json"])).suppressions, []);
  });

  test("suppress --json records the local operator, the ticket and the expiry; the next run shows the finding suppressed", async () => {
    const before = Date.now();
    const result = await suppress(publicAccess, ["--ticket", "CHG0012345", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const { created, suppression } = parseJson<{ created: boolean; suppression: JsonEntry }>(result);
    assert.equal(created, true);
    assert.equal(suppression.findingId, publicAccess);
    assert.deepEqual(suppression.createdBy, { objectId: "local-operator", name: "Local operator (portcullis CLI)" });
    assert.equal(suppression.ticket, "CHG0012345");
    assert.equal(suppression.expired, false);
    const expiresInMs = Date.parse(suppression.expiresAt) - before;
    assert.ok(expiresInMs >= 30 * DAY_MS && expiresInMs < 30 * DAY_MS + 60_000, suppression.expiresAt);
    assert.deepEqual([suppression.finding?.checkId, suppression.finding?.status, suppression.finding?.runId], ["public-network-access", "open", firstRun]);
    assert.match(result.stderr, /applies from the next audit run/);

    const replaced = await runLocal(stack, ["audit", "suppress", publicAccess, "--reason", "Moved to Q3", "--owner", "jane@contoso.example", "--expires", new Date(Date.now() + 90 * DAY_MS).toISOString().slice(0, 10)]);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(replaced.stdout, new RegExp(`^Replaced the suppression of ${publicAccess} \\(public-network-access on apim-cli\\) until \\d{4}-\\d{2}-\\d{2}T00:00:00\\.000Z`, "m"));
    assert.match(replaced.stdout, /owner jane@contoso\.example · by Local operator \(portcullis CLI\)/);

    const run = await runLocal(stack, ["audit", "run", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const report = parseJson<JsonReport>(run);
    assert.equal(report.summary.findings.suppressed, 1);
    const finding = report.findings.find((f) => f.id === publicAccess)!;
    assert.equal(finding.status, "suppressed");
    assert.equal(finding.suppression?.owner, "jane@contoso.example");
    assert.equal(finding.suppression?.createdBy?.objectId, "local-operator");
  });

  test("suppressions lists them as JSON, as a plain table when piped, and coloured under a terminal", async () => {
    const [json, piped, tty] = await Promise.all([
      runLocal(stack, ["audit", "suppressions", "--json"]),
      runLocal(stack, ["audit", "suppressions"]),
      runInTerminal(["--local", "--stack-file", stack.stackFile, "audit", "suppressions"]),
    ]);
    assert.equal(json.code, 0, json.stderr);
    const listing = parseJson<{ latestRunId: string; suppressions: JsonEntry[] }>(json);
    assert.deepEqual(listing.suppressions.map((s) => [s.findingId, s.owner, s.reason, s.expired, s.finding?.status, s.finding?.runId]), [
      [publicAccess, "jane@contoso.example", "Moved to Q3", false, "suppressed", listing.latestRunId],
    ]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /^FINDING +RESOURCE +STATE +EXPIRES +OWNER +LATEST RUN +BY +REASON$/m);
    assert.match(piped.stdout, new RegExp(`^${publicAccess} +apim-cli +active +\\S+ +jane@contoso\\.example +suppressed +Local operator \\(portcullis CLI\\) +Moved to Q3$`, "m"));
    assert.doesNotMatch(piped.stdout + piped.stderr, /\u001b\[/);
    assert.equal(tty.code, 0, tty.output);
    assert.match(tty.output, /\u001b\[32mactive/);
  });

  test("unsuppress removes it (then exit 2); the listing fails with exit 4 when storage is unreachable", async () => {
    const removed = await runLocal(stack, ["audit", "unsuppress", publicAccess, "--json"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(parseJson<{ removed: { findingId: string; owner: string } }>(removed).removed.owner, "jane@contoso.example");
    const [again, listing] = await Promise.all([runLocal(stack, ["audit", "unsuppress", publicAccess]), runLocal(stack, ["audit", "suppressions", "--json"])]);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, new RegExp(`The finding "${publicAccess}" has no suppression`));
    assert.deepEqual(parseJson<{ suppressions: unknown[] }>(listing).suppressions, []);

    const down = JSON.parse(readFileSync(stack.stackFile, "utf8")) as { settings: Record<string, string> };
    down.settings["PORTCULLIS_TABLES_CONNECTION_STRING"] = down.settings["PORTCULLIS_TABLES_CONNECTION_STRING"]!.replace(/127\.0\.0\.1:\d+/, "127.0.0.1:9");
    // As an Azure target (config file): with --local, storage down means "no local stack is running" (exit 2).
    const downFile = join(stack.dir, "storage-down.yaml");
    writeFileSync(downFile, `settings:\n${Object.entries(down.settings).map(([name, value]) => `  ${name}: ${JSON.stringify(value)}`).join("\n")}\n`);
    const unreachable = await runCli(["--config", downFile, "audit", "suppressions"], { cwd: stack.dir });
    assert.equal(unreachable.code, 4, unreachable.stderr);
    assert.match(unreachable.stderr, /Try again later/);
  });

  test("revoke turns an Approved connection Rejected with the API's checks, recording the local operator and the ticket", async () => {
    const listed = parseJson<{ connections: { id: string; name: string; status: string }[] }>(await runLocal(stack, ["connections", "list", "--json"])).connections;
    const legacy = listed.find((c) => c.name.startsWith("pe-legacy"))!;
    const pending = listed.find((c) => c.status === "Pending")!;
    const [badTicket, notApproved, noReason] = await Promise.all([
      runLocal(stack, ["revoke", legacy.id, "--ticket", "please", "--reason", "Offboarded"]),
      runLocal(stack, ["revoke", pending.id, "--ticket", "CHG0001234", "--reason", "Offboarded"]),
      runLocal(stack, ["revoke", legacy.id, "--ticket", "CHG0001234"]),
    ]);
    for (const refused of [badTicket, notApproved, noReason]) assert.equal(refused.code, 2, refused.stderr);
    assert.match(badTicket.stderr, /--ticket "please" is not a ticket this deployment accepts: for example/);
    assert.match(notApproved.stderr, /it is Pending, not Approved/);
    assert.match(noReason.stderr, /required option '--reason <reason>' not specified/);

    const revoked = await runLocal(stack, ["revoke", `apim-cli/${legacy.name}`, "--ticket", "CHG0001234", "--reason", "Consumer offboarded", "--json"]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const { result, record } = parseJson<{ result: string; record: Record<string, unknown> }>(revoked);
    assert.equal(result, "completed");
    assert.deepEqual([record["action"], record["outcome"], record["statusBefore"], record["statusAfter"]], ["revoke", "applied", "Approved", "Rejected"]);
    assert.equal(record["actor"], "principal:local-operator");
    assert.equal(record["ticket"], "CHG0001234");

    const shown = parseJson<{ connection: { status: string; description: string } }>(await runLocal(stack, ["connections", "show", legacy.id, "--json"]));
    assert.equal(shown.connection.status, "Rejected");
    assert.match(shown.connection.description, /^Revoked by Local operator \(portcullis CLI\) via Portcullis \[CHG0001234\]: Consumer offboarded/);
    const again = await runLocal(stack, ["revoke", legacy.id, "--ticket", "CHG0001234", "--reason", "twice"]);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /it is Rejected, not Approved/);
  });
});
