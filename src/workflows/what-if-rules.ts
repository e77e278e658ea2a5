/**
 * What-if (the application half of src/domain/rules/what-if.ts): evaluate a proposed rule set and the stored one
 * against every current connection of the governed resources, of every governed type, and report what would change.
 * Reads only: nothing is written to ARM, the rule store, the claims or the decision log.
 *
 *   read:   the stored rule set; each governed resource's connections (listConnectionsInScope: the one listing the
 *           manual API uses, so what-if sees exactly the connections the engine governs); each connection's private
 *           endpoint (for the request message; a 403 from another tenant, e.g. a Microsoft-managed endpoint, leaves
 *           it unknown, as the engine does)
 *   decide: proposedRuleSet (drafts stamped as if saved now) → whatIf (pure; the resource type of each connection
 *           comes from its resource ID, so nothing here depends on the type)
 */
import { toPortcullisError } from "../domain/errors.ts";
import type { PrivateEndpoint } from "../domain/model.ts";
import { connectionFacts } from "../domain/rules/facts.ts";
import { proposedRuleSet } from "../domain/rules/rule-set.ts";
import type { Actor } from "../domain/rules/schema.ts";
import { whatIf, type WhatIfConnection, type WhatIfResult } from "../domain/rules/what-if.ts";
import { mapConcurrently } from "./concurrency.ts";
import type { EngineDeps } from "./engine-deps.ts";
import { listConnectionsInScope, type UnreadableResource } from "./manual-connections.ts";

/** Whatever the shared listing needs (it names the ports that list each governed type), plus what what-if reads itself. */
export type WhatIfDeps = Parameters<typeof listConnectionsInScope>[1] & Pick<EngineDeps, "network" | "ruleStore" | "armConcurrency" | "clock" | "defaultAction">;

export interface WhatIfReport extends WhatIfResult {
  /** Resources or subscriptions that could not be read (their connections are missing from the comparison). */
  readonly unreadable: readonly UnreadableResource[];
}

async function readEndpoint(privateEndpointId: string | undefined, deps: WhatIfDeps): Promise<PrivateEndpoint | undefined> {
  if (privateEndpointId === undefined) return undefined;
  try {
    return await deps.network.getPrivateEndpoint(privateEndpointId);
  } catch (error) {
    const failure = toPortcullisError(error);
    if (failure.kind === "forbidden" || failure.kind === "invalid-input" || failure.kind === "not-found") return undefined;
    throw failure;
  }
}

/** Compares `drafts` (rules as an editor writes them, already schema-checked or not) with the stored rules. */
export async function whatIfRules(drafts: readonly unknown[], actor: Actor, deps: WhatIfDeps): Promise<WhatIfReport> {
  const stored = await deps.ruleStore.getRuleSet();
  const now = deps.clock.now();
  const proposed = proposedRuleSet(drafts, { stored, updatedAt: now.toISOString(), updatedBy: actor });
  const listing = await listConnectionsInScope({}, deps);
  const connections = await mapConcurrently(listing.connections, deps.armConcurrency, async (connection): Promise<WhatIfConnection> => ({
    facts: connectionFacts(connection, { endpoint: await readEndpoint(connection.privateEndpointId, deps) }),
    currentStatus: connection.status,
  }));
  return { ...whatIf(connections, proposed, stored, { now, defaultAction: deps.defaultAction }), unreadable: listing.unreadable };
}
