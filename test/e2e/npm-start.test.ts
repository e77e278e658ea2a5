import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Runs `npm start` on free ports and collects its console until it says it is up (or the deadline passes). */
async function startDemo(deadlineMs: number) {
  const child = spawn("npm", ["start", "--silent", "--", "--free-ports"], { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const started = performance.now();
  const up = await new Promise<boolean>((resolve) => {
    const timer = setInterval(() => {
      if (output.includes("Portcullis local stack is up")) finish(true);
      else if (performance.now() - started > deadlineMs || child.exitCode !== null) finish(false);
    }, 100);
    function finish(value: boolean) {
      clearInterval(timer);
      resolve(value);
    }
  });
  return {
    up,
    seconds: (performance.now() - started) / 1000,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid!, "SIGINT");
      await exited;
    },
  };
}

test("npm start is up within 15 seconds and the demo decides its three Pending connections, saying why", async () => {
  const demo = await startDemo(15_000);
  try {
    assert.ok(demo.up, `npm start was not up within 15 s:\n${demo.output()}`);
    const out = demo.output();
    assert.match(out, /pe-app-one-to-dev[^\n]*: approved: approved by rule:approve-internal-app-subscriptions/);
    assert.match(out, /pe-sandbox-to-prod[^\n]*: rejected: rejected by rule:reject-sandbox-to-prod/);
    assert.match(out, /Pending for a human: [^\n]*pe-fabrikam-to-prod/);

    const hostUrl = /Functions host\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    assert.ok(hostUrl, "npm start printed the Functions host URL");
    const health = await fetch(`${hostUrl}/api/health`);
    assert.equal(health.status, 200);
    const unauthenticated = await fetch(`${hostUrl}/api/connections`);
    assert.equal(unauthenticated.status, 401, "the API needs a token even locally");
  } finally {
    await demo.stop();
  }
});
