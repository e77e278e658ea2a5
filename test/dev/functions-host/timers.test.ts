import { test } from "node:test";
import assert from "node:assert/strict";
import type azf from "@azure/functions";
import type { EventGridFunctionDefinition, TimerFunctionDefinition } from "../../../src/functions/definition.ts";
import { startFunctionsHost } from "../../../dev/functions-host/index.ts";
import { deferred, startTestHost, within } from "./host-fixture.ts";

function timer(name: string, schedule: string, handler: TimerFunctionDefinition["handler"], runOnStartup = false): TimerFunctionDefinition {
  return { kind: "timer", name, schedule, runOnStartup, handler };
}

/** A clock that starts at `start` and advances with real time. */
function clockFrom(start: string): () => Date {
  const offset = Date.parse(start) - Date.now();
  return () => new Date(Date.now() + offset);
}

test("Timer: fires when the schedule comes due on the injected clock, with the host's schedule status", async (t) => {
  const fired = deferred<azf.Timer>();
  await startTestHost(t, {
    definitions: [timer("everyMinute", "0 * * * * *", async (info) => fired.resolve(info))],
    now: clockFrom("2030-01-01T00:00:59.850Z"),
  });
  const info = await within(fired.promise, 2000, "the scheduled run");
  assert.deepEqual(info, {
    schedule: { adjustForDST: true },
    scheduleStatus: { last: "0001-01-01T00:00:00.000Z", next: "2030-01-01T00:01:00.000Z", lastUpdated: "0001-01-01T00:00:00.000Z" },
    isPastDue: false,
  });
});

test("Timer: a schedule every second keeps firing, and each run sees when the previous one fired as last", async (t) => {
  const runs: azf.Timer[] = [];
  const second = deferred();
  const host = await startTestHost(t, {
    definitions: [timer("everySecond", "* * * * * *", async (info) => {
      runs.push(info);
      if (runs.length === 2) second.resolve();
    })],
    now: clockFrom("2030-01-01T00:00:00.900Z"),
  });
  await within(second.promise, 3000, "two scheduled runs");
  // As in the host's TimerListener, `last` is the occurrence that fired, or the actual start time when later.
  const lateness = Date.parse(runs[1]!.scheduleStatus.last) - Date.parse(runs[0]!.scheduleStatus.next);
  assert.ok(lateness >= 0 && lateness < 1000, `last is the first run's time (${lateness} ms after its occurrence)`);
  assert.equal(Date.parse(runs[1]!.scheduleStatus.next) - Date.parse(runs[0]!.scheduleStatus.next), 1000);
  assert.ok(host.lines.some((l) => /Executed 'Functions\.everySecond' \(Succeeded, Trigger=timerTrigger, Id=[0-9a-f-]{36}, Duration=\d+ms\)/.test(l)));
});

test("Timer: runOnStartup runs at start even when the schedule is far away; timers:false turns scheduling off", async (t) => {
  const started = deferred();
  await startTestHost(t, { definitions: [timer("atStart", "0 0 0 1 1 *", async () => started.resolve(), true)] });
  await within(started.promise, 2000, "the start-up run");

  let ran = false;
  const quiet = await startTestHost(t, {
    definitions: [timer("quiet", "0 * * * * *", async () => void (ran = true), true)],
    timers: false,
    now: clockFrom("2030-01-01T00:00:59.900Z"),
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(ran, false);
  await quiet.fireTimer("quiet");
  assert.equal(ran, true, "fireTimer still works");
});

test("Timer: %SETTING% schedules resolve from the settings; a missing setting stops start-up naming it", async (t) => {
  const fired = deferred<azf.Timer>();
  await startTestHost(t, {
    definitions: [timer("reconcile", "%MY_SCHEDULE%", async (info) => fired.resolve(info))],
    settings: { MY_SCHEDULE: "30 * * * * *" },
    now: clockFrom("2030-01-01T00:00:29.900Z"),
  });
  assert.equal((await within(fired.promise, 2000, "the resolved schedule")).scheduleStatus.next, "2030-01-01T00:00:30.000Z");

  await assert.rejects(
    startFunctionsHost({ definitions: [timer("reconcile", "%NOT_SET%", async () => {})], settings: {}, log: () => {} }),
    /function 'reconcile': the schedule refers to the app setting NOT_SET, which is not set/,
  );
  await assert.rejects(
    startFunctionsHost({ definitions: [timer("bad", "*/5 * * * *", async () => {})], log: () => {} }),
    /function 'bad': '\*\/5 \* \* \* \*' is not a valid timer schedule: expected 6 fields/,
  );
});

test("Timer: runs of one timer never overlap; a second request waits for the first", async (t) => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const release = deferred();
  const firstStarted = deferred();
  const host = await startTestHost(t, {
    definitions: [timer("slow", "0 0 0 1 1 *", async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      if (runs === 1) {
        firstStarted.resolve();
        await release.promise;
      }
      running--;
    })],
  });
  const first = host.fireTimer("slow");
  await within(firstStarted.promise, 2000, "the first run");
  const admin = await fetch(`${host.url}/admin/functions/slow`, { method: "POST", headers: { "x-functions-key": host.keys.master }, body: "{}" });
  assert.equal(admin.status, 202);
  const second = host.fireTimer("slow");
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(runs, 1, "nothing else started while the first run holds the lock");
  release.resolve();
  await Promise.all([first, second]);
  assert.equal(runs, 3);
  assert.equal(maxRunning, 1);
});

test("Timer: fireTimer rejects with the handler's error and refuses unknown names", async (t) => {
  const host = await startTestHost(t, {
    definitions: [timer("failing", "0 0 0 1 1 *", async () => {
      throw new Error("sweep failed");
    })],
  });
  await assert.rejects(host.fireTimer("failing"), /sweep failed/);
  await assert.rejects(host.fireTimer("missing"), /no timer function named 'missing'/);
  assert.ok(host.lines.some((l) => l.includes("Executed 'Functions.failing' (Failed, Trigger=timerTrigger")));
});

test("Admin API: POST /admin/functions/NAME with the master key fires the function (202); others get 401/404/400", async (t) => {
  const fired = deferred<azf.Timer>();
  const delivered = deferred<unknown>();
  const onEvent: EventGridFunctionDefinition = { kind: "eventGrid", name: "onEvent", handler: async (event) => delivered.resolve(event) };
  const host = await startTestHost(t, { definitions: [timer("sweep", "0 0 0 1 1 *", async (info) => fired.resolve(info)), onEvent] });
  const invoke = (name: string, body: string, key?: string): Promise<Response> =>
    fetch(`${host.url}/admin/functions/${name}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key === undefined ? {} : { "x-functions-key": key }) },
      body,
    });

  assert.equal((await invoke("sweep", '{"input": ""}')).status, 401);
  assert.equal((await invoke("sweep", '{"input": ""}', host.keys.defaultFunctionKey)).status, 401);
  assert.equal((await invoke("sweep", '{"input": ""}', host.keys.functionKeys["sweep"])).status, 401);
  assert.equal((await invoke("nope", '{"input": ""}', host.keys.master)).status, 404);
  assert.equal((await invoke("sweep", "", host.keys.master)).status, 400);
  assert.equal((await invoke("sweep", "[1]", host.keys.master)).status, 400);

  assert.equal((await invoke("sweep", '{"input": ""}', host.keys.master)).status, 202);
  assert.equal((await within(fired.promise, 2000, "the admin-fired timer")).isPastDue, false);

  const event = { id: "e1", subject: "/x", eventType: "Test", eventTime: "2024-01-01T00:00:00Z", data: {} };
  assert.equal((await invoke("onEvent", JSON.stringify({ input: JSON.stringify(event) }), host.keys.master)).status, 202);
  assert.deepEqual(await within(delivered.promise, 2000, "the admin-fired event"), event);
});
