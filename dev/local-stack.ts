/**
 * The whole local stack in one process: Azurite (Table Storage), the ARM emulator (HTTPS), the local OpenID
 * issuer (HTTPS) and the local Functions host serving the app's real function table, wired together the way
 * Azure wires them: Event Grid system topics of every subscription in the topology deliver
 * Microsoft.Resources events to the host's `privateEndpointEvents` webhook. Dev-only: never imported by src/.
 *
 * `npm start` (dev/start.ts) and end-to-end tests both use it, so the demo is what the tests exercise.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { parseSettings } from "../src/config.ts";
import { withResolvedSchedules } from "../src/functions/definition.ts";
import { HANDLED_EVENT_TYPES, HANDLED_OPERATION_NAMES } from "../src/domain/decisions/arm-events.ts";
import { grantDeployedRoles } from "../test/support/local-arm.ts";
import { LOCAL_APP_CLIENT_ID, startArmEmulator, type ArmEmulator } from "./arm-emulator/index.ts";
import { startAzuriteTables, type LocalTableStorage } from "./azurite.ts";
import { startFunctionsHost, type LocalFunctionsHost } from "./functions-host/index.ts";
import { objectIdForClient, startOidcIssuer, type OidcIssuer } from "./oidc-issuer/index.ts";
import { OWNER_ROLE_ID } from "./arm-emulator/rbac.ts";
import { PRIVATE_LINK_PROVIDERS, requireProvider } from "../src/domain/providers/registry.ts";

/** The client ID of the demo consumer team that may create private endpoints in the consumer subscriptions. */
export const DEMO_CONSUMER_CLIENT_ID = "demo-consumer";

export const LOCAL_AUDIENCE = "api://portcullis-local";

/** The ports `npm start` prefers, matching local.settings.sample.json; a busy one falls back to a free port. */
export const PREFERRED_PORTS = { functionsHost: 7071, armEmulator: 8443, oidcIssuer: 8444, azurite: 10002 } as const;

export interface LocalStackOptions {
  /** Folder for the CA files and stack.json (default `.local` under the repo). */
  readonly stateDir: string;
  /** `preferred`: PREFERRED_PORTS where free; `free`: any free ports (tests, several stacks at once). */
  readonly ports: "preferred" | "free";
  /** Topology JSON file for the ARM emulator. */
  readonly topologyFile: string;
  /** Extra or overriding app settings. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Schedule timers (default true). */
  readonly timers?: boolean;
  readonly log?: (line: string) => void;
}

export interface LocalStack {
  readonly azurite: LocalTableStorage;
  readonly arm: ArmEmulator;
  readonly issuer: OidcIssuer;
  readonly host: LocalFunctionsHost;
  /** Every app setting the host runs with (also in process.env). */
  readonly settings: Readonly<Record<string, string>>;
  /** Path of the JSON file describing the running stack (the CLI's `--local` reads it). */
  readonly stackFile: string;
  close(): Promise<void>;
}

async function isFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

async function pickPort(preferred: number, mode: LocalStackOptions["ports"]): Promise<number> {
  return mode === "preferred" && (await isFree(preferred)) ? preferred : 0;
}

function subscriptionIdsOf(topologyFile: string): { all: string[]; providers: string[]; hubZones: string[]; resourceTypes: string[] } {
  const topology = JSON.parse(readFileSync(topologyFile, "utf8")) as {
    subscriptions?: {
      id: string;
      microsoftManaged?: boolean;
      resourceGroups?: { name: string; apimServices?: unknown[]; privateLinkResources?: { type: string }[]; privateDnsZones?: { name: string }[] }[];
    }[];
  };
  // A Microsoft-managed subscription (a Data Factory managed VNet's) is not the customer's: no system topic, no roles.
  const subscriptions = (topology.subscriptions ?? []).filter((s) => s.microsoftManaged !== true);
  const groups = subscriptions.flatMap((s) => s.resourceGroups ?? []);
  const governedZones = new Set(PRIVATE_LINK_PROVIDERS.flatMap((p) => p.groups.flatMap((g) => g.dnsZones.map((z) => z.zone.toLowerCase()))));
  const types = new Set<string>();
  for (const rg of groups) {
    if ((rg.apimServices ?? []).length > 0) types.add("Microsoft.ApiManagement/service");
    for (const resource of rg.privateLinkResources ?? []) types.add(requireProvider(resource.type).resourceType);
  }
  return {
    all: subscriptions.map((s) => s.id),
    providers: subscriptions
      .filter((s) => (s.resourceGroups ?? []).some((rg) => (rg.apimServices ?? []).length > 0 || (rg.privateLinkResources ?? []).length > 0))
      .map((s) => s.id),
    // The hub's privatelink.* zones of the governed types: the DNS audit checks them, as PORTCULLIS_DNS_ZONE_IDS does in Azure.
    hubZones: subscriptions.flatMap((s) =>
      (s.resourceGroups ?? []).flatMap((rg) =>
        (rg.privateDnsZones ?? [])
          .filter((zone) => governedZones.has(zone.name.toLowerCase()))
          .map((zone) => `/subscriptions/${s.id}/resourceGroups/${rg.name}/providers/Microsoft.Network/privateDnsZones/${zone.name}`),
      ),
    ),
    // Every type the estate holds (registry order), so `npm start` governs the demo's storage account and vault too.
    resourceTypes: PRIVATE_LINK_PROVIDERS.map((p) => p.resourceType).filter((t) => types.has(t)),
  };
}

/** Starts every piece, points the app's settings at them, and subscribes the host to every subscription's events. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  mkdirSync(options.stateDir, { recursive: true });
  const subscriptions = subscriptionIdsOf(options.topologyFile);

  const azurite = await startAzuriteTables({ port: await pickPort(PREFERRED_PORTS.azurite, options.ports) });
  // One local issuer for both the API's tokens and the app's ARM tokens, as Entra ID issues both in Azure.
  const issuer = await startOidcIssuer({ port: await pickPort(PREFERRED_PORTS.oidcIssuer, options.ports), audience: LOCAL_AUDIENCE });
  const arm = await startArmEmulator({
    port: await pickPort(PREFERRED_PORTS.armEmulator, options.ports),
    topology: options.topologyFile,
    identity: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, tokenEndpoint: issuer.tokenEndpoint, caPem: issuer.caPem },
  });
  const armCaFile = join(options.stateDir, "arm-emulator-ca.pem");
  const authCaFile = join(options.stateDir, "oidc-issuer-ca.pem");
  writeFileSync(armCaFile, arm.caPem);
  writeFileSync(authCaFile, issuer.caPem);

  const settings: Record<string, string> = {
    FUNCTIONS_WORKER_RUNTIME: "node",
    PORTCULLIS_MODE: "enforce",
    PORTCULLIS_DEFAULT_ACTION: "manual",
    PORTCULLIS_MANAGED_SUBSCRIPTIONS: subscriptions.providers.join(","),
    ...(subscriptions.resourceTypes.length > 0 ? { PORTCULLIS_MANAGED_RESOURCE_TYPES: subscriptions.resourceTypes.join(",") } : {}),
    ...(subscriptions.hubZones.length > 0 ? { PORTCULLIS_DNS_ZONE_IDS: subscriptions.hubZones.join(",") } : {}),
    PORTCULLIS_TABLES_CONNECTION_STRING: azurite.connectionString,
    PORTCULLIS_ARM_ENDPOINT: arm.url,
    PORTCULLIS_ARM_CREDENTIAL: "local-emulator",
    PORTCULLIS_ARM_CA_FILE: armCaFile,
    PORTCULLIS_ARM_TOKEN_ENDPOINT: issuer.tokenEndpoint,
    PORTCULLIS_ARM_TOKEN_CA_FILE: authCaFile,
    PORTCULLIS_ARM_CLIENT_ID: LOCAL_APP_CLIENT_ID,
    PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT: `${arm.url}/_eventgrid/topics/portcullis/api/events`,
    PORTCULLIS_AUTH_ISSUER: issuer.issuer,
    PORTCULLIS_AUTH_AUDIENCE: LOCAL_AUDIENCE,
    PORTCULLIS_AUTH_CA_FILE: authCaFile,
    ...options.settings,
  };
  // The app's identity holds exactly the roles infra/ deploys for these settings (compiled by the Bicep CLI). A demo
  // consumer team (client ID `demo-consumer`) owns the consumer subscriptions, to create endpoints as in the README.
  const consumerOwners = subscriptions.all
    .filter((id) => !subscriptions.providers.includes(id))
    .map((subscriptionId) => ({ principalId: objectIdForClient(DEMO_CONSUMER_CLIENT_ID), scope: `/subscriptions/${subscriptionId}`, roleDefinitionId: OWNER_ROLE_ID }));
  try {
    grantDeployedRoles(arm, settings, options.topologyFile, {
      change: (roles) => ({ ...roles, roleAssignments: [...roles.roleAssignments, ...consumerOwners] }),
    });
  } catch (error) {
    // Reading the deployed roles needs the Bicep CLI, which comes from NuGet through the .NET SDK. Without it the demo
    // still runs, but the app would be allowed what Azure would refuse: say so loudly (tests and CI always compile).
    arm.setAuthorization({
      roleAssignments: [{ principalId: objectIdForClient(LOCAL_APP_CLIENT_ID), scope: "/", roleDefinitionId: OWNER_ROLE_ID }, ...consumerOwners],
    });
    log(
      `WARNING: the deployed roles could not be read (${error instanceof Error ? error.message.split("\n")[0] : String(error)}), ` +
        "so the app runs as Owner on the emulator, not under the roles infra/ deploys. Install the .NET SDK (dotnet) so " +
        "scripts/ensure-bicep.sh can fetch the Bicep CLI, then restart.",
    );
  }
  // The app reads its settings from process.env once (src/config.ts), exactly as in Azure.
  Object.assign(process.env, settings);
  const { functionDefinitions } = await import("../src/functions/index.ts");
  const host = await startFunctionsHost({
    definitions: withResolvedSchedules(functionDefinitions, parseSettings(process.env)),
    port: await pickPort(PREFERRED_PORTS.functionsHost, options.ports),
    timers: options.timers ?? true,
    log,
  });

  // One Event Grid system topic per subscription, as infra/ deploys them, filtered like the real subscription.
  for (const subscriptionId of subscriptions.all) {
    await arm.events.addSubscription({
      id: `portcullis-${subscriptionId.slice(0, 8)}`,
      subscriptionId,
      endpointUrl: host.eventGridWebhookUrl("privateEndpointEvents"),
      schema: "EventGridSchema",
      includedEventTypes: [...HANDLED_EVENT_TYPES],
      operationNames: [...HANDLED_OPERATION_NAMES],
    });
  }

  const stackFile = join(options.stateDir, "stack.json");
  writeFileSync(
    stackFile,
    `${JSON.stringify(
      {
        startedAt: new Date().toISOString(),
        pid: process.pid,
        settings,
        functionsHostUrl: host.url,
        keys: host.keys,
        armEmulatorUrl: arm.url,
        tableEndpoint: azurite.tableEndpoint,
        oidc: { issuer: issuer.issuer, tokenEndpoint: issuer.tokenEndpoint, caFile: authCaFile, audience: LOCAL_AUDIENCE },
      },
      null,
      2,
    )}\n`,
  );

  return {
    azurite,
    arm,
    issuer,
    host,
    settings,
    stackFile,
    async close() {
      await host.close();
      await arm.close();
      await issuer.close();
      await azurite.close();
    },
  };
}
