/**
 * The requester's tenant on every path. Consumer-side events carry it (data.tenantId); the sweep, provider-side
 * events, the CLI and the API do not. For those, ARM's 401 challenge on the requester subscription names the
 * subscription's tenant (TenantPort, src/adapters/arm/tenants.ts): a HINT, undocumented, possibly stale (ARM itself
 * says a transferred subscription shows its new tenant only after up to an hour), never proof. So:
 *
 *   event's tenant present ──────────────────────────▶ used (source "event"); a cached hint that disagrees is
 *                                                      set aside ("disputed") and the disagreement explained
 *   no event tenant, no rule reads the tenant ───────▶ nothing looked up (no ARM call)
 *   no event tenant, a rule reads it ── lookup ──────▶ found: used (source "arm-challenge") and explained
 *                                                      none / failed / disputed: unknown (the evaluator holds
 *                                                      connections whose outcome depends on it for a person)
 *
 * The hint is tied to the requester subscription, i.e. to the private endpoint ID the facts were read from; the
 * claim's re-read before the write confirms the connection still names that endpoint (guardWrite), so a decision
 * made on a hint cannot land on a connection that now belongs to another requester.
 *
 * The cache: positive answers live for hours, "names no tenant" and disputed ones for minutes, failed lookups for
 * a minute (so a sweep over many connections of one subscription does not hammer ARM while it is unwell); at most
 * `maxEntries` subscriptions (least recently stored evicted first); concurrent lookups of one subscription share one
 * request. Clock injected.
 */
import type { Clock } from "../ports/clock.ts";
import type { TenantPort } from "../ports/arm.ts";
import { toPortcullisError } from "../domain/errors.ts";
import type { RuleSetSnapshot } from "../domain/rules/index.ts";

/** Where the requester tenant of a decision came from (recorded, explained). */
export type RequesterTenantSource = "event" | "arm-challenge";

/** One answer of the lookup. */
export interface TenantHint {
  readonly subscriptionId: string;
  /** found: the challenge named a tenant; none: it named none; failed: no answer (transient); disputed: set aside. */
  readonly outcome: "found" | "none" | "failed" | "disputed";
  /** Lower case; set only when outcome is "found". */
  readonly tenantId: string | undefined;
  /** When ARM answered (or the lookup failed, or the dispute was seen). */
  readonly observedAt: Date;
  /** Why there is no tenant (failed / disputed), in words. */
  readonly detail?: string | undefined;
}

export interface TenantLookup {
  /** The subscription's tenant hint, from the cache or one request; never throws (a failure is outcome "failed"). */
  lookup(subscriptionId: string): Promise<TenantHint>;
  /**
   * An event named the requester tenant of this subscription. When a cached hint names another tenant, the hint is
   * set aside for the positive TTL (outcome "disputed") and returned, so the caller can say so; else undefined.
   * Sends nothing.
   */
  observeEventTenant(subscriptionId: string, tenantId: string): TenantHint | undefined;
}

export interface TenantLookupOptions {
  readonly clock: Clock;
  /** How long a named tenant is reused; default 1 hour (ARM's own propagation after a transfer is up to an hour). */
  readonly positiveTtlInMs?: number;
  /** How long "names no tenant" (and a dispute) is remembered; default 10 minutes. */
  readonly negativeTtlInMs?: number;
  /** How long a failed lookup is remembered before ARM is asked again; default 1 minute. */
  readonly failureTtlInMs?: number;
  /** Most subscriptions remembered; default 10,000. */
  readonly maxEntries?: number;
}

export const TENANT_LOOKUP_DEFAULTS = {
  positiveTtlInMs: 60 * 60_000,
  negativeTtlInMs: 10 * 60_000,
  failureTtlInMs: 60_000,
  maxEntries: 10_000,
} as const;

/** A caching, coalescing lookup over the port. */
export function createTenantLookup(port: TenantPort, options: TenantLookupOptions): TenantLookup {
  const positiveTtl = options.positiveTtlInMs ?? TENANT_LOOKUP_DEFAULTS.positiveTtlInMs;
  const negativeTtl = options.negativeTtlInMs ?? TENANT_LOOKUP_DEFAULTS.negativeTtlInMs;
  const failureTtl = options.failureTtlInMs ?? TENANT_LOOKUP_DEFAULTS.failureTtlInMs;
  const maxEntries = Math.max(1, options.maxEntries ?? TENANT_LOOKUP_DEFAULTS.maxEntries);
  const cache = new Map<string, { hint: TenantHint; expiresAtMs: number }>();
  const inFlight = new Map<string, Promise<TenantHint>>();

  const store = (key: string, hint: TenantHint, ttl: number): void => {
    cache.delete(key);
    cache.set(key, { hint, expiresAtMs: hint.observedAt.getTime() + ttl });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };
  const cached = (key: string): TenantHint | undefined => {
    const entry = cache.get(key);
    if (entry === undefined) return undefined;
    if (options.clock.now().getTime() >= entry.expiresAtMs) {
      cache.delete(key);
      return undefined;
    }
    return entry.hint;
  };

  const ask = async (key: string, subscriptionId: string): Promise<TenantHint> => {
    try {
      const tenantId = await port.discoverSubscriptionTenant(subscriptionId);
      const hint: TenantHint = { subscriptionId, outcome: tenantId === undefined ? "none" : "found", tenantId, observedAt: options.clock.now() };
      store(key, hint, tenantId === undefined ? negativeTtl : positiveTtl);
      return hint;
    } catch (error) {
      const failure = toPortcullisError(error);
      const hint: TenantHint = { subscriptionId, outcome: "failed", tenantId: undefined, observedAt: options.clock.now(), detail: `${failure.kind}: ${failure.message}` };
      // Not a GUID: asking again cannot help, remember it like "names none"; anything else is retried soon.
      store(key, hint, failure.kind === "invalid-input" ? negativeTtl : failureTtl);
      return hint;
    }
  };

  return {
    lookup(subscriptionId) {
      const key = subscriptionId.trim().toLowerCase();
      const hit = cached(key);
      if (hit !== undefined) return Promise.resolve(hit);
      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = ask(key, subscriptionId.trim()).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
    observeEventTenant(subscriptionId, tenantId) {
      const key = subscriptionId.trim().toLowerCase();
      const hit = cached(key);
      if (hit?.outcome !== "found" || hit.tenantId === tenantId.trim().toLowerCase()) return undefined;
      const disputed: TenantHint = {
        subscriptionId: hit.subscriptionId,
        outcome: "disputed",
        tenantId: undefined,
        observedAt: options.clock.now(),
        detail: `ARM's challenge named tenant ${hit.tenantId} (${hit.observedAt.toISOString()}), an event named ${tenantId}`,
      };
      store(key, disputed, positiveTtl);
      return hit;
    },
  };
}

/** The condition key that reads the requester tenant (src/domain/rules/conditions.ts). */
const TENANT_CONDITION = "requester-tenants";

/** Whether any enabled rule reads the requester tenant: only then is a hint worth an ARM call. */
export function ruleSetReadsRequesterTenant(ruleSet: RuleSetSnapshot | undefined): boolean {
  if (ruleSet === undefined || ruleSet.status !== "usable") return false;
  return ruleSet.rules.some((rule) => {
    if (!rule.enabled) return false;
    const value = (rule.conditions as Readonly<Record<string, unknown>>)[TENANT_CONDITION];
    return Array.isArray(value) && value.length > 0;
  });
}

/** The requester tenant one decision uses, where it came from, and the explanation line an auditor reads. */
export interface RequesterTenant {
  readonly tenantId: string | undefined;
  readonly source: RequesterTenantSource | undefined;
  /** undefined when there is nothing to say (no event tenant and no rule reads it). */
  readonly explanation: string | undefined;
}

const NONE: RequesterTenant = Object.freeze({ tenantId: undefined, source: undefined, explanation: undefined });

/** Resolves the requester tenant as the module comment's table says. */
export async function resolveRequesterTenant(
  input: {
    readonly eventTenantId: string | undefined;
    readonly requesterSubscriptionId: string | undefined;
    /** Whether a rule reads the tenant (ruleSetReadsRequesterTenant). */
    readonly needed: boolean;
  },
  lookup: TenantLookup | undefined,
): Promise<RequesterTenant> {
  const subscription = input.requesterSubscriptionId;
  const eventTenant = input.eventTenantId?.trim();
  if (eventTenant !== undefined && eventTenant !== "") {
    const disputed = subscription === undefined ? undefined : lookup?.observeEventTenant(subscription, eventTenant);
    return {
      tenantId: eventTenant,
      source: "event",
      explanation:
        disputed === undefined
          ? `The requester tenant ${eventTenant} comes from the event (data.tenantId).`
          : `The requester tenant ${eventTenant} comes from the event (data.tenantId). ARM's 401 challenge for subscription ${subscription} ` +
            `named tenant ${disputed.tenantId} (${disputed.observedAt.toISOString()}): the two disagree, so that hint is set aside and decides nothing.`,
    };
  }
  if (!input.needed) return NONE;
  if (subscription === undefined) {
    return { ...NONE, explanation: "The requester tenant is unknown: the connection names no private endpoint, so no subscription to ask ARM about." };
  }
  if (lookup === undefined) return NONE;
  const hint = await lookup.lookup(subscription);
  switch (hint.outcome) {
    case "found":
      return {
        tenantId: hint.tenantId,
        source: "arm-challenge",
        explanation:
          `The requester tenant ${hint.tenantId} is a hint: ARM's 401 challenge to an unauthenticated read of the requester subscription ` +
          `${subscription} names it (${hint.observedAt.toISOString()}); no event named the tenant.`,
      };
    case "none":
      return { ...NONE, explanation: `The requester tenant is unknown: ARM's 401 challenge for subscription ${subscription} names no tenant.` };
    case "disputed":
      return { ...NONE, explanation: `The requester tenant is unknown: ${hint.detail}; a disputed hint decides nothing.` };
    case "failed":
      return { ...NONE, explanation: `The requester tenant is unknown: looking it up from ARM's 401 challenge for subscription ${subscription} failed (${hint.detail}).` };
  }
}
