/**
 * A rule set as read from storage. FAIL CLOSED: if any stored row does not parse, the whole set is unusable and
 * the engine decides nothing automatically, because skipping one broken reject rule could let a lower-priority
 * approve rule through. The problems are kept so they can be reported, never silently dropped.
 */
import { fieldProblems, ruleDraftSchema, ruleSchema, type Actor, type Rule } from "./schema.ts";

export interface RuleSetProblem {
  readonly rowKey: string;
  /** The row's ETag, so an operator can repair or delete exactly that row. */
  readonly etag?: string | undefined;
  readonly message: string;
}

export type RuleSetSnapshot =
  | { readonly status: "usable"; readonly rules: readonly Rule[]; readonly version: string }
  | { readonly status: "unusable"; readonly problems: readonly RuleSetProblem[]; readonly version: string };

/** One stored rule row: `id` is the rule id its key names, `json` the stored document (expected to be text). */
export interface RuleRow {
  readonly rowKey: string;
  readonly id: string;
  readonly json: unknown;
  readonly etag?: string | undefined;
}

/**
 * Parses every row with the rule schema. The version is a hash of the rows' content, so two app instances holding
 * the same rules report the same version, and any change to any row changes it.
 */
export function parseRuleRows(rows: readonly RuleRow[]): RuleSetSnapshot {
  const ordered = [...rows].sort((a, b) => (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0));
  const version = contentVersion(ordered);
  const rules: Rule[] = [];
  const problems: RuleSetProblem[] = [];
  for (const row of ordered) {
    const parsed = parseRuleRow(row);
    if (typeof parsed === "string") problems.push({ rowKey: row.rowKey, etag: row.etag, message: parsed });
    else rules.push(parsed);
  }
  if (problems.length > 0) return Object.freeze({ status: "unusable", problems: Object.freeze(problems), version });
  return Object.freeze({ status: "usable", rules: Object.freeze(rules), version });
}

/** A rule set built from rules in hand (a proposed set for what-if, tests); same version scheme as stored rows. */
export function ruleSetOf(rules: readonly Rule[]): RuleSetSnapshot {
  return parseRuleRows(rules.map((rule) => ({ rowKey: rule.id, id: rule.id, json: JSON.stringify(rule) })));
}

/** The parsed rule, or a sentence saying why the row is unusable. */
function parseRuleRow(row: RuleRow): Rule | string {
  if (typeof row.json !== "string") return "the rule document is missing or is not text";
  let document: unknown;
  try {
    document = JSON.parse(row.json);
  } catch (error) {
    return `the rule document is not valid JSON (${(error as Error).message})`;
  }
  const result = ruleSchema.safeParse(document);
  if (!result.success) {
    return `the rule does not match the rule schema: ${result.error.issues
      .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
      .join("; ")}`;
  }
  if (result.data.id !== row.id) return `the rule's id "${result.data.id}" differs from the id "${row.id}" its row key names`;
  return result.data;
}

/** FNV-1a (32-bit, twice with different seeds) over row keys and content: cheap, pure, stable across processes. */
function contentVersion(rows: readonly RuleRow[]): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  const feed = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193);
      b ^= b >>> 13;
    }
  };
  for (const row of rows) {
    feed(row.rowKey);
    feed("\u0000");
    feed(typeof row.json === "string" ? row.json : `<${typeof row.json}>`);
    feed("\u0001");
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return `${rows.length}-${hex(a)}${hex(b)}`;
}

/**
 * A proposed rule set (what-if) from editors' drafts: each draft is parsed with the rule schema and stamped with the
 * version it would get if saved now (the stored version + 1, or 1 for a new rule). Any invalid draft, or two drafts
 * with one id, make the proposal unusable, exactly as a broken stored row would.
 */
export function proposedRuleSet(
  drafts: readonly unknown[],
  context: { readonly stored: RuleSetSnapshot; readonly updatedAt: string; readonly updatedBy: Actor },
): RuleSetSnapshot {
  const storedVersions = new Map(context.stored.status === "usable" ? context.stored.rules.map((r) => [r.id, r.version]) : []);
  const seen = new Set<string>();
  const rules: Rule[] = [];
  const problems: RuleSetProblem[] = [];
  drafts.forEach((draft, index) => {
    const rowKey = `proposed[${index}]`;
    const parsed = ruleDraftSchema.safeParse(draft);
    if (!parsed.success) {
      problems.push({ rowKey, message: fieldProblems(parsed.error).map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join("; ") });
      return;
    }
    if (seen.has(parsed.data.id)) {
      problems.push({ rowKey, message: `the id "${parsed.data.id}" appears more than once` });
      return;
    }
    seen.add(parsed.data.id);
    const version = (storedVersions.get(parsed.data.id) ?? 0) + 1;
    rules.push(ruleSchema.parse({ ...parsed.data, version, updatedAt: context.updatedAt, updatedBy: context.updatedBy }));
  });
  if (problems.length > 0) {
    return Object.freeze({ status: "unusable", problems: Object.freeze(problems), version: ruleSetOf(rules).version });
  }
  return ruleSetOf(rules);
}
