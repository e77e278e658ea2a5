import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FaultInjector, faultRuleSchema } from "../../../dev/arm-emulator/faults.ts";

const PE_PATH = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe1";
const APIM_PATH = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim1";

describe("FaultInjector", () => {
  test("leaves a request alone when no rule matches it", () => {
    const faults = new FaultInjector();
    faults.add({ pathPattern: "privateEndpoints", status: 500 });
    assert.equal(faults.match("GET", APIM_PATH), undefined);
  });

  test("matches the path case-insensitively and the method regardless of case", () => {
    const faults = new FaultInjector();
    faults.add({ method: "put", pathPattern: "microsoft\\.network/PRIVATEENDPOINTS/", status: 503, errorCode: "ServerBusy" });
    assert.deepEqual(faults.match("PUT", PE_PATH), { latencyMs: 0, drop: false, status: 503, errorCode: "ServerBusy" });
    assert.equal(faults.match("GET", PE_PATH), undefined);
  });

  test("a rule without method or path hits every route", () => {
    const faults = new FaultInjector();
    faults.add({ latencyMs: 25 });
    assert.deepEqual(faults.match("DELETE", APIM_PATH), { latencyMs: 25, drop: false });
    assert.deepEqual(faults.match("GET", PE_PATH), { latencyMs: 25, drop: false });
  });

  test("applies a counted rule exactly `times` times, then forgets it", () => {
    const faults = new FaultInjector();
    const rule = faults.add({ pathPattern: "apiManagement", status: 500, times: 2 });
    assert.equal(faults.match("GET", APIM_PATH)?.status, 500);
    assert.equal(faults.list().find((listed) => listed.id === rule.id)?.times, 1);
    assert.equal(faults.match("GET", APIM_PATH)?.status, 500);
    assert.equal(faults.match("GET", APIM_PATH), undefined);
    assert.deepEqual(faults.list(), []);
  });

  test("adds up latencies of every matching rule and lets the first failing rule decide the outcome", () => {
    const faults = new FaultInjector();
    faults.add({ latencyMs: 10 });
    faults.add({ pathPattern: "privateEndpoints", latencyMs: 5, drop: true });
    faults.add({ pathPattern: "privateEndpoints", latencyMs: 7, status: 500 });
    assert.deepEqual(faults.match("PUT", PE_PATH), { latencyMs: 22, drop: true });
    assert.deepEqual(faults.match("GET", APIM_PATH), { latencyMs: 10, drop: false });
  });

  test("a counted rule that matches is used up even when an earlier rule decides the outcome", () => {
    const faults = new FaultInjector();
    faults.add({ status: 503 });
    faults.add({ status: 500, times: 1 });
    assert.equal(faults.match("GET", PE_PATH)?.status, 503);
    assert.equal(faults.list().length, 1);
  });

  test("probability decides per request with the injected random source", () => {
    const draws = [0.9, 0.1, 0.5];
    const faults = new FaultInjector(() => draws.shift() ?? 1);
    faults.add({ status: 500, probability: 0.5 });
    assert.equal(faults.match("GET", PE_PATH), undefined, "0.9 is not below 0.5");
    assert.equal(faults.match("GET", PE_PATH)?.status, 500, "0.1 is below 0.5");
    assert.equal(faults.match("GET", PE_PATH), undefined, "0.5 is not below 0.5");
  });

  test("remove and clear take rules out; remove reports unknown ids", () => {
    const faults = new FaultInjector();
    const first = faults.add({ status: 500 });
    faults.add({ latencyMs: 1 });
    assert.equal(faults.remove(first.id), true);
    assert.equal(faults.remove(first.id), false);
    assert.deepEqual(faults.match("GET", PE_PATH), { latencyMs: 1, drop: false });
    faults.clear();
    assert.equal(faults.match("GET", PE_PATH), undefined);
  });

  test("add refuses a rule the schema refuses", () => {
    const faults = new FaultInjector();
    assert.throws(() => faults.add({ pathPattern: "(" , status: 500 }));
    assert.deepEqual(faults.list(), []);
  });
});

describe("faultRuleSchema", () => {
  const refused: [string, unknown][] = [
    ["a rule that does nothing", { pathPattern: "x" }],
    ["a zero latency alone", { latencyMs: 0 }],
    ["an invalid regular expression", { pathPattern: "[", status: 500 }],
    ["a status outside 400..599", { status: 200 }],
    ["drop together with a status", { drop: true, status: 500 }],
    ["an errorCode without status", { latencyMs: 5, errorCode: "X" }],
    ["a probability above 1", { status: 500, probability: 1.5 }],
    ["times of zero", { status: 500, times: 0 }],
    ["a negative latency", { latencyMs: -1 }],
    ["an unknown field", { status: 500, delay: 3 }],
    ["a method with spaces", { method: "GET /", status: 500 }],
  ];
  for (const [name, rule] of refused) {
    test(`refuses ${name}`, () => {
      assert.equal(faultRuleSchema.safeParse(rule).success, false);
    });
  }

  test("accepts a full rule", () => {
    const rule = { method: "PUT", pathPattern: "privateEndpointConnections", latencyMs: 50, status: 503, errorCode: "ServerBusy", times: 3, probability: 0.25 };
    assert.deepEqual(faultRuleSchema.parse(rule), rule);
  });
});
