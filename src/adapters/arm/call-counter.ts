/**
 * Counts the HTTP requests the ARM SDK clients really send (retries and LRO polls included) and the
 * throttling they meet, so audits and benchmarks can report "ARM calls per instance" and time spent waiting
 * on 429s. The counting policy sits per retry in every client's pipeline, so each attempt is seen once.
 */
import type { PipelinePolicy } from "@azure/core-rest-pipeline";

export interface ArmCallStats {
  /** HTTP requests sent to ARM, each retry and each LRO poll counted. */
  readonly requests: number;
  /** Requests per HTTP method (GET, PUT, PATCH, DELETE, ...). */
  readonly requestsByMethod: Readonly<Record<string, number>>;
  /** 429 answers (ARM throttling); the SDK waits their Retry-After and tries again. */
  readonly throttled: number;
  /** Sum of the Retry-After delays ARM announced on 429 / 503 answers: the time the SDK spent waiting. */
  readonly retryAfterInMs: number;
  /** 5xx answers (retried by the SDK with exponential back-off). */
  readonly serverErrors: number;
  /** Requests that got no HTTP answer (connection refused or reset, timeouts). */
  readonly transportErrors: number;
}

/** A counter shared by every ARM client of one `createArmPorts` call. */
export interface ArmCallCounter {
  snapshot(): ArmCallStats;
  reset(): void;
}

/** The counter plus the pipeline policy that feeds it (the policy is for the adapter's clients only). */
export interface CountingArmCallCounter extends ArmCallCounter {
  readonly policy: PipelinePolicy;
}

const EMPTY: ArmCallStats = {
  requests: 0,
  requestsByMethod: {},
  throttled: 0,
  retryAfterInMs: 0,
  serverErrors: 0,
  transportErrors: 0,
};

/** Reads Retry-After as ARM sends it (whole seconds) or as an HTTP date; undefined when absent or unreadable. */
export function retryAfterInMs(header: string | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** Creates an empty counter and its pipeline policy. */
export function createArmCallCounter(): CountingArmCallCounter {
  let stats: ArmCallStats = EMPTY;
  const add = (changes: Partial<Omit<ArmCallStats, "requestsByMethod">>, method?: string): void => {
    stats = {
      requests: stats.requests + (changes.requests ?? 0),
      requestsByMethod:
        method === undefined ? stats.requestsByMethod : { ...stats.requestsByMethod, [method]: (stats.requestsByMethod[method] ?? 0) + 1 },
      throttled: stats.throttled + (changes.throttled ?? 0),
      retryAfterInMs: stats.retryAfterInMs + (changes.retryAfterInMs ?? 0),
      serverErrors: stats.serverErrors + (changes.serverErrors ?? 0),
      transportErrors: stats.transportErrors + (changes.transportErrors ?? 0),
    };
  };
  const policy: PipelinePolicy = {
    name: "portcullisArmCallCounter",
    async sendRequest(request, next) {
      add({ requests: 1 }, request.method);
      let response;
      try {
        response = await next(request);
      } catch (error) {
        const status = (error as { response?: { status?: unknown } }).response?.status;
        if (typeof status !== "number") add({ transportErrors: 1 });
        throw error;
      }
      const wait = response.status === 429 || response.status === 503 ? retryAfterInMs(response.headers.get("retry-after")) : undefined;
      add({
        throttled: response.status === 429 ? 1 : 0,
        serverErrors: response.status >= 500 ? 1 : 0,
        retryAfterInMs: wait ?? 0,
      });
      return response;
    },
  };
  return {
    policy,
    snapshot: () => stats,
    reset: () => {
      stats = EMPTY;
    },
  };
}
