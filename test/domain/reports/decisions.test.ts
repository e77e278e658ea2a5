import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decisionRecordId } from "../../../src/domain/decisions/decision.ts";
import { countDecisions, REPORTED_DECISIONS_LIMIT, reportedDecisions } from "../../../src/domain/reports/decisions.ts";
import { decisionRecord } from "../../fakes/decision-records.ts";
import { SAMPLE_INSTANCE_ID } from "./sample-report.ts";

const at = (minute: number) => new Date(Date.UTC(2025, 5, 1, 5, minute));
const WINDOW = { from: "2025-05-31T06:00:00.000Z", to: "2025-06-01T06:00:00.000Z" };

function record(minute: number, fields: Parameters<typeof decisionRecord>[0] extends infer F ? Partial<F> : never) {
  const startedAt = at(minute);
  return decisionRecord({ id: decisionRecordId(startedAt, `r${minute}`), connectionId: `${SAMPLE_INSTANCE_ID}/privateEndpointConnections/pe-${minute}`, resourceId: SAMPLE_INSTANCE_ID, startedAt, outcome: "applied", ...fields });
}

describe("the decisions a report lists", () => {
  test("approvals, rejections, hand-offs to a human and revocations, each with who decided and the ticket; oldest first", () => {
    const section = reportedDecisions(
      [
        record(4, { action: "revoke", actor: "principal:o-sam", actorName: "Sam", ticket: "CHG2", reason: "decommissioned" }),
        record(1, { action: "approve", actor: "rule:approve-internal", ruleId: "approve-internal", ruleVersion: 3 }),
        record(2, { action: "reject", actor: "principal:o-dana", actorName: "Dana", ticket: "CHG1" }),
        record(3, { action: "manual", actor: "default" }),
      ],
      WINDOW,
    );
    assert.deepEqual(
      section.decisions.map((d) => [d.kind, d.decidedBy, d.ticket]),
      [
        ["approved", "rule approve-internal v3", undefined],
        ["rejected", "Dana (principal:o-dana)", "CHG1"],
        ["left-for-human", "default action (no rule matched)", undefined],
        ["revoked", "Sam (principal:o-sam)", "CHG2"],
      ],
    );
    assert.deepEqual(countDecisions(section), { approved: 1, rejected: 1, "left-for-human": 1, revoked: 1 });
    assert.deepEqual([section.from, section.to, section.truncated], [WINDOW.from, WINDOW.to, false]);
  });

  test("leaves out skipped records and deletions; keeps dry-run (would-apply), failures and approvals seen outside Portcullis, labelled", () => {
    const section = reportedDecisions(
      [
        record(1, { action: "approve", actor: "rule:x", ruleId: "x", outcome: "skipped" }),
        record(2, { action: "delete", actor: "out-of-band" }),
        record(3, { action: "approve", actor: "rule:x", ruleId: "x", ruleVersion: 1, outcome: "would-apply", mode: "dry-run" }),
        record(4, { action: "reject", actor: "principal:o", outcome: "failed" }),
        record(5, { action: "approve", actor: "out-of-band" }),
      ],
      WINDOW,
    );
    assert.deepEqual(section.decisions.map((d) => [d.kind, d.outcome, d.decidedBy]), [
      ["approved", "would-apply", "rule x v1"],
      ["rejected", "failed", "principal:o"],
      ["approved", "applied", "outside Portcullis (seen, not decided by Portcullis)"],
    ]);
  });

  test(`lists at most ${REPORTED_DECISIONS_LIMIT} and says when there were more`, () => {
    const many = Array.from({ length: REPORTED_DECISIONS_LIMIT + 1 }, (_, i) => record(0, { id: `r-${String(i).padStart(4, "0")}`, action: "approve", actor: "rule:x" }));
    const section = reportedDecisions(many, WINDOW);
    assert.equal(section.decisions.length, REPORTED_DECISIONS_LIMIT);
    assert.equal(section.truncated, true);
    assert.equal(reportedDecisions([], WINDOW, true).truncated, true, "the loader's own truncation is kept");
  });
});
