/**
 * A local Azure Resource Manager for APIM private endpoint connections, private endpoints and Private DNS, served
 * over HTTPS on 127.0.0.1 so the real Azure SDK clients can talk to it (`endpoint: url`, `tlsOptions: { ca: caPem }`).
 * Dev and test only: nothing under src/ imports it.
 *
 * Every ARM request is authenticated (a JWT of the trusted local issuer, dev/oidc-issuer) and authorized against the
 * role assignments the emulator holds (rbac.ts), as ARM does. Without a given issuer the emulator starts its own;
 * without given assignments, the local app principal (client ID `portcullis-local`) holds Owner at `/` — for tests
 * that are not about permissions. Tests about permissions, and the e2e suites, seed exactly the roles they mean
 * (`authorization` option, `setAuthorization`, or PUT /_emulator/authorization).
 *
 * It is as strict as Azure where Azure's behaviour is published (test/dev/arm-emulator/strictness.test.ts cites each
 * source): every published api-version of a resource type is accepted and no other (api-versions.ts); PUT/PATCH need a
 * JSON Content-Type (415); bodies are checked against the spec's members (unknown members and enum values 400, writable
 * members the emulator does not model 400 PropertyChangeNotEmulated, read-only ones ignored); a second write while an
 * operation on the resource runs gets APIM's 409 Conflict or Network's 429 RetryableErrorDueToAnotherOperation /
 * 409 AnotherOperationInProgress. Tests hold operations in flight with `operations.configure({ hold: true })` (or
 * `PUT /_emulator/operations/settings`), then `release()` / `complete(id)` them.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { AddressInfo } from "node:net";
import { createLocalEmulatorCredential } from "../../src/adapters/arm/credential.ts";
import https from "node:https";
import { ArmTokenVerifier, type TrustedIssuer } from "./authentication.ts";
import { ArmError } from "./errors.ts";
import { createControlHandler } from "./control.ts";
import { EventGridDelivery, type EventDeliveryOptions } from "./events.ts";
import { FaultInjector } from "./faults.ts";
import { OperationTracker, type OperationSettings, type OperationView } from "./lro.ts";
import { apimRoutes } from "./routes/apim.ts";
import { networkRoutes } from "./routes/network.ts";
import { privateDnsRoutes } from "./routes/private-dns.ts";
import { privateLinkRoutes } from "./routes/private-link.ts";
import { resourcesRoutes } from "./routes/resources.ts";
import type { EmulatorEnv, HandlerOptions, Route } from "./routing.ts";
import { createRequestListener, type ControlHandler, type RequestRecord } from "./server.ts";
import { ArmState } from "./state.ts";
import { definitionIndex, isAuthorized, OWNER_ROLE_ID, type RoleAssignment, type RoleDefinition } from "./rbac.ts";
import { ArmThrottle } from "./throttling.ts";
import { objectIdForClient, startOidcIssuer, type OidcIssuer } from "../oidc-issuer/index.ts";
import { createServerCertificate } from "../tls.ts";
import { CustomTopicSink } from "./topics.ts";
import { ResourceGraphService } from "./resource-graph/service.ts";
import { loadTopologyFile, parseTopology, TopologyError, type Topology, type TopologyInput } from "./topology.ts";

export type { RequestRecord } from "./server.ts";
export type { Topology, TopologyInput } from "./topology.ts";
export { parseTopology, loadTopologyFile } from "./topology.ts";
export type { TrustedIssuer } from "./authentication.ts";
export type { RoleAssignment, RoleDefinition } from "./rbac.ts";

/** The custom role definitions and role assignments the emulator authorizes against (built-in roles are known). */
export interface AuthorizationSeed {
  readonly roleDefinitions?: readonly RoleDefinition[];
  readonly roleAssignments: readonly RoleAssignment[];
}

/** The client ID the app and tests name themselves with at the local issuer by default. */
export const LOCAL_APP_CLIENT_ID = "portcullis-local";

/** Owner at `/` for one principal: what tests that are not about permissions run with. */
export function ownerAtRoot(principalId: string = objectIdForClient(LOCAL_APP_CLIENT_ID)): AuthorizationSeed {
  return { roleAssignments: [{ principalId, scope: "/", roleDefinitionId: OWNER_ROLE_ID }] };
}
export { API_VERSIONS } from "./api-versions.ts";

export interface ArmEmulatorOptions {
  /** Port on 127.0.0.1; default: a free one. */
  port?: number;
  /** The estate to start from (object, or path to a JSON file); default: empty. */
  topology?: Topology | TopologyInput | string;
  /** How long long-running operations stay in progress (default 50 ms; 0: APIM writes answer 200 / 204 at once). */
  lroDelayMs?: number;
  /** Retry-After seconds sent on in-progress answers (default 0 = header omitted, so pollers use their own interval). */
  lroRetryAfterSeconds?: number;
  /** The issuer whose tokens ARM accepts (its JWKS is read once at start); default: the emulator starts its own. */
  identity?: TrustedIssuer;
  /** Role definitions and assignments to authorize against; default: ownerAtRoot() (the local app principal). */
  authorization?: AuthorizationSeed;
  /** Items per page of paged lists before a nextLink (default 100). */
  pageSize?: number;
  /** Also publish the undocumented privateEndpointConnectionProxies/write|delete in the provider subscription (default false). */
  providerProxyEvents?: boolean;
  /** Event Grid delivery tuning (retry back-off, TLS trust for webhooks, ...). */
  eventDelivery?: EventDeliveryOptions;
  /** Access keys per local custom topic name; topics without a key accept any credential. */
  topicKeys?: Record<string, string>;
}

/** A running emulator. */
export interface ArmEmulator {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  /** PEM of the server's self-signed certificate, to pass as `tlsOptions.ca`. */
  readonly caPem: string;
  readonly faults: FaultInjector;
  readonly throttle: ArmThrottle;
  readonly events: EventGridDelivery;
  readonly topics: CustomTopicSink;
  /** Azure Resource Graph over this estate: lag, freeze, quota, management groups (also under `/_emulator/resource-graph`). */
  readonly resourceGraph: ResourceGraphService;
  /** The issuer the emulator trusts: its token endpoint and certificate, for credentials. */
  readonly identity: TrustedIssuer;
  /** A client-credentials TokenCredential at the trusted issuer (default: the local app principal, `portcullis-local`). */
  credential(clientId?: string): TokenCredential;
  /** Replaces the role definitions and assignments (kept across reset: they are who may call, not the estate). */
  setAuthorization(seed: AuthorizationSeed): void;
  authorization(): AuthorizationSeed;
  /**
   * Long-running operations: list them, change the delay or hold new ones in flight (a second write to their resource
   * then gets the provider's 409 / 429), release held ones or complete one now. Reset restores the start settings.
   */
  readonly operations: EmulatorOperations;
  /** Every ARM request so far (method, path, api-version, status, subscription, principal, action, time). */
  requests(): readonly RequestRecord[];
  clearRequests(): void;
  /** Back to the start topology (or the given one); drops operations in flight, faults, throttle buckets and the request log. */
  reset(topology?: Topology | TopologyInput): void;
  /** The current estate as JSON. */
  snapshot(): unknown;
  close(): Promise<void>;
}

/** The operation controls of a running emulator (also under `/_emulator/operations`). */
export interface EmulatorOperations {
  list(): OperationView[];
  configure(settings: Partial<OperationSettings>): OperationSettings;
  release(): number;
  complete(id: string): boolean;
}

const ALL_ROUTES: readonly Route[] = [...apimRoutes, ...networkRoutes, ...privateDnsRoutes, ...privateLinkRoutes, ...resourcesRoutes];

/** The subscription a scope lies in, if any. */
function subscriptionOfScope(scope: string): string | undefined {
  return /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
}

function resolveTopology(topology: ArmEmulatorOptions["topology"]): Topology {
  if (topology === undefined) return parseTopology({});
  if (typeof topology === "string") return loadTopologyFile(topology);
  return parseTopology(topology);
}

/** Builds the state for a topology; a topology whose resources refer to missing ones is a TopologyError. */
function buildState(topology: Topology): ArmState {
  try {
    return ArmState.fromTopology(topology);
  } catch (error) {
    if (error instanceof ArmError) throw new TopologyError(`Invalid ARM emulator topology: ${error.message}`);
    throw error;
  }
}

/** Starts the emulator; resolves once it listens. */
export async function startArmEmulator(options: ArmEmulatorOptions = {}): Promise<ArmEmulator> {
  let startTopology = resolveTopology(options.topology);
  let state = buildState(startTopology);
  const lroDelayMs = options.lroDelayMs ?? 50;
  let operations = new OperationTracker(lroDelayMs);
  const handlerOptions: HandlerOptions = {
    pageSize: options.pageSize ?? 100,
    providerProxyEvents: options.providerProxyEvents ?? false,
    lroRetryAfterSeconds: options.lroRetryAfterSeconds ?? 0,
  };
  const faults = new FaultInjector();
  const throttle = new ArmThrottle();
  const topics = new CustomTopicSink(options.topicKeys === undefined ? {} : { keys: options.topicKeys });
  const log: RequestRecord[] = [];
  const certificate = await createServerCertificate("Portcullis ARM emulator");
  let ownIssuer: OidcIssuer | undefined;
  if (options.identity === undefined) ownIssuer = await startOidcIssuer({ audience: "https://management.azure.com/", tenantId: "arm-emulator" });
  const identity: TrustedIssuer = options.identity ?? {
    issuer: ownIssuer!.issuer,
    jwksUri: ownIssuer!.jwksUri,
    tokenEndpoint: ownIssuer!.tokenEndpoint,
    caPem: ownIssuer!.caPem,
  };
  const verifier = await ArmTokenVerifier.forIssuer(identity);
  let authorization: AuthorizationSeed = options.authorization ?? ownerAtRoot();
  let definitions = definitionIndex(authorization.roleDefinitions ?? []);
  const setAuthorization = (seed: AuthorizationSeed) => {
    authorization = seed;
    definitions = definitionIndex(seed.roleDefinitions ?? []);
  };

  let url = "";
  let events: EventGridDelivery | undefined;
  let control: ControlHandler | undefined;
  const env = (): EmulatorEnv => ({ state, operations, events: events!, options: handlerOptions, baseUrl: url });
  // A Microsoft-owned subscription (a managed virtual network's) is out of every caller's reach: their assignments,
  // even at `/`, are in their own tenant. Resource Graph trims its rows by the same check.
  const authorize = (principalId: string, permission: Parameters<typeof isAuthorized>[1]) => {
    const subscriptionId = subscriptionOfScope(permission.scope);
    if (subscriptionId !== undefined && state.isMicrosoftManaged(subscriptionId)) return false;
    return isAuthorized(principalId, permission, authorization.roleAssignments, definitions);
  };
  const resourceGraph = new ResourceGraphService({ env, routes: ALL_ROUTES, authorize });

  const emulatorControl = {
    snapshot: () => state.snapshot(),
    reset(topology?: Topology | TopologyInput) {
      if (topology !== undefined) startTopology = parseTopology(topology);
      const next = buildState(startTopology);
      operations.clear();
      operations = new OperationTracker(lroDelayMs);
      state = next;
      faults.clear();
      throttle.reset();
      resourceGraph.reset();
      log.length = 0;
    },
    requests: () => [...log],
    clearRequests: () => {
      log.length = 0;
    },
    faults,
    throttle,
    topics,
    resourceGraph,
    authorization: () => authorization,
    setAuthorization,
    operations: () => operations,
  };

  const server = https.createServer({ cert: certificate.certPem, key: certificate.keyPem });
  server.on("request", createRequestListener({
    env,
    routes: ALL_ROUTES,
    faults,
    throttle,
    topics,
    control: (method, path, query, body) => control!(method, path, query, body),
    verifier,
    authorize,
    log,
    resourceGraph,
  }));
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const deliveryEvents = new EventGridDelivery({ validationUrlBase: `${url}/_emulator`, ...options.eventDelivery });
  events = deliveryEvents;
  control = createControlHandler({ ...emulatorControl, events: deliveryEvents });

  return {
    url,
    caPem: certificate.certPem,
    faults,
    throttle,
    events: deliveryEvents,
    topics,
    resourceGraph,
    identity,
    credential: (clientId = LOCAL_APP_CLIENT_ID) => createLocalEmulatorCredential({ tokenEndpoint: identity.tokenEndpoint, caPem: identity.caPem, clientId }),
    setAuthorization,
    authorization: () => authorization,
    operations: {
      list: () => operations.list(),
      configure: (settings) => operations.configure(settings),
      release: () => operations.release(),
      complete: (id) => operations.settleNow(id),
    },
    requests: emulatorControl.requests,
    clearRequests: emulatorControl.clearRequests,
    reset: (topology) => emulatorControl.reset(topology),
    snapshot: emulatorControl.snapshot,
    async close() {
      operations.clear();
      resourceGraph.close();
      await deliveryEvents.close();
      await ownIssuer?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
