/**
 * Where rules live. Implemented by src/adapters/tables/rule-store.ts (Table Storage) and by in-memory fakes.
 *
 * Contract:
 * - Every write is conditional: create needs `ifNoneMatch: "*"`, update and delete need `ifMatch` with the ETag
 *   from `getRule`; a stale ETag or an existing rule on create throws PortcullisError kind "precondition-failed",
 *   so two editors cannot silently overwrite each other.
 * - Every change is recorded in the rule's history in the same atomic write (who, when, ticket, the rule).
 * - Storage failures throw PortcullisError kind "transient": the caller makes no decision.
 */
import type { RuleHistoryEntry } from "../domain/rules/history.ts";
import type { RuleSetSnapshot } from "../domain/rules/rule-set.ts";
import type { Actor, Rule, RuleInput } from "../domain/rules/schema.ts";

export interface PutRuleOptions {
  /** Update: the ETag the editor last read. */
  readonly ifMatch?: string;
  /** Create: fail if the rule exists. */
  readonly ifNoneMatch?: "*";
  /** The authenticated identity making the change. */
  readonly actor: Actor;
  readonly ticket?: string;
  readonly abortSignal?: AbortSignal;
}

export interface DeleteRuleOptions {
  readonly ifMatch: string;
  readonly actor: Actor;
  readonly ticket?: string;
  readonly abortSignal?: AbortSignal;
}

export interface RuleStore {
  /**
   * The current rule set, from a cache re-validated with one point read of a change marker (not a full scan per
   * call). A stored row that does not parse makes the set "unusable" (reported, never skipped).
   */
  getRuleSet(options?: { readonly abortSignal?: AbortSignal }): Promise<RuleSetSnapshot>;
  /** One rule and its ETag; undefined if it does not exist. Throws kind "internal" if its stored row does not parse. */
  getRule(id: string, options?: { readonly abortSignal?: AbortSignal }): Promise<{ rule: Rule; etag: string } | undefined>;
  /** Creates or updates a rule (parsed with the rule schema: kind "invalid-input" if it does not parse). */
  putRule(rule: RuleInput, options: PutRuleOptions): Promise<{ rule: Rule; etag: string }>;
  /** Deletes a rule; kind "not-found" if it does not exist, "precondition-failed" on a stale ETag. */
  deleteRule(id: string, options: DeleteRuleOptions): Promise<void>;
  /** Every version of the rule, newest first (the first is the current one unless the rule was deleted). */
  listHistory(id: string, options?: { readonly abortSignal?: AbortSignal }): Promise<RuleHistoryEntry[]>;
}
