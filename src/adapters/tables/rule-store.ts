/**
 * RuleStore on Azure Table Storage.
 *
 * One table, `{prefix}rules`, one partition, so that a rule, its history entry and the change marker are written
 * in ONE entity group transaction (atomic: a crash can never keep a change without its history, or the reverse):
 *
 *   PartitionKey  RowKey                               Columns          Read by
 *   rules         marker                               change summary   getRuleSet: one point read; its ETag
 *                                                                       changes with every change
 *   rules         rule:{id}                            rule (JSON)      getRuleSet: range rule: .. rule;
 *                                                                       getRule: point read
 *   rules         history:{id}:{999999999 - version}   entry (JSON)     listHistory: range history:{id}: ..
 *                                                                       history:{id}; (newest first by key);
 *                                                                       writes: the first row = newest version
 *
 * Every change (create, update, delete) inserts the history row of the version it produces. Versions come from the
 * newest history row, read BEFORE the current rule, so two writers starting from the same state both try to insert
 * the same history row and exactly one transaction commits; the other gets precondition-failed. Updates also carry
 * the editor's ETag as If-Match on the rule row. (Rows edited by hand outside the API bypass history; a delete
 * through the API after such an edit needs the edited row's ETag.)
 *
 * getRuleSet serves a cached snapshot re-validated by one point read of the marker; it rescans all rule rows when
 * the marker's ETag changed, or every `rescanIntervalMs` to pick up rows edited by hand.
 */
import { odata, type TableClient, type TableEntityResult, type TransactionAction } from "@azure/data-tables";
import type { z } from "zod";
import { PortcullisError, toPortcullisError } from "../../domain/errors.ts";
import { historyEntrySchema, type RuleHistoryEntry } from "../../domain/rules/history.ts";
import { parseRuleRows, type RuleRow, type RuleSetSnapshot } from "../../domain/rules/rule-set.ts";
import { fieldProblems, ruleDraftSchema, ruleIdSchema, ruleSchema, type Rule, type RuleInput } from "../../domain/rules/schema.ts";
import type { Clock } from "../../ports/clock.ts";
import type { DeleteRuleOptions, PutRuleOptions, RuleStore } from "../../ports/rule-store.ts";
import { storageCall } from "./tables.ts";

/** Table name suffix: the table is `{PORTCULLIS_TABLE_PREFIX}rules`. */
export const RULES_TABLE_SUFFIX = "rules";

const PARTITION = "rules";
const MARKER_ROW = "marker";
const RULE_PREFIX = "rule:";
const MAX_VERSION = 999_999_999;

const ruleRowKey = (id: string) => `${RULE_PREFIX}${id}`;
const historyPrefix = (id: string) => `history:${id}:`;
const historyRowKey = (id: string, version: number) => `${historyPrefix(id)}${String(MAX_VERSION - version).padStart(9, "0")}`;
/** The first key after every key that starts with `prefix` (prefixes here end in ':', and ';' follows it). */
const afterPrefix = (prefix: string) => `${prefix.slice(0, -1)};`;

export interface TableRuleStoreOptions {
  /** Client for the `{prefix}rules` table (see tableClientFor). */
  readonly table: TableClient;
  readonly clock: Clock;
  /** Serve the cached rule set without any request for this long. Default 0: every call costs one point read. */
  readonly cacheTtlMs?: number;
  /** Rescan all rule rows at least this often even when the marker is unchanged. Default 5 minutes. */
  readonly rescanIntervalMs?: number;
}

interface CacheEntry {
  readonly snapshot: RuleSetSnapshot;
  readonly markerEtag: string;
  readonly checkedAtMs: number;
  readonly scannedAtMs: number;
}

type Entity = TableEntityResult<Record<string, unknown>>;

/** Creates the Table Storage rule store; one per process, so its cache is shared by every invocation. */
export function createTableRuleStore(options: TableRuleStoreOptions): RuleStore {
  const { table, clock } = options;
  const cacheTtlMs = options.cacheTtlMs ?? 0;
  const rescanIntervalMs = options.rescanIntervalMs ?? 300_000;
  let cache: CacheEntry | undefined;
  /** Bumped by every write through this store, so a reader never joins a refresh that started before it. */
  let generation = 0;
  let refreshing: { readonly generation: number; readonly snapshot: Promise<RuleSetSnapshot> } | undefined;

  async function readMarkerEtag(): Promise<string> {
    const marker = await getEntityOrUndefined(table, MARKER_ROW, { select: ["RowKey"] });
    return marker?.etag ?? "absent";
  }

  async function readRuleRows(): Promise<RuleRow[]> {
    const rows: RuleRow[] = [];
    const filter = odata`PartitionKey eq ${PARTITION} and RowKey ge ${RULE_PREFIX} and RowKey lt ${afterPrefix(RULE_PREFIX)}`;
    for await (const entity of table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      rows.push({ rowKey: entity.rowKey!, id: entity.rowKey!.slice(RULE_PREFIX.length), json: entity["rule"], etag: entity.etag });
    }
    return rows;
  }

  /** Re-validates (one point read) or rescans; the result is cached only if no write happened meanwhile. */
  async function refresh(startedAt: number): Promise<RuleSetSnapshot> {
    try {
      const markerEtag = await readMarkerEtag();
      const now = clock.now().getTime();
      if (cache && cache.markerEtag === markerEtag && now - cache.scannedAtMs < rescanIntervalMs) {
        if (startedAt === generation) cache = { ...cache, checkedAtMs: now };
        return cache.snapshot;
      }
      const scanned = parseRuleRows(await readRuleRows());
      // Keep the same snapshot object when nothing changed, so compiled rule sets (memoized per snapshot) are reused.
      const snapshot = cache && cache.snapshot.version === scanned.version ? cache.snapshot : scanned;
      if (startedAt === generation) cache = { snapshot, markerEtag, checkedAtMs: now, scannedAtMs: now };
      return snapshot;
    } catch (error) {
      throw toPortcullisError(error);
    }
  }

  /** The newest version in a rule's history (0 if none), from the first history row key: the next change follows it. */
  async function newestVersion(id: string, abortSignal: AbortSignal | undefined): Promise<number> {
    const prefix = historyPrefix(id);
    const filter = odata`PartitionKey eq ${PARTITION} and RowKey ge ${prefix} and RowKey lt ${afterPrefix(prefix)}`;
    const pages = table.listEntities({ queryOptions: { filter, select: ["RowKey"] }, abortSignal }).byPage({ maxPageSize: 1 });
    for await (const page of pages) {
      const first = page[0];
      if (first) return MAX_VERSION - Number(first.rowKey!.slice(prefix.length));
    }
    return 0;
  }

  /** Read-your-writes: the next getRuleSet rescans whatever the TTL says, and no older refresh fills the cache. */
  function invalidate(): void {
    generation++;
    if (cache) cache = { ...cache, markerEtag: "", checkedAtMs: Number.NEGATIVE_INFINITY };
  }

  async function commit(actions: TransactionAction[], abortSignal: AbortSignal | undefined, conflict: string): Promise<string | undefined> {
    invalidate();
    try {
      const response = await table.submitTransaction(actions, { abortSignal });
      return response.subResponses[0]?.etag;
    } catch (error) {
      const e = toPortcullisError(error);
      if (isTableNotFound(error)) throw e;
      if (e.kind === "conflict" || e.kind === "precondition-failed" || e.kind === "not-found") {
        throw new PortcullisError("precondition-failed", conflict, { statusCode: 412, ...(e.code ? { code: e.code } : {}), cause: error });
      }
      throw e;
    } finally {
      invalidate();
    }
  }

  function markerAction(id: string, version: number, change: string, changedAt: string): TransactionAction {
    return ["upsert", { partitionKey: PARTITION, rowKey: MARKER_ROW, ruleId: id, version, change, changedAt }, "Replace"];
  }

  function historyAction(entry: RuleHistoryEntry): TransactionAction {
    return ["create", { partitionKey: PARTITION, rowKey: historyRowKey(entry.ruleId, entry.version), entry: JSON.stringify(entry) }];
  }

  return {
    async getRuleSet(getOptions = {}) {
      if (cache && clock.now().getTime() - cache.checkedAtMs < cacheTtlMs) return cache.snapshot;
      if (refreshing?.generation !== generation) {
        const current = { generation, snapshot: refresh(generation) };
        refreshing = current;
        void current.snapshot.finally(() => {
          if (refreshing === current) refreshing = undefined;
        }).catch(() => undefined);
      }
      return await abortable(refreshing.snapshot, getOptions.abortSignal);
    },

    async getRule(id, getOptions = {}) {
      if (!ruleIdSchema.safeParse(id).success) return undefined;
      const entity = await getEntityOrUndefined(table, ruleRowKey(id), { abortSignal: getOptions.abortSignal });
      if (!entity) return undefined;
      const snapshot = parseRuleRows([{ rowKey: entity.rowKey!, id, json: entity["rule"], etag: entity.etag }]);
      if (snapshot.status === "unusable") {
        throw new PortcullisError("internal", `stored rule "${id}" does not parse: ${snapshot.problems[0]!.message}`);
      }
      return { rule: snapshot.rules[0]!, etag: entity.etag };
    },

    async putRule(input: RuleInput, putOptions: PutRuleOptions) {
      const creating = putOptions.ifNoneMatch === "*";
      if (creating === (putOptions.ifMatch !== undefined)) {
        throw new PortcullisError("invalid-input", "give exactly one of ifNoneMatch: \"*\" (create) or ifMatch (update)");
      }
      const draft = parseOrInvalid(ruleDraftSchema, input);
      const id = draft.id;
      const abortSignal = putOptions.abortSignal;
      const version = (await wrapStorage(() => newestVersion(id, abortSignal))) + 1;
      const changedAt = clock.now().toISOString();
      const rule: Rule = parseOrInvalid(ruleSchema, { ...draft, version, updatedAt: changedAt, updatedBy: putOptions.actor });
      const entry = parseOrInvalid(historyEntrySchema, {
        ruleId: id,
        version,
        change: creating ? "created" : "updated",
        changedAt,
        changedBy: putOptions.actor,
        ...(putOptions.ticket !== undefined ? { ticket: putOptions.ticket } : {}),
        rule,
      });
      const ruleEntity = { partitionKey: PARTITION, rowKey: ruleRowKey(id), rule: JSON.stringify(rule) };
      const etag = await commit(
        [
          creating ? ["create", ruleEntity] : ["update", ruleEntity, "Replace", { etag: putOptions.ifMatch }],
          historyAction(entry),
          markerAction(id, version, entry.change, changedAt),
        ],
        abortSignal,
        creating ? `rule "${id}" already exists (or was created concurrently)` : `rule "${id}" has changed since it was read (or no longer exists)`,
      );
      return { rule, etag: etag ?? (await wrapStorage(() => getEntityOrUndefined(table, ruleRowKey(id), { abortSignal })))?.etag ?? "" };
    },

    async deleteRule(id, deleteOptions: DeleteRuleOptions) {
      const abortSignal = deleteOptions.abortSignal;
      const notFound = new PortcullisError("not-found", `rule "${id}" does not exist`, { statusCode: 404 });
      if (!ruleIdSchema.safeParse(id).success) throw notFound;
      const newest = await wrapStorage(() => newestVersion(id, abortSignal));
      const current = await wrapStorage(() => getEntityOrUndefined(table, ruleRowKey(id), { abortSignal }));
      if (!current) throw notFound;
      if (current.etag !== deleteOptions.ifMatch) {
        throw new PortcullisError("precondition-failed", `rule "${id}" has changed since it was read`, { statusCode: 412 });
      }
      const removed = ruleSchema.safeParse(safeJson(current["rule"]));
      const version = Math.max(newest, removed.success ? removed.data.version : 0) + 1;
      const changedAt = clock.now().toISOString();
      const entry = parseOrInvalid(historyEntrySchema, {
        ruleId: id,
        version,
        change: "deleted",
        changedAt,
        changedBy: deleteOptions.actor,
        ...(deleteOptions.ticket !== undefined ? { ticket: deleteOptions.ticket } : {}),
        ...(removed.success ? { rule: removed.data } : {}),
      });
      await commit(
        [["delete", { partitionKey: PARTITION, rowKey: ruleRowKey(id) }], historyAction(entry), markerAction(id, version, "deleted", changedAt)],
        abortSignal,
        `rule "${id}" has changed since it was read`,
      );
    },

    async listHistory(id, listOptions = {}) {
      if (!ruleIdSchema.safeParse(id).success) return [];
      return await wrapStorage(() => readHistory(table, id, listOptions.abortSignal));
    },
  };
}

/** History entries of one rule, newest first (the row keys sort that way). A row that does not parse is an error. */
async function readHistory(table: TableClient, id: string, abortSignal: AbortSignal | undefined): Promise<RuleHistoryEntry[]> {
  const prefix = historyPrefix(id);
  const filter = odata`PartitionKey eq ${PARTITION} and RowKey ge ${prefix} and RowKey lt ${afterPrefix(prefix)}`;
  const entries: RuleHistoryEntry[] = [];
  for await (const entity of table.listEntities<Record<string, unknown>>({ queryOptions: { filter }, abortSignal })) {
    const parsed = historyEntrySchema.safeParse(safeJson(entity["entry"]));
    if (!parsed.success) {
      throw new PortcullisError("internal", `history row "${entity.rowKey}" does not parse: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    }
    entries.push(parsed.data);
  }
  return entries;
}

async function getEntityOrUndefined(
  table: TableClient,
  rowKey: string,
  options: { readonly select?: string[]; readonly abortSignal?: AbortSignal | undefined },
): Promise<Entity | undefined> {
  try {
    return await table.getEntity<Record<string, unknown>>(PARTITION, rowKey, {
      abortSignal: options.abortSignal,
      ...(options.select ? { queryOptions: { select: options.select } } : {}),
    });
  } catch (error) {
    const e = toPortcullisError(error);
    // A missing entity is an answer; a missing table (wrong prefix, not provisioned) is not: no decisions then.
    if (e.statusCode === 404 && !isTableNotFound(error)) return undefined;
    throw e;
  }
}

/** Table Storage names the missing table in the OData error body, which the SDK keeps under details. */
function isTableNotFound(error: unknown): boolean {
  const e = error as { details?: { odataError?: { code?: unknown } }; code?: unknown; message?: unknown };
  return e.details?.odataError?.code === "TableNotFound" || e.code === "TableNotFound" || (typeof e.message === "string" && e.message.includes("TableNotFound"));
}

const wrapStorage = storageCall;

/** Parses what the store builds from caller input (actor, ticket); a failure is the caller's invalid input. */
function parseOrInvalid<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new PortcullisError("invalid-input", fieldProblems(result.error).map((p) => `${p.path || "(value)"}: ${p.message}`).join("; "));
}

function safeJson(value: unknown): unknown {
  if (typeof value !== "string") return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Lets one caller stop waiting for a shared refresh without cancelling it for the others. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(toPortcullisError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(toPortcullisError(signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
