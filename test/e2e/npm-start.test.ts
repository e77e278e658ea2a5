import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Runs `npm start` on free ports and collects its console until it says it is up (or the deadline passes). */
async function startDemo(deadlineMs: number, args: readonly string[] = ["--free-ports"], until: RegExp = /Portcullis local stack is up/) {
  const child = spawn("npm", ["start", "--silent", "--", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const started = performance.now();
  const up = await new Promise<boolean>((resolve) => {
    const timer = setInterval(() => {
      if (until.test(output)) finish(true);
      else if (performance.now() - started > deadlineMs || child.exitCode !== null) finish(false);
    }, 100);
    function finish(value: boolean) {
      clearInterval(timer);
      resolve(value);
    }
  });
  return {
    up,
    exitCode: () => child.exitCode,
    seconds: (performance.now() - started) / 1000,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("close", resolve));
      process.kill(-child.pid!, "SIGINT");
      await exited;
    },
  };
}

test("npm start is up within 15 seconds, decides the demo's Pending connections on every type saying why, shows the demo's DNS findings, and guards its state directory", async () => {
  const demo = await startDemo(15_000);
  try {
    assert.ok(demo.up, `npm start was not up within 15 s:\n${demo.output()}`);
    const out = demo.output();
    assert.match(out, /pe-app-one-to-dev[^\n]*: approved: approved by rule:approve-internal-app-subscriptions/);
    assert.match(out, /pe-sandbox-to-prod[^\n]*: rejected: rejected by rule:reject-sandbox-to-prod/);
    assert.match(out, /Pending for a human: [^\n]*pe-fabrikam-to-prod/);
    // The other governed types of the demo estate (dev/demo/topology.json), each decided by a rule of dev/demo/rules.json.
    assert.match(out, /storageAccounts\/contosodata01\/privateEndpointConnections\/pe-app-one-to-storage[^\n]*: approved: approved by rule:approve-app-one-report-storage/);
    assert.match(out, /vaults\/contoso-kv-prod\/privateEndpointConnections\/pe-sandbox-to-vault[^\n]*: rejected: rejected by rule:reject-sandbox-to-vaults/);
    assert.match(out, /vaults\/contoso-kv-prod\/privateEndpointConnections\/contoso-adf\.mpe-contoso-kv-prod[^\n]*: approved: approved by rule:approve-adf-managed-endpoint/);

    const hostUrl = /Functions host\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    assert.ok(hostUrl, "npm start printed the Functions host URL");
    const health = await fetch(`${hostUrl}/api/health`);
    assert.equal(health.status, 200);
    const unauthenticated = await fetch(`${hostUrl}/api/connections`);
    assert.equal(unauthenticated.status, 401, "the API needs a token even locally");

    // The route list says which routes need a token: /health is open, the API needs a bearer token with a role.
    assert.match(out, /health: \[GET\] \S+\/api\/health \(anonymous: no key, no token\)/);
    assert.match(out, /listConnections: \[GET\] \S+\/api\/connections \(bearer token, role Portcullis\.Reader\)/);
    assert.match(out, /revokeConnection: \[POST\] \S+ \(bearer token, role Portcullis\.Admin\)/);
    assert.doesNotMatch(out, /: claimed-elsewhere: /, "a racing event's outcome reads as the normal outcome it is");

    // The demo configures the hub DNS zone, so the first audit already shows the DNS findings the README promises.
    const stackFile = /Stack file\s+(\S+)/.exec(out)?.[1];
    assert.ok(stackFile, "npm start printed its stack file");
    const audit = spawnSync(join(root, "node_modules", ".bin", "node"), [join(root, "bin", "portcullis.js"), "--local", "--stack-file", stackFile, "audit", "run", "--format", "json"], { cwd: root, encoding: "utf8" });
    assert.equal(audit.status, 0, audit.stderr);
    const checks = new Set((JSON.parse(audit.stdout) as { findings: { checkId: string; status: string }[] }).findings.filter((f) => f.status === "open").map((f) => f.checkId));
    for (const check of ["dns-record-missing", "dns-stale-ips", "public-network-access"]) assert.ok(checks.has(check), `${check} in ${[...checks].join(", ")}`);

    // A second npm start while this one runs refuses, and leaves this one's files alone...
    const ownsShared = stackFile === join(root, ".local", "stack.json");
    const second = await startDemo(20_000, []);
    assert.equal(second.up, false, second.output());
    if (ownsShared) {
      assert.equal(second.exitCode(), 1, second.output());
      assert.match(second.output(), /npm start: a local stack is already running \(pid \d+, Functions host http:\/\/127\.0\.0\.1:\d+/);
      assert.match(second.output(), /npm start -- --free-ports/);
    }
    assert.ok(existsSync(stackFile), "the running stack's file is still there");
    // ...and with --free-ports it says it takes a state directory of its own (stopped as soon as it has said so).
    const beside = await startDemo(20_000, ["--free-ports"], /\[start\] another local stack .*\n/);
    try {
      assert.ok(beside.up, beside.output());
      assert.match(beside.output(), /\[start\] another local stack \(pid \d+\) owns \.local\/, so this one keeps its state in \.local\/stack-\d+\/; the CLI reaches it with --local --stack-file \.local\/stack-\d+\/stack\.json/);
    } finally {
      await beside.stop();
    }
    assert.ok(existsSync(stackFile), "the running stack's file is still there");
  } finally {
    await demo.stop();
  }
  // Stopped, a stack removes its stack file: the CLI then says at once that none is running.
  const stackFile = /Stack file\s+(\S+)/.exec(demo.output())?.[1];
  if (stackFile !== undefined) assert.equal(existsSync(stackFile), false, "npm start removed its stack file on Ctrl-C");
  const cli = spawnSync(join(root, "node_modules", ".bin", "node"), [join(root, "bin", "portcullis.js"), "--local", "--stack-file", stackFile ?? "/nonexistent", "rules", "list"], { cwd: root, encoding: "utf8" });
  assert.equal(cli.status, 2);
  assert.match(cli.stderr, /no local stack is running: start it with npm start/);
});
