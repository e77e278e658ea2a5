/**
 * In-memory claim store, decision log and notification publisher for fast unit tests of the engine's
 * workflows. Faithful to the ports' contracts: claim writes are conditional (conflict / precondition-failed),
 * the log is append-only and idempotent per record ID, queries page with continuation tokens.
 * `failNext` makes the next call(s) of a method throw a transient PortcullisError (storage unreachable).
 */
import type { ClaimStore } from "../../src/ports/claim-store.ts";
import type { DecisionLog, DecisionPage, DecisionPageOptions, DecisionQuery } from "../../src/ports/decision-log.ts";
import type { ConnectionNotification, NotificationPublisher } from "../../src/ports/notifications.ts";
import { claimKeyString, type ClaimState, type ConnectionClaim } from "../../src/domain/decisions/decision-claim.ts";
import type { DecisionRecord } from "../../src/domain/decisions/decision.ts";
import { latestDecisionsByConnection } from "../../src/domain/decisions/latest-decisions.ts";
import { PortcullisError } from "../../src/domain/errors.ts";
import { resourceIdKey, sameResourceId } from "../../src/domain/resource-id.ts";

type StoreMethod = "get" | "create" | "replace" | "listByConnection" | "listByPrivateEndpoint" | "append" | "listByConnection" | "query" | "listLatestByResource" | "publish";

function unreachable(method: string): PortcullisError {
  return new PortcullisError("transient", `Injected: storage unreachable during ${method}.`, { code: "ECONNREFUSED" });
}

/** Shared failure injection: `failNext(method, times)`. */
function failures() {
  const remaining = new Map<StoreMethod, number>();
  return {
    failNext(method: StoreMethod, times = 1): void {
      remaining.set(method, times);
    },
    enter(method: StoreMethod): void {
      const left = remaining.get(method) ?? 0;
      if (left <= 0) return;
      remaining.set(method, left - 1);
      throw unreachable(method);
    },
  };
}

export interface MemoryClaimStore extends ClaimStore {
  readonly claims: Map<string, ConnectionClaim>;
  /** Successful conditional writes (create + replace). */
  writes: number;
  failNext(method: "get" | "create" | "replace" | "listByConnection" | "listByPrivateEndpoint", times?: number): void;
}

/** An in-memory ClaimStore with ETags. */
export function createMemoryClaimStore(): MemoryClaimStore {
  const claims = new Map<string, ConnectionClaim>();
  const inject = failures();
  let sequence = 0;
  const stamp = (state: ClaimState): ConnectionClaim => ({ ...structuredClone(state), etag: `W/"claim-${++sequence}"` });
  const store: MemoryClaimStore = {
    claims,
    writes: 0,
    failNext: inject.failNext,
    async get(key) {
      inject.enter("get");
      const claim = claims.get(claimKeyString(key));
      return claim === undefined ? undefined : structuredClone(claim);
    },
    async create(state) {
      inject.enter("create");
      const key = claimKeyString(state);
      if (claims.has(key)) throw new PortcullisError("conflict", "The claim already exists.", { code: "EntityAlreadyExists", statusCode: 409 });
      const claim = stamp(state);
      claims.set(key, claim);
      store.writes += 1;
      return structuredClone(claim);
    },
    async replace(state, etag) {
      inject.enter("replace");
      const key = claimKeyString(state);
      const existing = claims.get(key);
      if (existing === undefined || existing.etag !== etag) {
        throw new PortcullisError("precondition-failed", "The claim changed.", { code: "UpdateConditionNotSatisfied", statusCode: 412 });
      }
      const claim = stamp(state);
      claims.set(key, claim);
      store.writes += 1;
      return structuredClone(claim);
    },
    listByConnection(connectionId) {
      return {
        async *[Symbol.asyncIterator]() {
          inject.enter("listByConnection");
          for (const claim of [...claims.values()]) {
            if (sameResourceId(claim.connectionId, connectionId)) yield structuredClone(claim);
          }
        },
      };
    },
    listByPrivateEndpoint(privateEndpointId) {
      return {
        async *[Symbol.asyncIterator]() {
          inject.enter("listByPrivateEndpoint");
          for (const claim of [...claims.values()]) {
            if (sameResourceId(claim.privateEndpointId, privateEndpointId)) yield structuredClone(claim);
          }
        },
      };
    },
  };
  return store;
}

export interface MemoryDecisionLog extends DecisionLog {
  /** Every record in append order. */
  readonly records: DecisionRecord[];
  failNext(method: "append" | "get" | "listByConnection" | "query" | "listLatestByResource", times?: number): void;
}

/**
 * An in-memory DecisionLog; query pages are offsets into the time-ordered matches, and each connection's latest
 * decisions are derived from its records on every read (what the Table adapter's index must always equal).
 */
export function createMemoryDecisionLog(): MemoryDecisionLog {
  const records: DecisionRecord[] = [];
  const inject = failures();
  const matches = (q: DecisionQuery) => (r: DecisionRecord) =>
    (q.connectionId === undefined || sameResourceId(r.connectionId, q.connectionId)) &&
    (q.resourceId === undefined || sameResourceId(r.resourceId, q.resourceId)) &&
    (q.actor === undefined || r.actor === q.actor) &&
    (q.from === undefined || r.recordedAt.getTime() >= q.from.getTime()) &&
    (q.to === undefined || r.recordedAt.getTime() < q.to.getTime());
  const byTime = (a: DecisionRecord, b: DecisionRecord) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    records,
    failNext: inject.failNext,
    async append(record) {
      inject.enter("append");
      if (!records.some((r) => r.id === record.id)) records.push(structuredClone(record));
    },
    async get(connectionId, recordId) {
      inject.enter("get");
      const record = records.find((r) => r.id === recordId && sameResourceId(r.connectionId, connectionId));
      return record === undefined ? undefined : structuredClone(record);
    },
    listByConnection(connectionId) {
      return {
        async *[Symbol.asyncIterator]() {
          inject.enter("listByConnection");
          const key = resourceIdKey(connectionId);
          yield* records.filter((r) => resourceIdKey(r.connectionId) === key).sort(byTime).map((r) => structuredClone(r));
        },
      };
    },
    async query(query, options: DecisionPageOptions = {}): Promise<DecisionPage> {
      inject.enter("query");
      const all = records.filter(matches(query)).sort(byTime);
      const start = options.continuationToken === undefined ? 0 : Number(options.continuationToken);
      const size = options.pageSize ?? 100;
      const items = all.slice(start, start + size).map((r) => structuredClone(r));
      return start + size < all.length ? { items, continuationToken: String(start + size) } : { items };
    },
    async listLatestByResource(resourceId) {
      inject.enter("listLatestByResource");
      return latestDecisionsByConnection(records.filter((r) => sameResourceId(r.resourceId, resourceId)).map((r) => structuredClone(r)));
    },
  };
}

export interface RecordingPublisher extends NotificationPublisher {
  readonly published: ConnectionNotification[];
  failNext(method: "publish", times?: number): void;
}

/** A NotificationPublisher that keeps what it was given. */
export function createRecordingPublisher(): RecordingPublisher {
  const published: ConnectionNotification[] = [];
  const inject = failures();
  return {
    published,
    failNext: inject.failNext,
    async publish(notification) {
      inject.enter("publish");
      published.push(structuredClone(notification));
    },
  };
}
