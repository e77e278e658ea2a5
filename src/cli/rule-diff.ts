/**
 * What `rules import` would change: the stored rule set against the file's, rule by rule and field by field.
 * Pure, so the diff shown before asking is exactly the plan that is then applied.
 */
import { byPriorityThenId } from "../domain/rules/evaluate.ts";
import type { Rule, RuleDraft } from "../domain/rules/schema.ts";

/** The editable part of a stored rule: what a rule file holds (no version, updatedAt, updatedBy). */
export function draftOf(rule: Rule): RuleDraft {
  const { version: _version, updatedAt: _updatedAt, updatedBy: _updatedBy, ...draft } = rule;
  return draft;
}

export interface FieldChange {
  readonly field: string;
  readonly before: unknown;
  readonly after: unknown;
}

export type RuleChange =
  | { readonly kind: "create"; readonly id: string; readonly draft: RuleDraft }
  | { readonly kind: "update"; readonly id: string; readonly draft: RuleDraft; readonly storedVersion: number; readonly fields: readonly FieldChange[] }
  | { readonly kind: "delete"; readonly id: string; readonly storedVersion: number };

export interface RuleSetDiff {
  readonly changes: readonly RuleChange[];
  readonly unchanged: readonly string[];
}

/** Every difference between the stored rules and the proposed drafts; stored rules absent from the file are deleted. */
export function diffRuleSets(stored: readonly Rule[], proposed: readonly RuleDraft[]): RuleSetDiff {
  const storedById = new Map(stored.map((rule) => [rule.id, rule]));
  const proposedIds = new Set(proposed.map((draft) => draft.id));
  const changes: RuleChange[] = [];
  const unchanged: string[] = [];
  for (const draft of proposed) {
    const current = storedById.get(draft.id);
    if (current === undefined) {
      changes.push({ kind: "create", id: draft.id, draft });
      continue;
    }
    const fields = fieldChanges(draftOf(current), draft);
    if (fields.length === 0) unchanged.push(draft.id);
    else changes.push({ kind: "update", id: draft.id, draft, storedVersion: current.version, fields });
  }
  for (const rule of [...stored].sort(byPriorityThenId)) {
    if (!proposedIds.has(rule.id)) changes.push({ kind: "delete", id: rule.id, storedVersion: rule.version });
  }
  return { changes, unchanged };
}

/** Fields whose values differ (conditions compared per condition key), in a stable order. */
function fieldChanges(before: RuleDraft, after: RuleDraft): FieldChange[] {
  const changes: FieldChange[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])] as (keyof RuleDraft)[];
  for (const key of keys) {
    if (key === "conditions") {
      const b = before.conditions as Record<string, unknown>;
      const a = after.conditions as Record<string, unknown>;
      for (const condition of [...new Set([...Object.keys(b), ...Object.keys(a)])]) {
        if (canonical(b[condition]) !== canonical(a[condition])) changes.push({ field: `conditions.${condition}`, before: b[condition], after: a[condition] });
      }
      continue;
    }
    if (canonical(before[key]) !== canonical(after[key])) changes.push({ field: key, before: before[key], after: after[key] });
  }
  return changes;
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  ) ?? "undefined";
}

/** The diff as lines a person reads before confirming: `+ id`, `~ id` with its field changes, `- id`. */
export function describeDiff(diff: RuleSetDiff): string[] {
  const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v));
  const lines: string[] = [];
  for (const change of diff.changes) {
    if (change.kind === "create") lines.push(`+ ${change.id}  (new: priority ${change.draft.priority}, ${change.draft.action}, ${change.draft.mode})`);
    if (change.kind === "delete") lines.push(`- ${change.id}  (delete version ${change.storedVersion})`);
    if (change.kind === "update") {
      lines.push(`~ ${change.id}  (version ${change.storedVersion} -> ${change.storedVersion + 1})`);
      for (const field of change.fields) lines.push(`    ${field.field}: ${show(field.before)} -> ${show(field.after)}`);
    }
  }
  if (diff.unchanged.length > 0) lines.push(`= ${diff.unchanged.length} unchanged: ${diff.unchanged.join(", ")}`);
  return lines;
}
