import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CHECK_IDS } from "../../../src/domain/audit/checks.ts";
import { findingId, type Finding, type Suppression } from "../../../src/domain/audit/findings.ts";
import { describeSuppressions, FINDING_ID_PATTERN, MAX_SUPPRESSION_DAYS, suppressionExpiryProblem } from "../../../src/domain/audit/suppressions.ts";

const NOW = new Date("2025-06-01T06:00:00.000Z");
const DAY_MS = 86_400_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();
const INSTANCE = "/subscriptions/a0a0a0a0-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim";

function suppression(id: string, expiresAt: string): Suppression {
  return { findingId: id, reason: "accepted", owner: "sec@contoso.example", expiresAt, createdAt: at(-DAY_MS) };
}

describe("suppression policy", () => {
  test("an expiry must lie in the future and at most MAX_SUPPRESSION_DAYS ahead", () => {
    assert.equal(MAX_SUPPRESSION_DAYS, 365);
    assert.match(suppressionExpiryProblem(at(0), NOW)!, /must be in the future/);
    assert.match(suppressionExpiryProblem(at(-DAY_MS), NOW)!, /must be in the future/);
    assert.equal(suppressionExpiryProblem(at(1), NOW), undefined);
    assert.equal(suppressionExpiryProblem(at(365 * DAY_MS), NOW), undefined);
    assert.match(suppressionExpiryProblem(at(365 * DAY_MS + 1), NOW)!, /at most 365 days ahead \(no later than 2026-06-01T06:00:00\.000Z\)/);
    assert.match(suppressionExpiryProblem("someday", NOW)!, /ISO 8601/);
    assert.equal(suppressionExpiryProblem("2025-06-02T08:00:00+02:00", NOW), undefined, "offsets count");
  });

  test("the finding ID pattern accepts every ID the checks make and nothing else", () => {
    for (const check of CHECK_IDS) assert.match(findingId(check, INSTANCE, "x"), FINDING_ID_PATTERN, check);
    for (const bad of ["public-network-access", "no-such-check-0123456789abcdef0123", "capacity-0123456789ABCDEF0123", "capacity-0123456789abcdef012", "capacity-0123456789abcdef0123/..", " capacity-0123456789abcdef0123"]) {
      assert.doesNotMatch(bad, FINDING_ID_PATTERN, bad);
    }
  });

  test("entries are listed soonest expiry first, expired ones flagged, with the finding where the run recorded it", () => {
    const publicId = findingId("public-network-access", INSTANCE, "enabled");
    const finding = { id: publicId, checkId: "public-network-access", severity: "high", instanceId: INSTANCE, resourceId: INSTANCE, message: "public", status: "suppressed" } as Finding;
    const entries = describeSuppressions(
      [suppression(publicId, at(30 * DAY_MS)), suppression("capacity-0123456789abcdef0123", at(-1)), suppression("capacity-ffffffffffffffffffff", at(0))],
      { runId: "run-1", findings: new Map([[publicId, finding]]) },
      NOW,
    );
    assert.deepEqual(
      entries.map((e) => [e.suppression.findingId, e.expired]),
      [["capacity-0123456789abcdef0123", true], ["capacity-ffffffffffffffffffff", true], [publicId, false]],
      "a suppression stops applying at its expiry instant",
    );
    assert.deepEqual(entries[2]!.finding, { checkId: "public-network-access", severity: "high", resourceId: INSTANCE, instanceId: INSTANCE, message: "public", status: "suppressed", runId: "run-1" });
    assert.equal(entries[0]!.finding, undefined);
    assert.deepEqual(describeSuppressions([suppression(publicId, at(1))], undefined, NOW).map((e) => e.finding), [undefined], "no run yet");
  });

  test("a suppressed finding the run could not evaluate says so in its listing", () => {
    const id = findingId("dns-record-missing", INSTANCE);
    const finding = { id, checkId: "dns-record-missing", severity: "high", instanceId: INSTANCE, resourceId: INSTANCE, message: "m", status: "suppressed", notEvaluated: { reason: "zone not examined" } } as Finding;
    const [entry] = describeSuppressions([suppression(id, at(DAY_MS))], { runId: "run-2", findings: new Map([[id, finding]]) }, NOW);
    assert.deepEqual(entry!.finding?.notEvaluated, { reason: "zone not examined" });
  });
});
