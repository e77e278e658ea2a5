/**
 * How the test harnesses (and the local stack) connect the app to the ARM emulator as a real deployment would be:
 * the app's settings for the `local-emulator` credential (client credentials at the emulator's trusted issuer), and
 * the emulator's role assignments set to exactly what infra/ deploys for those settings (deployed-roles.ts).
 *
 * The infra parameters follow from the app settings the way infra/main.bicep maps them (managedResourceTypes →
 * PORTCULLIS_MANAGED_RESOURCE_TYPES, managedResourceIds → PORTCULLIS_MANAGED_RESOURCES (PORTCULLIS_MANAGED_INSTANCES,
 * the deprecated name, is read as more of them), managedSubscriptionIds → PORTCULLIS_MANAGED_SUBSCRIPTIONS, dnsZoneIds
 * → PORTCULLIS_DNS_ZONE_IDS, remediatePublicNetworkAccess / remediateDnsRecords → PORTCULLIS_REMEDIATE). Without
 * PORTCULLIS_MANAGED_RESOURCE_TYPES the governed types are the template's default, API Management only, as the app's. Consumer
 * subscriptions have no app setting: they default to every subscription of the topology in the deployment's own
 * tenant (a deployment cannot assign roles in another tenant, so a partner tenant's endpoints stay unreadable).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_APP_CLIENT_ID, type ArmEmulator, type TopologyInput } from "../../dev/arm-emulator/index.ts";
import { objectIdForClient } from "../../dev/oidc-issuer/index.ts";
import { deployedRoles, type DeployedRoles, type InfraRoleParameters } from "./deployed-roles.ts";

/** The object ID of the app's local identity (the principal the deployed roles are assigned to). */
export const APP_PRINCIPAL_ID = objectIdForClient(LOCAL_APP_CLIENT_ID);

/** Writes the emulator's and its issuer's certificates into `dir` and returns the app's ARM settings for them. */
export function localArmSettings(emulator: ArmEmulator, dir: string, options: { relativeFiles?: boolean } = {}): Record<string, string> {
  writeFileSync(join(dir, "arm-ca.pem"), emulator.caPem);
  writeFileSync(join(dir, "arm-token-ca.pem"), emulator.identity.caPem);
  const file = (name: string) => (options.relativeFiles ? name : join(dir, name));
  return {
    PORTCULLIS_ARM_ENDPOINT: emulator.url,
    PORTCULLIS_ARM_CREDENTIAL: "local-emulator",
    PORTCULLIS_ARM_CA_FILE: file("arm-ca.pem"),
    PORTCULLIS_ARM_TOKEN_ENDPOINT: emulator.identity.tokenEndpoint,
    PORTCULLIS_ARM_TOKEN_CA_FILE: file("arm-token-ca.pem"),
    PORTCULLIS_ARM_CLIENT_ID: LOCAL_APP_CLIENT_ID,
  };
}

const list = (value: string | undefined): string[] => (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");

/** The infra/ parameters that app settings and a topology stand for. */
export function infraParametersFor(
  env: Readonly<Record<string, string | undefined>>,
  topology: TopologyInput | string,
  overrides: Partial<InfraRoleParameters> = {},
): InfraRoleParameters {
  const estate = typeof topology === "string" ? (JSON.parse(readFileSync(topology, "utf8")) as TopologyInput) : topology;
  const managedResourceTypes = list(env["PORTCULLIS_MANAGED_RESOURCE_TYPES"]);
  const managedResourceIds = list(env["PORTCULLIS_MANAGED_RESOURCES"]);
  const managedInstanceIds = list(env["PORTCULLIS_MANAGED_INSTANCES"]);
  const managedSubscriptionIds = list(env["PORTCULLIS_MANAGED_SUBSCRIPTIONS"]);
  const remediations = list(env["PORTCULLIS_REMEDIATE"]);
  const subscriptions = (estate as { subscriptions?: { id: string; tenantId: string }[] }).subscriptions ?? [];
  const deploymentSubscriptionId =
    overrides.deploymentSubscriptionId ??
    managedSubscriptionIds[0] ??
    [...managedResourceIds, ...managedInstanceIds][0]?.split("/")[2] ??
    subscriptions[0]?.id ??
    "00000000-0000-4000-8000-000000000000";
  const tenantId = subscriptions.find((s) => s.id.toLowerCase() === deploymentSubscriptionId.toLowerCase())?.tenantId;
  return {
    principalId: APP_PRINCIPAL_ID,
    deploymentSubscriptionId,
    ...(tenantId !== undefined ? { tenantId } : {}),
    ...(managedResourceTypes.length > 0 ? { managedResourceTypes } : {}),
    managedResourceIds,
    managedInstanceIds,
    managedSubscriptionIds,
    consumerSubscriptionIds: subscriptions.filter((s) => tenantId === undefined || s.tenantId === tenantId).map((s) => s.id),
    dnsZoneIds: list(env["PORTCULLIS_DNS_ZONE_IDS"]),
    remediatePublicNetworkAccess: remediations.includes("public-network-access"),
    remediateDnsRecords: remediations.includes("dns-record"),
    ...overrides,
  };
}

/**
 * Gives the emulator exactly the roles infra/ deploys for these settings (optionally changed, e.g. one action
 * dropped by a negative test) and returns them.
 */
export function grantDeployedRoles(
  emulator: ArmEmulator,
  env: Readonly<Record<string, string | undefined>>,
  topology: TopologyInput | string,
  options: { overrides?: Partial<InfraRoleParameters>; change?: (roles: DeployedRoles) => DeployedRoles } = {},
): DeployedRoles {
  const roles = deployedRoles(infraParametersFor(env, topology, options.overrides));
  const granted = options.change ? options.change(roles) : roles;
  emulator.setAuthorization(granted);
  return granted;
}
