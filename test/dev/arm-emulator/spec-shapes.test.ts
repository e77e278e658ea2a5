/**
 * Replays every operation described in test/fixtures/arm-shapes/*.json against the emulator (seeded with the demo
 * topology) and checks the answer has the status codes and the JSON shape of the published azure-rest-api-specs
 * example the fixture names: each listed property path must exist with the listed JSON type.
 *
 * Path syntax: `properties.privateEndpointConnections[].name` — `[]` means "every element", and the array must not
 * be empty (so a shape is never checked vacuously).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { z } from "zod";
import { startArmEmulator, type ArmEmulator } from "../../../dev/arm-emulator/index.ts";
import { rawRequest, type RawResponse } from "./helpers.ts";

const FIXTURES = new URL("../../fixtures/arm-shapes/", import.meta.url);
const DEMO_TOPOLOGY = new URL("../../../dev/arm-emulator/topologies/demo.json", import.meta.url);

/** Subscription placeholders, matching dev/arm-emulator/topologies/demo.json. */
const PLACEHOLDERS: Record<string, string> = {
  provider: "a0a0a0a0-0000-4000-8000-000000000001",
  consumer: "c1c1c1c1-0000-4000-8000-000000000002",
  partner: "c2c2c2c2-0000-4000-8000-000000000003",
  hub: "b0b0b0b0-0000-4000-8000-000000000004",
};

const JsonType = z.enum(["string", "number", "boolean", "object", "array", "null"]);
const Poll = z.enum(["location", "azure-async-operation"]);

const StepSchema = z.object({
  method: z.enum(["GET", "PUT", "PATCH", "DELETE", "POST"]),
  url: z.string().startsWith("/"),
  apiVersion: z.string(),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.unknown().optional(),
  poll: Poll.optional(),
  capture: z.record(z.string(), z.string()).default({}),
});

const FixtureSchema = z.object({
  operation: z.string(),
  spec: z.string().startsWith("specification/"),
  example: z.string().startsWith("specification/"),
  setup: z.array(StepSchema).default([]),
  request: StepSchema,
  expectedStatus: z.array(z.number().int()).min(1),
  expectedHeaders: z.array(z.string()).default([]),
  finalStatus: z.array(z.number().int()).optional(),
  shape: z.record(z.string(), JsonType).default({}),
  notEmulated: z.array(z.string()).default([]),
});

type Step = z.output<typeof StepSchema>;
type Fixture = z.output<typeof FixtureSchema>;

function loadFixtures(): { file: string; fixture: Fixture }[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, fixture: FixtureSchema.parse(JSON.parse(readFileSync(new URL(file, FIXTURES), "utf8"))) }));
}

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`no value for placeholder ${whole}`);
    return value;
  });
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Every value at `path` (`[]` fans out over array elements); fails when a segment is missing or an array is empty. */
function valuesAt(root: unknown, path: string): unknown[] {
  let current: unknown[] = [root];
  for (const segment of path.split(".")) {
    const match = /^(.*?)(\[\])?$/.exec(segment)!;
    const key = match[1]!;
    const fanOut = match[2] !== undefined;
    const next: unknown[] = [];
    for (const value of current) {
      const child = key === "" ? value : (value as Record<string, unknown> | null)?.[key];
      assert.ok(value !== null && typeof value === "object" && (key === "" || key in value), `missing '${key}' on the way to '${path}'`);
      if (fanOut) {
        assert.ok(Array.isArray(child) && child.length > 0, `'${path}': '${key}' must be a non-empty array`);
        next.push(...child);
      } else next.push(child);
    }
    current = next;
  }
  return current;
}

function firstValue(root: unknown, path: string): string {
  const parts = path.split(".");
  let current: unknown = root;
  for (const part of parts) {
    const indexed = /^(\w+)\[(\d+)\]$/.exec(part);
    current = indexed ? (current as Record<string, unknown[]>)[indexed[1]!]?.[Number(indexed[2])] : (current as Record<string, unknown>)[part];
  }
  assert.equal(typeof current, "string", `capture path '${path}' must lead to a string`);
  return current as string;
}

async function send(emulator: ArmEmulator, step: Step, vars: Record<string, string>): Promise<RawResponse> {
  const url = `${fill(step.url, vars)}?api-version=${step.apiVersion}`;
  const body = step.body === undefined ? undefined : fill(JSON.stringify(step.body), vars);
  return rawRequest(emulator, step.method, url, { headers: step.headers, ...(body === undefined ? {} : { body }) });
}

/** Follows a long-running operation the way the SDK pollers do and returns the final answer. */
async function pollToEnd(emulator: ArmEmulator, step: Step, vars: Record<string, string>, initial: RawResponse): Promise<RawResponse> {
  const header = step.poll === "location" ? "location" : "azure-asyncoperation";
  const target = new URL(String(initial.headers[header]));
  for (let attempt = 0; attempt < 200; attempt++) {
    const response = await rawRequest(emulator, "GET", `${target.pathname}${target.search}`);
    if (step.poll === "location" && response.status !== 202) return response;
    if (step.poll === "azure-async-operation") {
      const status = (response.json as { status?: string }).status;
      if (status === "Succeeded") return step.method === "PUT" ? send(emulator, { ...step, method: "GET", body: undefined }, vars) : response;
      assert.equal(status, "InProgress", `operation ended ${status}`);
    }
    await sleep(5);
  }
  throw new Error("long-running operation did not finish");
}

async function runStep(emulator: ArmEmulator, step: Step, vars: Record<string, string>): Promise<{ initial: RawResponse; final: RawResponse }> {
  const initial = await send(emulator, step, vars);
  const final = step.poll !== undefined && initial.status >= 200 && initial.status < 300 ? await pollToEnd(emulator, step, vars, initial) : initial;
  for (const [name, path] of Object.entries(step.capture)) vars[name] = firstValue(final.json, path);
  return { initial, final };
}

describe("ARM emulator: response shapes match the published examples", () => {
  let emulator: ArmEmulator;
  before(async () => {
    emulator = await startArmEmulator({ topology: DEMO_TOPOLOGY.pathname, lroDelayMs: 5 });
  });
  after(() => emulator.close());

  const fixtures = loadFixtures();
  it("has a fixture for every operation the emulator implements", () => {
    assert.ok(fixtures.length >= 25, `only ${fixtures.length} fixtures`);
  });

  for (const { file, fixture } of fixtures) {
    it(`${fixture.operation} (${file})`, async () => {
      emulator.reset();
      const vars = { ...PLACEHOLDERS };
      for (const step of fixture.setup) {
        const { final } = await runStep(emulator, step, vars);
        assert.ok(final.status < 300, `setup ${step.method} ${step.url} answered ${final.status}: ${final.text}`);
      }
      const { initial, final } = await runStep(emulator, fixture.request, vars);
      assert.ok(fixture.expectedStatus.includes(initial.status), `status ${initial.status} not in ${fixture.expectedStatus}: ${initial.text}`);
      for (const name of fixture.expectedHeaders) assert.ok(initial.headers[name.toLowerCase()], `missing header ${name}`);
      if (fixture.finalStatus) assert.ok(fixture.finalStatus.includes(final.status), `final status ${final.status} not in ${fixture.finalStatus}`);
      for (const [path, type] of Object.entries(fixture.shape)) {
        for (const value of valuesAt(final.json, path)) assert.equal(jsonType(value), type, `'${path}' should be ${type}`);
      }
    });
  }
});
