import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSettings } from "../../src/config.ts";
import { withResolvedSchedules, type TimerFunctionDefinition } from "../../src/functions/definition.ts";
import { functionDefinitions } from "../../src/functions/index.ts";

const minimal = parseSettings({
  PORTCULLIS_MANAGED_SUBSCRIPTIONS: "00000000-0000-0000-0000-000000000001",
  PORTCULLIS_TABLES_ENDPOINT: "https://acct.table.core.windows.net",
  PORTCULLIS_AUTH_ISSUER: "https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa/v2.0",
  PORTCULLIS_AUTH_AUDIENCE: "api://portcullis",
});

test("every timer gets a concrete schedule from the settings' defaults when no schedule setting is set", () => {
  const timers = withResolvedSchedules(functionDefinitions, minimal).filter((d): d is TimerFunctionDefinition => d.kind === "timer");
  assert.ok(timers.length >= 3);
  for (const timer of timers) assert.match(timer.schedule, /^\S+( \S+){5}$/, `${timer.name}: ${timer.schedule}`);
  assert.equal(timers.find((t) => t.name === "reconcilePending")?.schedule, "0 */5 * * * *");
});

test("a schedule naming a setting that does not exist is refused at start-up, naming the timer", () => {
  const broken: TimerFunctionDefinition = { kind: "timer", name: "broken", schedule: "%NO_SUCH_SETTING%", handler: async () => {} };
  assert.throws(() => withResolvedSchedules([broken], minimal), /timer broken: schedule %NO_SUCH_SETTING%/);
});
