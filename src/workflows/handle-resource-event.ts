/**
 * The event path: one parsed Microsoft.Resources.* event names a resource; this re-reads it from ARM and runs
 * the same decision as the sweep (decideConnection) for each connection it leads to.
 *
 * Every connection of the event is tried. A transient failure (ARM or storage) is returned as `retry`; the
 * trigger logs the result and then throws it, so Event Grid redelivers and the sweep remains the safety net.
 * Terminal failures are reported in `notes` and acknowledged.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ClaimKey } from "../domain/decisions/decision-claim.ts";
import type { DecisionContext } from "../domain/decisions/decision-plan.ts";
import { isManagedResource } from "../domain/decisions/decision-scope.ts";
import { isTransient, toPortcullisError, type PortcullisError } from "../domain/errors.ts";
import type { ResourceEvent, ResourceEventTarget } from "../domain/decisions/events.ts";
import type { EndpointLinkConnection, PrivateEndpoint, PrivateEndpointConnection } from "../domain/model.ts";
import { providerOf } from "../domain/providers/registry.ts";
import { resourceTypeOf, sameResourceId } from "../domain/resource-id.ts";
import { forEachConcurrently } from "./concurrency.ts";
import { decideConnection, recordDeletion, type ConnectionDecision } from "./decide-connection.ts";
import type { EngineDeps } from "./engine-deps.ts";

export interface ResourceEventResult {
  readonly eventId: string;
  readonly target: ResourceEventTarget;
  readonly decisions: readonly ConnectionDecision[];
  /** What the event could not settle and left to the sweep, and why. */
  readonly deferredToSweep: readonly string[];
  /** Why parts of the event changed nothing (unmanaged resource, endpoint gone, terminal errors). */
  readonly notes: readonly string[];
  /** The first transient failure: the event must be redelivered (the trigger throws it after logging). */
  readonly retry: PortcullisError | undefined;
}

/** Handles one event; see `retry` for failures a redelivery could fix. */
export async function handleResourceEvent(event: ResourceEvent, correlationId: string, deps: EngineDeps): Promise<ResourceEventResult> {
  const run = new EventRun(event, { triggeringEventIds: [event.id], correlationId }, deps);
  const target = event.target;
  switch (target.kind) {
    case "endpoint-written":
      await run.followEndpoint(target.privateEndpointId);
      break;
    case "endpoint-deleted":
      await run.recordEndpointDeleted(target.privateEndpointId);
      break;
    case "resource-connections-changed":
      await run.decideResource(target.resourceId);
      break;
    case "connection-written":
      await run.decideOneConnection(target.resourceId, target.connectionId);
      break;
    case "connection-deleted":
      await run.recordConnectionDeleted(target.resourceId, target.connectionId);
      break;
  }
  return run.finish();
}

/** One event's work and what it found, collected so that one failing connection does not hide the rest. */
class EventRun {
  readonly #event: ResourceEvent;
  readonly #context: DecisionContext;
  readonly #deps: EngineDeps;
  readonly #decisions: ConnectionDecision[] = [];
  readonly #deferred: string[] = [];
  readonly #notes: string[] = [];
  #transient: PortcullisError | undefined;

  constructor(event: ResourceEvent, context: DecisionContext, deps: EngineDeps) {
    this.#event = event;
    this.#context = context;
    this.#deps = deps;
  }

  /** Consumer side: follow each manual connection of the endpoint to a managed resource (of any governed type). */
  async followEndpoint(privateEndpointId: string): Promise<void> {
    const endpoint = await this.#attempt(`reading ${privateEndpointId}`, () => this.#deps.network.getPrivateEndpoint(privateEndpointId));
    if (endpoint === null) return;
    if (endpoint === undefined) {
      this.#notes.push(`private endpoint ${privateEndpointId} no longer exists`);
      return;
    }
    const links = endpoint.connections.filter((link) => this.#isGovernedLink(link));
    if (links.length === 0) this.#notes.push(`private endpoint ${privateEndpointId} has no manual connection to a managed resource`);
    for (const link of links) await this.#followLink(endpoint, link);
  }

  async #followLink(endpoint: PrivateEndpoint, link: EndpointLinkConnection): Promise<void> {
    const connection = await this.#attempt(`finding the connection of ${endpoint.id} on ${link.privateLinkServiceId}`, () =>
      this.#findConnection(link.privateLinkServiceId, endpoint.id),
    );
    if (connection === null) return;
    if (connection === undefined) {
      const waited = this.#deps.timings.connectionRecheckDelaysInMs.reduce((a, b) => a + b, 0);
      this.#deferred.push(
        `${link.privateLinkServiceId} has no connection from ${endpoint.id} yet (re-checked for ${waited} ms); the sweep will decide it`,
      );
      return;
    }
    await this.#decide(connection.id, () =>
      decideConnection({ connectionId: connection.id, connection, endpoint, requesterTenantId: this.#event.tenantId, context: this.#context }, this.#deps),
    );
  }

  /** The resource's connection from this endpoint; re-checked briefly because the consumer's event can race ahead. */
  async #findConnection(resourceId: string, privateEndpointId: string): Promise<PrivateEndpointConnection | undefined> {
    const delays = this.#deps.timings.connectionRecheckDelaysInMs;
    for (let attempt = 0; ; attempt++) {
      for await (const connection of this.#deps.privateLink.listConnections(resourceId)) {
        if (sameResourceId(connection.privateEndpointId, privateEndpointId)) return connection;
      }
      const delay = delays[attempt];
      if (delay === undefined) return undefined;
      await sleep(delay);
    }
  }

  /** Provider side: decide every connection of the resource (Pending ones by the rules, others recorded). */
  async decideResource(resourceId: string): Promise<void> {
    if (!isManagedResource(this.#deps.scope, resourceId)) {
      this.#notes.push(`${resourceId} is not a managed resource`);
      return;
    }
    await this.#attempt(`listing the connections of ${resourceId}`, () =>
      forEachConcurrently(this.#deps.privateLink.listConnections(resourceId), this.#deps.armConcurrency, (connection) =>
        this.#decide(connection.id, () => decideConnection({ connectionId: connection.id, connection, context: this.#context }, this.#deps)),
      ),
    );
  }

  /** Provider side: one connection was written; re-read and decide (or record) just that one. */
  async decideOneConnection(resourceId: string, connectionId: string): Promise<void> {
    if (!isManagedResource(this.#deps.scope, resourceId)) {
      this.#notes.push(`${resourceId} is not a managed resource`);
      return;
    }
    await this.#decide(connectionId, () => decideConnection({ connectionId, context: this.#context }, this.#deps));
  }

  /** Provider side: one connection was deleted; record it for each endpoint it was known with. */
  async recordConnectionDeleted(resourceId: string, connectionId: string): Promise<void> {
    if (!isManagedResource(this.#deps.scope, resourceId)) {
      this.#notes.push(`${resourceId} is not a managed resource`);
      return;
    }
    await this.#attempt(`recording the deletion of ${connectionId}`, async () => {
      const current = await this.#deps.privateLink.getConnection(connectionId);
      const keys: ClaimKey[] = [];
      for await (const claim of this.#deps.claims.listByConnection(connectionId)) {
        if (current !== undefined && sameResourceId(current.privateEndpointId, claim.privateEndpointId)) continue;
        keys.push({ connectionId: claim.connectionId, privateEndpointId: claim.privateEndpointId });
      }
      if (keys.length === 0 && current === undefined) keys.push({ connectionId, privateEndpointId: undefined });
      if (keys.length === 0) this.#notes.push(`${connectionId} still exists; no deletion to record`);
      for (const key of keys) await this.#decide(key.connectionId, () => recordDeletion(key, resourceId, this.#context, this.#deps));
    });
  }

  /** Consumer side: the endpoint was deleted; record the deletion of every connection it had to a managed resource. */
  async recordEndpointDeleted(privateEndpointId: string): Promise<void> {
    await this.#attempt(`recording the deletion of ${privateEndpointId}`, async () => {
      const endpointGone = await this.#endpointGone(privateEndpointId);
      if (endpointGone === false) {
        this.#notes.push(`private endpoint ${privateEndpointId} exists (again); no deletion to record`);
        return;
      }
      for await (const claim of this.#deps.claims.listByPrivateEndpoint(privateEndpointId)) {
        if (!isManagedResource(this.#deps.scope, claim.resourceId)) continue;
        if (endpointGone === undefined) {
          const current = await this.#deps.privateLink.getConnection(claim.connectionId);
          if (current !== undefined && sameResourceId(current.privateEndpointId, privateEndpointId)) continue;
        }
        const key = { connectionId: claim.connectionId, privateEndpointId: claim.privateEndpointId };
        await this.#decide(claim.connectionId, () => recordDeletion(key, claim.resourceId, this.#context, this.#deps));
      }
    });
  }

  /** true / false when ARM says; undefined when the endpoint cannot be read (403): then each connection is checked. */
  async #endpointGone(privateEndpointId: string): Promise<boolean | undefined> {
    try {
      return (await this.#deps.network.getPrivateEndpoint(privateEndpointId)) === undefined;
    } catch (error) {
      if (toPortcullisError(error).kind === "forbidden") return undefined;
      throw error;
    }
  }

  /**
   * A manual link to a managed resource, for one of its type's groups (APIM: Gateway only; a type without groups, a
   * Private Link Service, takes any). A link for a group the registry does not know is left to the sweep.
   */
  #isGovernedLink(link: EndpointLinkConnection): boolean {
    if (!link.manual || !isManagedResource(this.#deps.scope, link.privateLinkServiceId)) return false;
    const provider = providerOf(resourceTypeOf(link.privateLinkServiceId) ?? "");
    if (provider === undefined) return false;
    if (provider.groups.length === 0) return true;
    return link.groupIds.some((group) => provider.groups.some((known) => known.groupId.toLowerCase() === group.toLowerCase()));
  }

  async #decide(connectionId: string, decide: () => Promise<ConnectionDecision>): Promise<void> {
    const decision = await this.#attempt(`deciding ${connectionId}`, decide);
    if (decision !== null) this.#decisions.push(decision);
  }

  /** Runs one step; a failure is kept (transient: thrown at the end) or noted (terminal), and yields null. */
  async #attempt<T>(what: string, step: () => Promise<T>): Promise<T | null> {
    try {
      return await step();
    } catch (error) {
      const failure = toPortcullisError(error);
      if (isTransient(failure)) {
        this.#transient ??= failure;
        this.#deferred.push(`${what} failed transiently (${failure.message}); Event Grid will redeliver and the sweep will retry`);
      } else {
        this.#notes.push(`${what} failed: ${failure.kind}: ${failure.message}`);
      }
      return null;
    }
  }

  finish(): ResourceEventResult {
    return {
      eventId: this.#event.id,
      target: this.#event.target,
      decisions: this.#decisions,
      deferredToSweep: this.#deferred,
      notes: this.#notes,
      retry: this.#transient,
    };
  }
}
