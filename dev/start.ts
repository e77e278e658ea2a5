/**
 * `npm start`: the whole local stack with the demo estate, until Ctrl-C. At start the sweep decides the demo's
 * three Pending connections (one approved by a rule, one rejected by a rule, one left for a human) and the
 * console says which rule decided each and why; then it prints the URLs, keys and how to get a token.
 *
 * `--free-ports` (or PORTCULLIS_LOCAL_FREE_PORTS=1) takes any free ports instead of the usual ones.
 *
 * One stack per state directory (./stack-lock.ts): while one runs, a second `npm start` refuses, and a second
 * `npm start -- --free-ports` keeps its state in a directory of its own (and says so), so neither overwrites the
 * first one's stack file and CA files.
 */
import { readFileSync, rmSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { RuleInput } from "../src/domain/rules/schema.ts";
import { lockStateDir, type StackLock } from "./stack-lock.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const freePorts = process.argv.includes("--free-ports") || process.env["PORTCULLIS_LOCAL_FREE_PORTS"] === "1";
const startedAt = performance.now();

/** The state directory this run may use: .local, or with --free-ports its own one when another stack holds .local. */
function claimStateDir(): { lock: StackLock; own: boolean } {
  const shared = lockStateDir(`${root}.local`);
  if ("locked" in shared) return { lock: shared.locked, own: false };
  const owner = shared.heldBy;
  const where = [owner.functionsHostUrl ? `Functions host ${owner.functionsHostUrl}` : undefined, owner.startedAt ? `started ${owner.startedAt}` : undefined].filter(Boolean).join(", ");
  if (!freePorts) {
    console.error(
      `npm start: a local stack is already running (pid ${owner.pid}${where ? `, ${where}` : ""}) and owns .local/.
` +
        `Use that one (npx portcullis --local ...), stop it with Ctrl-C in its terminal, or start a second one beside it with
` +
        `  npm start -- --free-ports      (its own ports and its own state directory)`,
    );
    process.exit(1);
  }
  const ownDir = lockStateDir(`${root}.local/stack-${process.pid}`);
  if (!("locked" in ownDir)) throw new Error(`the state directory .local/stack-${process.pid} is held by pid ${ownDir.heldBy.pid}`);
  console.log(
    `[start] another local stack (pid ${owner.pid}) owns .local/, so this one keeps its state in ${relative(root, ownDir.locked.stateDir)}/;` +
      ` the CLI reaches it with --local --stack-file ${relative(root, ownDir.locked.stateDir)}/stack.json`,
  );
  return { lock: ownDir.locked, own: true };
}

const { lock, own } = claimStateDir();
process.on("exit", () => {
  lock.release();
  if (own) rmSync(lock.stateDir, { recursive: true, force: true });
});
// Ctrl-C while starting: exit (everything runs in this process), which releases the lock on the way out.
const stopWhileStarting = () => process.exit(130);
process.on("SIGINT", stopWhileStarting);
process.on("SIGTERM", stopWhileStarting);

// Loaded only once the state directory is ours, so a refused second start answers at once.
const [{ parseSettings }, { createComposition }, { tokenCurlCommand }, { startLocalStack }] = await Promise.all([
  import("../src/config.ts"),
  import("../src/composition.ts"),
  import("./oidc-issuer/index.ts"),
  import("./local-stack.ts"),
]);

const stack = await startLocalStack({
  stateDir: lock.stateDir,
  ports: freePorts ? "free" : "preferred",
  topologyFile: `${root}dev/demo/topology.json`,
});

// Demo rules, written through the same rule store (and history) that the API and CLI use.
// engineDeps creates the engine's tables first, as the first function invocation does in Azure.
const { ruleStore: rules } = await createComposition(parseSettings(stack.settings)).engineDeps({
  info: (m) => console.log(`[start] ${m}`),
  warn: (m) => console.warn(`[start] ${m}`),
  error: (m) => console.error(`[start] ${m}`),
});
// The store parses every rule with the rule schema, so a broken demo file fails here with a clear message.
const demoRules = JSON.parse(readFileSync(`${root}dev/demo/rules.json`, "utf8")) as RuleInput[];
for (const rule of demoRules) {
  await rules.putRule(rule, { ifNoneMatch: "*", actor: { objectId: "npm-start", name: "npm start (demo rules)" } });
}
console.log(`[start] seeded ${demoRules.length} demo rules: ${demoRules.map((r) => r.id).join(", ")}`);

// The sweep decides what no event brought in: here, the demo's Pending connections.
await stack.host.fireTimer("reconcilePending");

const localFlag = own ? ` --stack-file ${relative(root, stack.stackFile)}` : "";
const readyIn = ((performance.now() - startedAt) / 1000).toFixed(1);
const { host, issuer } = stack;
console.log(`
Portcullis local stack is up (${readyIn} s).

  Functions host    ${host.url}   (API under ${host.url}/api, e.g. ${host.url}/api/health)
  ARM emulator      ${stack.arm.url}   (control API: ${stack.arm.url}/_emulator/state)
  OpenID issuer     ${issuer.issuer}
  Table Storage     ${stack.azurite.tableEndpoint}   (Azurite, in memory)
  Stack file        ${stack.stackFile}   (the CLI's --local reads it)

  Keys: master ${host.keys.master}   default function key ${host.keys.defaultFunctionKey}

  Get a token (roles: Portcullis.Reader, Portcullis.Approver, Portcullis.Admin):
    TOKEN=$(${tokenCurlCommand(issuer, { caFile: stack.settings["PORTCULLIS_AUTH_CA_FILE"]!, clientId: "my-laptop", roles: ["Portcullis.Reader", "Portcullis.Approver", "Portcullis.Admin"] })} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  Then:
    curl -s -H "Authorization: Bearer $TOKEN" ${host.url}/api/connections
    npx portcullis --local${localFlag} connections list
  Run the sweep or the audit now:
    curl -s -X POST -H "x-functions-key: ${host.keys.master}" -H "content-type: application/json" -d '{}' ${host.url}/admin/functions/reconcilePending
    npx portcullis --local${localFlag} audit run

Ctrl-C stops everything.`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("\n[start] stopping…");
  await stack.close();
  process.exit(0);
}
process.off("SIGINT", stopWhileStarting);
process.off("SIGTERM", stopWhileStarting);
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
