/**
 * The approval engine on the local stack, for integration tests, end-to-end tests and the sweep benchmark:
 * in-process Azurite, the HTTPS ARM emulator, and the production composition (src/composition.ts) built from
 * settings that point at them. Nothing here is mocked: real SDK clients, real Table Storage, real HTTPS.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startArmEmulator, type ArmEmulator, type TopologyInput } from "../../dev/arm-emulator/index.ts";
import type { ArmEmulatorOptions } from "../../dev/arm-emulator/index.ts";
import { startAzuriteTables, type LocalTableStorage } from "../../dev/azurite.ts";
import { createComposition, type Composition, type CompositionOptions } from "../../src/composition.ts";
import { parseSettings, type Settings } from "../../src/config.ts";
import type { DecisionRecord } from "../../src/domain/decisions/decision.ts";
import type { PrivateEndpointConnection } from "../../src/domain/model.ts";
import type { RuleInput } from "../../src/domain/rules/schema.ts";
import type { EngineDeps } from "../../src/workflows/engine-deps.ts";
import type { TokenCredential } from "@azure/core-auth";
import { OWNER_ROLE_ID } from "../../dev/arm-emulator/rbac.ts";
import { objectIdForClient } from "../../dev/oidc-issuer/index.ts";
import type { DeployedRoles, InfraRoleParameters } from "../support/deployed-roles.ts";
import { grantDeployedRoles, localArmSettings } from "../support/local-arm.ts";

export const PROVIDER_TENANT = "11111111-1111-4111-8111-111111111111";
export const PARTNER_TENANT = "22222222-2222-4222-8222-222222222222";
export const PROVIDER_SUB = "a0a0a0a0-0000-4000-8000-000000000001";
export const CONSUMER_SUB = "c1c1c1c1-0000-4000-8000-000000000002";
export const PARTNER_SUB = "c2c2c2c2-0000-4000-8000-000000000003";
export const APIM_RG = "rg-apim";
export const TOPIC = "portcullis-notifications";

export const resourceIdOf = (name: string) => `/subscriptions/${PROVIDER_SUB}/resourceGroups/${APIM_RG}/providers/Microsoft.ApiManagement/service/${name}`;
export const subnetIdOf = (subscriptionId: string) =>
  `/subscriptions/${subscriptionId}/resourceGroups/rg-consumer/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet-pe`;
export const endpointIdOf = (subscriptionId: string, name: string) =>
  `/subscriptions/${subscriptionId}/resourceGroups/rg-consumer/providers/Microsoft.Network/privateEndpoints/${name}`;

export interface PendingSeed {
  readonly name: string;
  readonly instance: string;
  readonly subscriptionId?: string;
  readonly requestMessage?: string;
  /** The connection's status (default Pending: a manual request). */
  readonly status?: "Pending" | "Approved" | "Rejected";
}

/** Provider subscription with `instances`, and consumer + partner subscriptions with a VNet each and any `pending` endpoints. */
export function engineTopology(instances: readonly string[], pending: readonly PendingSeed[] = []): TopologyInput {
  const consumer = (id: string, tenantId: string, octet: number) => ({
    id,
    tenantId,
    resourceGroups: [
      {
        name: "rg-consumer",
        location: "westeurope",
        virtualNetworks: [
          { name: "vnet", location: "westeurope", addressPrefixes: [`10.${octet}.0.0/16`], subnets: [{ name: "snet-pe", addressPrefix: `10.${octet}.0.0/16` }] },
        ],
        privateEndpoints: pending
          .filter((p) => (p.subscriptionId ?? CONSUMER_SUB) === id)
          .map((p) => ({
            name: p.name,
            location: "westeurope",
            subnetId: subnetIdOf(id),
            privateLinkServiceId: resourceIdOf(p.instance),
            groupIds: ["Gateway"],
            manual: true,
            requestMessage: p.requestMessage ?? "",
            ...(p.status !== undefined ? { status: p.status } : {}),
          })),
      },
    ],
  });
  return {
    tenants: [{ id: PROVIDER_TENANT }, { id: PARTNER_TENANT }],
    subscriptions: [
      {
        id: PROVIDER_SUB,
        tenantId: PROVIDER_TENANT,
        resourceGroups: [
          {
            name: APIM_RG,
            location: "westeurope",
            apimServices: instances.map((name) => ({ name, location: "West Europe", sku: { name: "Premium", capacity: 1 } })),
          },
        ],
      },
      consumer(CONSUMER_SUB, PROVIDER_TENANT, 10),
      consumer(PARTNER_SUB, PARTNER_TENANT, 20),
    ],
  };
}

export interface EngineStackOptions {
  readonly topology: TopologyInput;
  readonly emulator?: Omit<ArmEmulatorOptions, "topology">;
  /** App settings on top of the stack's (e.g. PORTCULLIS_MODE, PORTCULLIS_ARM_CONCURRENCY). */
  readonly settings?: Readonly<Record<string, string>>;
  readonly composition?: CompositionOptions;
  /** Table name prefix (default: unique per stack). */
  readonly tablePrefix?: string;
  /**
   * The app runs as a principal holding exactly the roles infra/ deploys for its settings; these change the infra
   * parameters (e.g. consumer subscriptions) or the roles themselves (negative tests drop an action).
   */
  readonly roles?: { readonly overrides?: Partial<InfraRoleParameters>; readonly change?: (roles: DeployedRoles) => DeployedRoles };
}

export interface EngineStack {
  readonly emulator: ArmEmulator;
  readonly storage: LocalTableStorage;
  /** The app settings as environment variables (what a Functions host would see). */
  readonly env: Readonly<Record<string, string>>;
  readonly settings: Settings;
  /** The role definitions and assignments the app's principal holds in the emulator (what infra/ deploys). */
  readonly roles: DeployedRoles;
  /** A composition over `settings`: what the app builds in production. */
  readonly composition: Composition;
  /** Another composition over the same settings: a second app instance sharing ARM and storage. */
  secondInstance(): Composition;
  /**
   * A credential for someone else acting on the estate (e.g. a consumer team creating its endpoint): its own
   * principal, holding Owner at the given subscription only. The app's own roles are unchanged.
   */
  ownerCredential(name: string, subscriptionId: string): TokenCredential;
  close(): Promise<void>;
}

let stacks = 0;

/** Starts Azurite and the emulator and builds the production composition over them. */
export async function startEngineStack(options: EngineStackOptions): Promise<EngineStack> {
  const storage = await startAzuriteTables();
  const emulator = await startArmEmulator({ ...options.emulator, topology: options.topology });
  const dir = mkdtempSync(join(tmpdir(), "portcullis-engine-"));
  const env: Record<string, string> = {
    PORTCULLIS_MODE: "enforce",
    PORTCULLIS_DEFAULT_ACTION: "manual",
    PORTCULLIS_MANAGED_SUBSCRIPTIONS: PROVIDER_SUB,
    PORTCULLIS_TABLES_CONNECTION_STRING: storage.connectionString,
    PORTCULLIS_TABLE_PREFIX: options.tablePrefix ?? `engine${++stacks}x${process.pid}`,
    ...localArmSettings(emulator, dir),
    PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT: `${emulator.url}/_eventgrid/topics/${TOPIC}/api/events`,
    PORTCULLIS_AUTH_ISSUER: "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0",
    PORTCULLIS_AUTH_AUDIENCE: "api://portcullis-tests",
    ...options.settings,
  };
  const settings = parseSettings(env);
  // Every consumer subscription of the topology is wired (subscription-wiring.bicep, the entry point a consumer
  // team runs in its own subscription) unless a test says otherwise — the partner subscription included, though it
  // sits in another tenant: in Azure that grant needs a cross-tenant delegation (e.g. Azure Lighthouse) that infra/
  // does not deploy. test/e2e/rbac-deployed-roles.test.ts checks what happens without it.
  const consumerSubscriptionIds = ((options.topology as { subscriptions?: { id: string }[] }).subscriptions ?? []).map((s) => s.id);
  const roles = grantDeployedRoles(emulator, env, options.topology, {
    ...options.roles,
    overrides: { consumerSubscriptionIds, ...options.roles?.overrides },
  });
  return {
    emulator,
    storage,
    env,
    settings,
    roles,
    composition: createComposition(settings, options.composition),
    secondInstance: () => createComposition(settings, options.composition),
    ownerCredential(name, subscriptionId) {
      const current = emulator.authorization();
      const assignment = { principalId: objectIdForClient(name), scope: `/subscriptions/${subscriptionId}`, roleDefinitionId: OWNER_ROLE_ID };
      emulator.setAuthorization({ ...current, roleAssignments: [...current.roleAssignments, assignment] });
      return emulator.credential(name);
    },
    async close() {
      await emulator.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const EDITOR = { objectId: "00000000-0000-0000-0000-0000000000e1", name: "Engine Tests" };

/** Stores rules through the real rule store, as an editor would. */
export async function putRules(composition: Composition, rules: readonly RuleInput[]): Promise<void> {
  const deps = await composition.engineDeps(quietLog);
  for (const rule of rules) await deps.ruleStore.putRule(rule, { ifNoneMatch: "*", actor: EDITOR });
}

/** PUTs to private endpoint connections the emulator answered (approvals and rejections sent to ARM). */
export function connectionWrites(emulator: ArmEmulator): number {
  return emulator.requests().filter((r) => r.method === "PUT" && /\/privateEndpointConnections\//i.test(r.path) && r.status < 300).length;
}

/** A logger that keeps lines (for assertions) instead of printing them. */
export function collectingLog(): { info(m: string): void; warn(m: string): void; error(m: string): void; lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
}

export const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

/** The connection on `instance` that the private endpoint `endpointName` in `subscriptionId` asked for. */
export async function connectionFrom(deps: EngineDeps, subscriptionId: string, endpointName: string, instance: string): Promise<PrivateEndpointConnection> {
  const endpointId = endpointIdOf(subscriptionId, endpointName).toLowerCase();
  for await (const connection of deps.privateLink.listConnections(resourceIdOf(instance))) {
    if (connection.privateEndpointId?.toLowerCase() === endpointId) return connection;
  }
  throw new Error(`no connection from ${endpointName}`);
}

/** Every decision record of one connection, as the decision log lists them. */
export async function decisionRecordsOf(deps: EngineDeps, connectionId: string): Promise<DecisionRecord[]> {
  const records: DecisionRecord[] = [];
  for await (const record of deps.decisionLog.listByConnection(connectionId)) records.push(record);
  return records;
}

/** Polls `probe` every 20 ms until it answers something, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}
