/**
 * The one zod schema for rules, used on every write (the store parses input before writing) and on every read
 * (a stored row that does not parse makes the whole rule set unusable). Strict: unknown fields are rejected.
 *
 * `RuleDraft` is what an editor writes; `Rule` adds the metadata the store sets (version, updatedAt, updatedBy).
 */
import { z } from "zod";
import { refuseUnsafeText } from "../text-safety.ts";
import { conditionsSchema, registryProblems, type Conditions } from "./conditions.ts";

const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]*$/;

/**
 * Longest reason. ARM documents no limit for privateLinkServiceConnectionState.description, but the consumer's
 * requestMessage is "restricted to 140 chars" and portals show descriptions in the same space, so reasons stay
 * within that bound.
 */
export const MAX_REASON_LENGTH = 140;

/**
 * Longest rule document (JSON characters). A rule is stored as one Table Storage string property (64 KiB, i.e.
 * 32,768 UTF-16 characters), and its history entry adds the editor's identity and ticket.
 */
export const MAX_RULE_JSON_LENGTH = 30_000;
/** Drafts leave room for the metadata the store adds, so a valid draft always makes a valid rule. */
const MAX_DRAFT_JSON_LENGTH = MAX_RULE_JSON_LENGTH - 1_000;

function fitsIn(limit: number) {
  return [
    (rule: unknown) => JSON.stringify(rule).length <= limit,
    { message: `the rule is too large: its JSON form must stay within ${limit} characters` },
  ] as const;
}

/** kebab-case slug, at most 63 characters: it appears in table keys, URLs and connection descriptions. */
export const ruleIdSchema = z
  .string()
  .max(63, "a rule id has at most 63 characters")
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "a rule id is kebab-case: lower-case letters and digits separated by single hyphens");

/** Who made a change: the authenticated identity, never a name taken from a request body. */
export const actorSchema = z.strictObject({
  objectId: z.string().min(1).max(128).regex(NO_CONTROL_CHARACTERS),
  appId: z.string().min(1).max(128).regex(NO_CONTROL_CHARACTERS).optional(),
  name: z.string().min(1).max(256).regex(NO_CONTROL_CHARACTERS).optional(),
});
export type Actor = z.output<typeof actorSchema>;

const timestamp = z.iso.datetime({ offset: true, error: "expected an ISO 8601 timestamp with a time zone, e.g. 2025-01-31T09:00:00Z" });

const draftShape = {
  id: ruleIdSchema,
  /** Lower runs first; ties are broken by id. */
  priority: z.int().min(0).max(1_000_000),
  enabled: z.boolean().default(true),
  /** `audit` records what the rule would have done and never decides. */
  mode: z.enum(["enforce", "audit"]).default("enforce"),
  description: z.string().max(1000).default(""),
  conditions: conditionsSchema.prefault({}),
  action: z.enum(["approve", "reject", "manual"]),
  /** Written into the connection's description when this rule decides. */
  reason: z
    .string()
    .superRefine(refuseUnsafeText("a reason"))
    .trim()
    .min(1, "a reason is required: it is written into the connection's description")
    .max(MAX_REASON_LENGTH, `a reason has at most ${MAX_REASON_LENGTH} characters`),
  validFrom: timestamp.optional(),
  validUntil: timestamp.optional(),
};

function validityWindowIsOrdered(rule: { validFrom?: string | undefined; validUntil?: string | undefined }): boolean {
  return rule.validFrom === undefined || rule.validUntil === undefined || Date.parse(rule.validFrom) < Date.parse(rule.validUntil);
}
const WINDOW_ORDER = { message: "validFrom must be earlier than validUntil", path: ["validUntil"] };

/** Names the unknown fields and lists the valid ones, like the conditions map does. */
function unknownFieldError(validFields: readonly string[]) {
  return (issue: { code?: string; keys?: readonly string[] }) =>
    issue.code === "unrecognized_keys"
      ? `unknown field ${(issue.keys ?? []).map((k) => JSON.stringify(k)).join(", ")}; valid fields are ${validFields.join(", ")}`
      : undefined;
}

/**
 * Checks a written rule's conditions against the provider registry (src/domain/rules/conditions.ts says why these
 * are errors). Only drafts: a stored rule is not re-checked on read, so a registry update can never make the stored
 * rule set unusable.
 */
function fitsTheRegistry(rule: { conditions: Conditions }, context: z.RefinementCtx): void {
  for (const problem of registryProblems(rule.conditions)) context.addIssue({ code: "custom", path: ["conditions", ...problem.path], message: problem.message });
}

/** A rule as an editor writes it (PUT body). */
export const ruleDraftSchema = z
  .strictObject(draftShape, { error: unknownFieldError(Object.keys(draftShape)) })
  .refine(validityWindowIsOrdered, WINDOW_ORDER)
  .refine(...fitsIn(MAX_DRAFT_JSON_LENGTH))
  .superRefine(fitsTheRegistry);
export type RuleDraft = z.output<typeof ruleDraftSchema>;
/** The input type of a draft: defaults not yet applied. */
export type RuleInput = z.input<typeof ruleDraftSchema>;

/** A stored rule: the draft plus the metadata the store sets on every write. */
const storedShape = { ...draftShape, version: z.int().min(1), updatedAt: timestamp, updatedBy: actorSchema };
export const ruleSchema = z
  .strictObject(storedShape, { error: unknownFieldError(Object.keys(storedShape)) })
  .refine(validityWindowIsOrdered, WINDOW_ORDER)
  .refine(...fitsIn(MAX_RULE_JSON_LENGTH));
export type Rule = z.output<typeof ruleSchema>;

export type RuleAction = Rule["action"];

/** One problem with a field, for API error lists: `path` is dotted (e.g. "conditions.target-resources.0"). */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** Turns zod issues into field problems a person can act on. */
export function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

/** Parses an editor's rule (e.g. an HTTP body) with the rule schema; never throws. */
export function parseRuleDraft(value: unknown): { success: true; draft: RuleDraft } | { success: false; problems: FieldProblem[] } {
  const result = ruleDraftSchema.safeParse(value);
  return result.success ? { success: true, draft: result.data } : { success: false, problems: fieldProblems(result.error) };
}
