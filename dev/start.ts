/**
 * `npm start`: the whole local stack with the demo estate, until Ctrl-C. At start the sweep decides the demo's
 * three Pending connections (one approved by a rule, one rejected by a rule, one left for a human) and the
 * console says which rule decided each and why; then it prints the URLs, keys and how to get a token.
 *
 * `--free-ports` (or PORTCULLIS_LOCAL_FREE_PORTS=1) takes any free ports instead of the usual ones.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseSettings } from "../src/config.ts";
import { createComposition } from "../src/composition.ts";
import type { RuleInput } from "../src/domain/rules/schema.ts";
import { tokenCurlCommand } from "./oidc-issuer/index.ts";
import { startLocalStack } from "./local-stack.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const freePorts = process.argv.includes("--free-ports") || process.env["PORTCULLIS_LOCAL_FREE_PORTS"] === "1";
const startedAt = performance.now();

const stack = await startLocalStack({
  stateDir: `${root}.local`,
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
    npx portcullis --local connections list
  Run the sweep or the audit now:
    curl -s -X POST -H "x-functions-key: ${host.keys.master}" -H "content-type: application/json" -d '{}' ${host.url}/admin/functions/reconcilePending
    npx portcullis --local audit run

Ctrl-C stops everything.`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("\n[start] stopping…");
  await stack.close();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
