/**
 * The exactly-once guard (src/domain/decisions/decision-claim.ts): conditional writes on one claim per connection and
 * private endpoint. Implemented over Table Storage by src/adapters/tables/claim-store.ts.
 *
 * Every write is conditional; a lost race throws a PortcullisError of kind `conflict` (create: the claim
 * exists) or `precondition-failed` (replace: the ETag changed). Storage failures throw kind `transient`.
 */
import type { ClaimKey, ClaimState, ConnectionClaim } from "../domain/decisions/decision-claim.ts";
import type { OperationOptions } from "./arm.ts";

export interface ClaimStore {
  /** The claim, or undefined when none was ever written. */
  get(key: ClaimKey, options?: OperationOptions): Promise<ConnectionClaim | undefined>;
  /** Inserts the claim if absent; throws `conflict` when it already exists. */
  create(state: ClaimState, options?: OperationOptions): Promise<ConnectionClaim>;
  /** Replaces the claim if its ETag is still `etag`; throws `precondition-failed` otherwise. */
  replace(state: ClaimState, etag: string, options?: OperationOptions): Promise<ConnectionClaim>;
  /** Every claim of one connection (one per private endpoint it has had). */
  listByConnection(connectionId: string, options?: OperationOptions): AsyncIterable<ConnectionClaim>;
  /** Every claim of one private endpoint (used when the endpoint is deleted; rare, may scan). */
  listByPrivateEndpoint(privateEndpointId: string, options?: OperationOptions): AsyncIterable<ConnectionClaim>;
}
