/**
 * The audit checks: small pure functions over a snapshot, named like the sentence they test, kept in ONE
 * explicit map keyed by kebab-case check ID. The map's order is the order checks run and reports list them.
 * Every check returns the problems it saw as Observations (none when healthy); none of them does I/O or
 * reads the clock (the run's `now` comes in through the context).
 *
 * One set of checks for every registered Private Link type (src/domain/providers/registry.ts). What differs by type is
 * read from the registry entry, and each check says through `appliesTo` which types it can fire for (the per-type
 * tables in docs/audit.md are checked against it):
 * - public network access: where the type has `publicNetworkAccess`; its own disabled value, and `SecuredByPerimeter`
 *   (a network security perimeter decides access), count as closed;
 * - capacity: where the registry publishes `maxConnections`;
 * - prerequisites: APIM's platform / VNet injection / tier, and `premium-sku` (Service Bus, Container Registry);
 * - a Private Link Service's own auto-approval and visibility lists;
 * - DNS drift in the type's `privatelink.*` zones (dns.ts), connection hygiene (pending, rejected, approvals) for all.
 */
import { evaluateRules } from "../rules/evaluate.ts";
import { parseResourceId, resourceIdKey } from "../resource-id.ts";
import type { PrivateEndpointConnection, PrivateLinkResource } from "../model.ts";
import type { PrivateLinkProvider, PublicNetworkAccessShape } from "../providers/registry.ts";
import type { InstanceDnsAnalysis, RecordAnalysis } from "./dns.ts";
import { findingId, type Evidence, type Observation, type Remediation, type Severity } from "./findings.ts";
import { governedTypeOf, hasApimFacts, type EstateSnapshot, type InstanceSnapshot, type ReadFailure, type RulesInForce, type ZoneSnapshot } from "./snapshot.ts";

/** Compute platforms on which a classic-tier instance takes inbound private endpoints (stv1 cannot). */
export const SUPPORTED_PLATFORMS: readonly string[] = ["stv2", "stv2.1"];
/**
 * Tiers with "Private endpoint support for inbound connections" in Microsoft's feature table
 * (learn.microsoft.com/azure/api-management/api-management-features): the classic Developer, Basic, Standard and
 * Premium, and the v2 tiers Standard v2 and Premium v2. Consumption and Basic v2 have none. SKU names as ARM reports
 * them (SkuType in the APIM REST spec, e.g. stable/2024-05-01/apimdeployment.json).
 */
export const SUPPORTED_TIERS: readonly string[] = ["Developer", "Basic", "Standard", "Premium", "StandardV2", "PremiumV2"];
/**
 * The v2 tiers. They do not run on the classic single-tenant platforms: the stv1 -> stv2 migration does not apply to
 * them, and what they report as platformVersion (the spec's enum also has mtv1, "Multi Tenant V1") is not a
 * prerequisite of their private endpoints, so the platform check does not judge them.
 */
export const V2_TIERS: readonly string[] = ["BasicV2", "StandardV2", "PremiumV2"];
/** The SKU the `premium-sku` prerequisite asks for (Service Bus and Container Registry take private endpoints on Premium only). */
export const PREMIUM_SKU = "Premium";
/**
 * publicNetworkAccess values that count as closed besides the type's own disabled value: `SecuredByPerimeter` lets a
 * network security perimeter's rules decide access, so the resource is not open to the internet at large.
 */
export const PERIMETER_PUBLIC_ACCESS = "SecuredByPerimeter";
/** Resource ID used for estate-wide findings about Portcullis' own rule set. */
export const RULE_SET_RESOURCE_ID = "/portcullis/rules";

/** The desired state, from settings. */
export interface AuditPolicy {
  /** Resources allowed to keep public network access (PORTCULLIS_PUBLIC_ACCESS_EXEMPT). */
  readonly publicAccessExemptIds: readonly string[];
  /** When Disabled is required: once an approved connection exists (default) or always. */
  readonly publicAccessDisabledRequired: "when-approved" | "always";
  readonly pendingMaxAgeHours: number;
  readonly rejectedMaxAgeDays: number;
  /**
   * Connection count from which APIM's capacity (limit 100) is reported as a warning; a type with another published
   * limit is warned at the same fraction of it (80 of 100 -> 800 of a Private Link Service's 1000).
   */
  readonly capacityWarning: number;
}

export interface CheckContext {
  readonly policy: AuditPolicy;
  readonly now: Date;
  /**
   * Subscriptions known to be in Portcullis' own estate (and so its tenant): the managed subscriptions and those
   * of the managed instances and configured zones. A consumer VNet elsewhere may belong to another tenant, so the
   * advice for it is to ask its owner, never to link our zone into it.
   */
  readonly estateSubscriptionIds: readonly string[];
  /** The rules the engine applies; undefined when the rule set is unusable (then what a rule would do is unknown). */
  readonly rules?: RulesInForce | undefined;
}

/** What a check looks at: one instance (with its DNS analysis) or the estate as a whole. */
export type AuditSubject =
  | { readonly kind: "instance"; readonly snapshot: InstanceSnapshot; readonly dns: InstanceDnsAnalysis }
  | { readonly kind: "estate"; readonly estate: EstateSnapshot };

export interface AuditCheck {
  /** One line for report headings and SARIF shortDescription. */
  readonly title: string;
  /** Why it matters, for SARIF fullDescription and the report's legend. */
  readonly description: string;
  /** Whether the check can fire for a type's instances (false for estate-wide checks); the docs' per-type tables follow it. */
  readonly appliesTo: (provider: PrivateLinkProvider) => boolean;
  readonly evaluate: (subject: AuditSubject, context: CheckContext) => readonly Observation[];
}

// ---------------------------------------------------------------------------------------------------------
// Helpers shared by the checks.

interface ObservationInput {
  readonly checkId: CheckId;
  readonly severity: Severity;
  readonly instanceId: string | undefined;
  readonly resourceId: string;
  readonly discriminator?: string;
  readonly message: string;
  readonly evidence: Evidence;
  readonly remediation: Remediation;
}

function observe(input: ObservationInput): Observation {
  return {
    id: findingId(input.checkId, input.resourceId, input.discriminator ?? ""),
    checkId: input.checkId,
    severity: input.severity,
    instanceId: input.instanceId,
    resourceType: governedTypeOf(input.instanceId),
    resourceId: input.resourceId,
    message: input.message,
    evidence: input.evidence,
    remediation: input.remediation,
  };
}

type ReadableInstance = InstanceSnapshot & { readonly resource: PrivateLinkResource; readonly provider: PrivateLinkProvider };

function readableInstance(subject: AuditSubject): ReadableInstance | undefined {
  if (subject.kind !== "instance") return undefined;
  const s = subject.snapshot;
  if (s.failure !== undefined || s.resource === undefined || s.provider === undefined) return undefined;
  return s as ReadableInstance;
}

/** A readable APIM instance with its service facts (the APIM prerequisite checks read them). */
function apimInstance(subject: AuditSubject) {
  const snapshot = readableInstance(subject);
  if (!snapshot || snapshot.service === undefined || !isApim(snapshot.provider)) return undefined;
  return snapshot as ReadableInstance & { readonly service: NonNullable<InstanceSnapshot["service"]> };
}

function isApim(provider: PrivateLinkProvider): boolean {
  return hasApimFacts(provider);
}

/** Microsoft.Network/privateLinkServices: the type with its own visibility and auto-approval lists. */
function IS_PRIVATE_LINK_SERVICE(provider: PrivateLinkProvider): boolean {
  return provider.resourceType.toLowerCase() === "microsoft.network/privatelinkservices";
}

function instanceNames(instanceId: string): { name: string; resourceGroup: string } {
  const parsed = parseResourceId(instanceId);
  const name = parsed?.resourceGroup !== undefined ? parsed.segments.at(-1)?.[1] : undefined;
  return { name: name ?? instanceId, resourceGroup: parsed?.resourceGroup ?? "<resource-group>" };
}

/** What a type is called in messages: "API Management instance", "Storage account", ... */
function kindOf(provider: PrivateLinkProvider | undefined): string {
  return provider === undefined ? "Resource" : isApim(provider) ? "Instance" : provider.displayName;
}

/** The portal blade where a type's private endpoint connections are decided. */
function connectionsBlade(provider: PrivateLinkProvider): string {
  if (isApim(provider)) return "API Management service > Network > Inbound private endpoint connections";
  if (provider.publicNetworkAccess === undefined && provider.groups.length === 0) return `${provider.displayName} > Private endpoint connections`;
  return `${provider.displayName} > Networking > Private endpoint connections`;
}

/**
 * The `--subscription ID ` flag (with its trailing space) for an az command on a resource. Every az command in a
 * finding names the resource's subscription: az otherwise runs against whatever subscription the reader last
 * selected, and in hub-and-spoke estates zones, instances and endpoints rarely share one.
 */
function subscriptionFlag(resourceId: string): string {
  const subscription = parseResourceId(resourceId)?.subscriptionId ?? /^\/subscriptions\/([^/]+)/i.exec(resourceId)?.[1];
  return subscription === undefined ? "" : `--subscription ${subscription} `;
}

function subscriptionOf(resourceId: string): string | undefined {
  return parseResourceId(resourceId)?.subscriptionId?.toLowerCase();
}

function zoneNames(zoneId: string): { zone: string; resourceGroup: string } {
  const parsed = parseResourceId(zoneId);
  return { zone: parsed?.segments.at(-1)?.[1] ?? zoneId, resourceGroup: parsed?.resourceGroup ?? "<resource-group>" };
}

function hoursSince(iso: string, now: Date): number {
  return (now.getTime() - Date.parse(iso)) / 3_600_000;
}

function describeFailure(failure: ReadFailure): string {
  return `${failure.kind}${failure.code ? ` (${failure.code})` : ""}: ${failure.message}`;
}

function connectionsWithStatus(snapshot: InstanceSnapshot, status: PrivateEndpointConnection["status"]) {
  return snapshot.connections.filter((c) => c.connection.status === status);
}

function isExempt(instanceId: string, policy: AuditPolicy): boolean {
  const key = resourceIdKey(instanceId);
  return policy.publicAccessExemptIds.some((id) => resourceIdKey(id) === key);
}

function dnsRecords(subject: AuditSubject): readonly RecordAnalysis[] {
  return subject.kind === "instance" && subject.snapshot.failure === undefined ? subject.dns.records : [];
}

function recordRemediationFor(record: RecordAnalysis, verb: "add-record" | "remove-record", ips: readonly string[]): string {
  const { zone, resourceGroup } = zoneNames(record.zone.zoneId);
  return ips
    .map((ip) => `az network private-dns record-set a ${verb} ${subscriptionFlag(record.zone.zoneId)}--resource-group ${resourceGroup} --zone-name ${zone} --record-set-name ${record.recordName} --ipv4-address ${ip}`)
    .join(" && ");
}

/** Whether a publicNetworkAccess value closes public access for a type (unknown counts as open: Azure's default is Enabled). */
export function isPublicAccessClosed(value: string | undefined, shape: PublicNetworkAccessShape): boolean {
  if (value === undefined) return false;
  const v = value.toLowerCase();
  return v === shape.disabled.toLowerCase() || (v === PERIMETER_PUBLIC_ACCESS.toLowerCase() && shape.values.some((x) => x.toLowerCase() === v));
}

/** The connection limit a type publishes and the count from which capacity is reported (the policy's share of it). */
export function capacityThresholds(provider: PrivateLinkProvider, policy: AuditPolicy): { limit: number; warnAt: number } | undefined {
  const limit = provider.maxConnections;
  if (limit === undefined) return undefined;
  return { limit, warnAt: Math.min(limit, Math.ceil((limit * policy.capacityWarning) / 100)) };
}

// ---------------------------------------------------------------------------------------------------------
// The checks, in the order they run.

/** An instance whose read failed is reported, so the run can carry on without hiding it. */
function instanceCouldNotBeRead(subject: AuditSubject): Observation[] {
  if (subject.kind !== "instance" || subject.snapshot.failure === undefined) return [];
  const { instanceId, failure, provider } = subject.snapshot;
  const { name } = instanceNames(instanceId);
  const listing = parseResourceId(instanceId)?.resourceGroup === undefined;
  const what = provider === undefined ? "resources" : `${provider.displayName} resources`;
  return [
    observe({
      checkId: "instance-unreadable",
      severity: "high",
      instanceId,
      resourceId: instanceId,
      message: listing
        ? `The ${what} of ${instanceId} could not be listed (${failure.kind}); none of them was audited this time.`
        : failure.kind === "not-found"
          ? `Managed ${kindOf(provider).toLowerCase()} ${name} was not found; it is configured but does not exist (or is not visible to Portcullis).`
          : `Managed ${kindOf(provider).toLowerCase()} ${name} could not be read (${failure.kind}); none of its checks ran this time.`,
      evidence: { expected: "the resource and its connections readable", actual: describeFailure(failure), details: { kind: failure.kind, code: failure.code ?? null } },
      remediation: {
        portal: `${provider?.displayName ?? "The resource"} > Access control (IAM): give Portcullis' managed identity the roles infra/ deploys for the type (or remove it from the managed resources).`,
        azCli: listing
          ? `az resource list ${subscriptionFlag(instanceId)}--resource-type ${provider?.resourceType ?? "<type>"}`
          : `az resource show --ids "${instanceId}"`,
      },
    }),
  ];
}

/**
 * A classic-tier instance needs the stv2 platform for inbound private endpoints; stv1 (or unknown) cannot take them.
 * v2-tier instances are judged by their tier alone (see V2_TIERS).
 */
function platformIsNotStv2(subject: AuditSubject): Observation[] {
  const snapshot = apimInstance(subject);
  if (!snapshot || !snapshot.provider.prerequisites.includes("apim-stv2-platform")) return [];
  if (isV2Tier(snapshot.service.skuName)) return [];
  const platform = snapshot.service.platformVersion;
  if (platform !== undefined && SUPPORTED_PLATFORMS.includes(platform.toLowerCase())) return [];
  const { name } = instanceNames(snapshot.instanceId);
  return [
    observe({
      checkId: "prerequisite-platform",
      severity: "high",
      instanceId: snapshot.instanceId,
      resourceId: snapshot.instanceId,
      message: `Instance ${name} runs on platform ${platform ?? "(unknown)"}; inbound private endpoints need stv2 or stv2.1.`,
      evidence: { expected: SUPPORTED_PLATFORMS.join(" or "), actual: platform ?? "(not reported)" },
      remediation: {
        portal: "API Management service > Platform migration: migrate the instance to the stv2 platform.",
        azCli: `az rest --method post --url "https://management.azure.com${snapshot.instanceId}/migrateToStv2?api-version=${snapshot.provider.apiVersion}" --body '{"mode":"PreserveIp"}'`,
      },
    }),
  ];
}

/** An instance injected into a VNet (External/Internal) cannot take inbound private endpoints. */
function instanceIsInjectedIntoAVirtualNetwork(subject: AuditSubject): Observation[] {
  const snapshot = apimInstance(subject);
  if (!snapshot || !snapshot.provider.prerequisites.includes("apim-not-vnet-injected")) return [];
  const type = snapshot.service.virtualNetworkType;
  if (type !== undefined && type.toLowerCase() === "none") return [];
  const { name, resourceGroup } = instanceNames(snapshot.instanceId);
  return [
    observe({
      checkId: "prerequisite-vnet-injection",
      severity: "high",
      instanceId: snapshot.instanceId,
      resourceId: snapshot.instanceId,
      message: `Instance ${name} has virtualNetworkType ${type ?? "(unknown)"}; inbound private endpoints need an instance that is not injected into a VNet.`,
      evidence: { expected: "None", actual: type ?? "(not reported)" },
      remediation: {
        portal: "API Management service > Network > Virtual network: set it to None (then use private endpoints for inbound traffic).",
        azCli: `az apim update ${subscriptionFlag(snapshot.instanceId)}--name ${name} --resource-group ${resourceGroup} --virtual-network None`,
      },
    }),
  ];
}

/** Only the tiers of SUPPORTED_TIERS take inbound private endpoints (Consumption and Basic v2 do not). */
function tierDoesNotSupportInboundPrivateEndpoints(subject: AuditSubject): Observation[] {
  const snapshot = apimInstance(subject);
  if (!snapshot) return [];
  const sku = snapshot.service.skuName;
  if (sku !== undefined && SUPPORTED_TIERS.some((t) => t.toLowerCase() === sku.toLowerCase())) return [];
  const { name, resourceGroup } = instanceNames(snapshot.instanceId);
  return [
    observe({
      checkId: "prerequisite-tier",
      severity: "high",
      instanceId: snapshot.instanceId,
      resourceId: snapshot.instanceId,
      message: `Instance ${name} is on the ${sku ?? "(unknown)"} tier, which does not support inbound private endpoints.`,
      evidence: { expected: SUPPORTED_TIERS.join(", "), actual: sku ?? "(not reported)" },
      remediation: {
        portal: "API Management service > Pricing tier: choose Developer, Basic, Standard, Premium, Standard v2 or Premium v2.",
        azCli: `az apim update ${subscriptionFlag(snapshot.instanceId)}--name ${name} --resource-group ${resourceGroup} --sku-name Premium`,
      },
    }),
  ];
}

function isV2Tier(skuName: string | undefined): boolean {
  return skuName !== undefined && V2_TIERS.some((tier) => tier.toLowerCase() === skuName.toLowerCase());
}

/** Service Bus namespaces and container registries take private endpoints only on the Premium tier (an unknown SKU fails closed). */
function skuIsNotPremium(subject: AuditSubject): Observation[] {
  const snapshot = readableInstance(subject);
  if (!snapshot || !snapshot.provider.prerequisites.includes("premium-sku")) return [];
  const sku = snapshot.resource.skuName;
  if (sku !== undefined && sku.toLowerCase() === PREMIUM_SKU.toLowerCase()) return [];
  const { name } = instanceNames(snapshot.instanceId);
  return [
    observe({
      checkId: "prerequisite-premium-sku",
      severity: "high",
      instanceId: snapshot.instanceId,
      resourceId: snapshot.instanceId,
      message: `${snapshot.provider.displayName} ${name} is on the ${sku ?? "(unknown)"} tier; private endpoints need ${PREMIUM_SKU}.`,
      evidence: { expected: PREMIUM_SKU, actual: sku ?? "(not reported)" },
      remediation: {
        portal: `${snapshot.provider.displayName} > Overview > Pricing tier (or Scale): move it to ${PREMIUM_SKU}.`,
        azCli: `az resource update --ids "${snapshot.instanceId}" --set sku.name=${PREMIUM_SKU} sku.tier=${PREMIUM_SKU}`,
      },
    }),
  ];
}

/**
 * Public network access must be closed where the policy requires it (by default once an approved connection exists;
 * exempt instances never), for every type that has the property. Where Azure refuses the disabled value without an
 * approved connection (APIM), that case is reported as its own finding rather than as a failure.
 */
function publicNetworkAccessIsEnabledWhereDisabledIsRequired(subject: AuditSubject, context: CheckContext): Observation[] {
  const snapshot = readableInstance(subject);
  const shape = snapshot?.provider.publicNetworkAccess;
  if (!snapshot || shape === undefined || isExempt(snapshot.instanceId, context.policy)) return [];
  const approved = connectionsWithStatus(snapshot, "Approved").length;
  const required = context.policy.publicAccessDisabledRequired === "always" || approved > 0;
  const actual = snapshot.resource.publicNetworkAccess;
  if (!required || isPublicAccessClosed(actual, shape)) return [];
  const { name } = instanceNames(snapshot.instanceId);
  const kind = kindOf(snapshot.provider);
  const shown = actual ?? "(not reported, Azure's default is Enabled)";
  if (approved === 0 && shape.disableNeedsApprovedConnection === true) {
    return [
      observe({
        checkId: "public-network-access",
        severity: "medium",
        instanceId: snapshot.instanceId,
        resourceId: snapshot.instanceId,
        discriminator: "cannot-disable",
        message: `${kind} ${name} must have public network access ${shape.disabled}, but Azure refuses that until a private endpoint connection is approved.`,
        evidence: { expected: `${shape.disabled} (needs at least one approved connection)`, actual: `${shown}; approved connections: 0` },
        remediation: {
          portal: `${connectionsBlade(snapshot.provider)}: approve a connection, then disable public network access.`,
          azCli: `az network private-endpoint-connection list --id "${snapshot.instanceId}"`,
        },
      }),
    ];
  }
  return [
    observe({
      checkId: "public-network-access",
      severity: "high",
      instanceId: snapshot.instanceId,
      resourceId: snapshot.instanceId,
      discriminator: "enabled",
      message: approved > 0
        ? `${kind} ${name} has public network access ${actual ?? "Enabled (not reported)"} although it has ${approved} approved private endpoint connection(s).`
        : `${kind} ${name} has public network access ${actual ?? "Enabled (not reported)"}; the policy requires it ${shape.disabled} always.`,
      evidence: { expected: closedValuesText(shape), actual: shown, details: { approvedConnections: approved } },
      remediation: publicAccessRemediation(snapshot, shape),
    }),
  ];
}

function closedValuesText(shape: PublicNetworkAccessShape): string {
  return shape.values.some((v) => v.toLowerCase() === PERIMETER_PUBLIC_ACCESS.toLowerCase()) ? `${shape.disabled} (or ${PERIMETER_PUBLIC_ACCESS})` : shape.disabled;
}

function publicAccessRemediation(snapshot: ReadableInstance, shape: PublicNetworkAccessShape): Remediation {
  const { name, resourceGroup } = instanceNames(snapshot.instanceId);
  if (isApim(snapshot.provider)) {
    return {
      portal: "API Management service > Network > Public network access: select Disable, then Save.",
      azCli: `az apim update ${subscriptionFlag(snapshot.instanceId)}--name ${name} --resource-group ${resourceGroup} --public-network-access false`,
    };
  }
  return {
    portal: `${snapshot.provider.displayName} > Networking > Public network access: select Disable, then Save.`,
    azCli: `az resource update --ids "${snapshot.instanceId}" --api-version ${snapshot.provider.apiVersion} --set properties.${shape.property}=${shape.disabled}`,
  };
}

/** A type's published connection limit (APIM 100, Private Link Service 1000); a warning comes first from the policy's share of it. */
function connectionCountApproachesTheLimit(subject: AuditSubject, context: CheckContext): Observation[] {
  const snapshot = readableInstance(subject);
  const thresholds = snapshot && capacityThresholds(snapshot.provider, context.policy);
  if (!snapshot || thresholds === undefined) return [];
  const { limit, warnAt } = thresholds;
  const count = snapshot.connections.length;
  if (count < warnAt) return [];
  const atLimit = count >= limit;
  const { name } = instanceNames(snapshot.instanceId);
  const kind = kindOf(snapshot.provider);
  return [
    observe({
      checkId: "capacity",
      severity: atLimit ? "high" : "medium",
      instanceId: snapshot.instanceId,
      resourceId: snapshot.instanceId,
      message: atLimit
        ? `${kind} ${name} has ${count} private endpoint connections: the limit of ${limit} is reached and new endpoints will fail.`
        : `${kind} ${name} has ${count} private endpoint connections, approaching the limit of ${limit}.`,
      evidence: { expected: `fewer than ${warnAt} connections (limit ${limit})`, actual: `${count} connections`, details: { count, limit } },
      remediation: {
        portal: `${connectionsBlade(snapshot.provider)}: remove rejected or unused connections.`,
        azCli: `az network private-endpoint-connection list --id "${snapshot.instanceId}" --query "[?properties.privateLinkServiceConnectionState.status!='Approved'].id"`,
      },
    }),
  ];
}

/**
 * A Private Link Service approves connections from its `autoApproval` subscriptions itself: they never reach
 * Portcullis' rules. Reported always (naming them), and as high when a rule (or the default action) would reject a
 * connection from such a subscription: Azure approves what the rules forbid.
 */
function autoApprovalBypassesTheRules(subject: AuditSubject, context: CheckContext): Observation[] {
  const snapshot = readableInstance(subject);
  const lists = snapshot?.resource.privateLinkService;
  if (!snapshot || !IS_PRIVATE_LINK_SERVICE(snapshot.provider) || lists === undefined || lists.autoApprovalSubscriptions.length === 0) return [];
  const subscriptions = [...lists.autoApprovalSubscriptions].sort();
  const rejectedBy = subscriptions.flatMap((subscriptionId) => {
    const verdict = ruleVerdictFor(snapshot.instanceId, subscriptionId, context.rules, context.now);
    return verdict === undefined ? [] : [{ subscriptionId, ...verdict }];
  });
  const { name, resourceGroup } = instanceNames(snapshot.instanceId);
  return [
    observe({
      checkId: "private-link-service-auto-approval",
      severity: rejectedBy.length > 0 ? "high" : "medium",
      instanceId: snapshot.instanceId,
      resourceId: snapshot.instanceId,
      message:
        `Private Link Service ${name} auto-approves connections from ${subscriptions.length} subscription(s) (${subscriptions.join(", ")}); Azure approves those itself, bypassing Portcullis' rules` +
        (rejectedBy.length > 0 ? `, and the rules would reject ${rejectedBy.map((r) => `${r.subscriptionId} (${r.decidedBy})`).join(", ")}.` : "."),
      evidence: {
        expected: "no auto-approved subscriptions (Portcullis' rules decide every connection)",
        actual: `autoApproval.subscriptions: ${subscriptions.join(", ")}`,
        details: { autoApprovalSubscriptions: subscriptions, rejectedByRules: rejectedBy },
      },
      remediation: {
        portal: `Private Link Service ${name} > Properties (or the template): remove the subscriptions from Auto-approval, and let a Portcullis rule approve them.`,
        azCli: `az network private-link-service update ${subscriptionFlag(snapshot.instanceId)}--resource-group ${resourceGroup} --name ${name} --auto-approval ""`,
      },
    }),
  ];
}

/** "rule deny-x" or "the default action" when the rules would reject a connection from `subscriptionId`; undefined otherwise or when unknown. */
function ruleVerdictFor(resourceId: string, subscriptionId: string, rules: RulesInForce | undefined, now: Date): { decidedBy: string } | undefined {
  if (rules === undefined || rules.ruleSet.status !== "usable") return undefined;
  const evaluation = evaluateRules(
    { connectionId: `${resourceId}/privateEndpointConnections/auto-approved`, resourceId, requesterSubscriptionId: subscriptionId, groupIds: [] },
    rules.ruleSet,
    { now, defaultAction: rules.defaultAction },
  );
  if (evaluation.action !== "reject") return undefined;
  return { decidedBy: evaluation.decidedBy.kind === "rule" ? `rule ${evaluation.decidedBy.ruleId}` : "the default action" };
}

/** A Private Link Service visible to every subscription ("*") lets anyone request a connection. */
function serviceIsVisibleToEveryone(subject: AuditSubject): Observation[] {
  const snapshot = readableInstance(subject);
  const lists = snapshot?.resource.privateLinkService;
  if (!snapshot || !IS_PRIVATE_LINK_SERVICE(snapshot.provider) || lists === undefined || !lists.visibilitySubscriptions.includes("*")) return [];
  const { name, resourceGroup } = instanceNames(snapshot.instanceId);
  return [
    observe({
      checkId: "private-link-service-visibility",
      severity: "medium",
      instanceId: snapshot.instanceId,
      resourceId: snapshot.instanceId,
      message: `Private Link Service ${name} is visible to every subscription (visibility "*"): anyone can find it and request a connection.`,
      evidence: { expected: "visibility limited to the subscriptions that may connect", actual: `visibility.subscriptions: ${lists.visibilitySubscriptions.join(", ")}` },
      remediation: {
        portal: `Private Link Service ${name} > Properties: restrict Visibility to the subscriptions that may connect.`,
        azCli: `az network private-link-service update ${subscriptionFlag(snapshot.instanceId)}--resource-group ${resourceGroup} --name ${name} --visibility <subscription-id> ...`,
      },
    }),
  ];
}

/** A Pending connection waits for a human; past the configured age it is reported (age from when first seen). */
function connectionIsPendingTooLong(subject: AuditSubject, context: CheckContext): Observation[] {
  const snapshot = readableInstance(subject);
  if (!snapshot) return [];
  return connectionsWithStatus(snapshot, "Pending").flatMap(({ connection, history }) => {
    const since = history.firstRecordedAt ?? history.statusSeenSince;
    if (since === undefined) return [];
    const hours = hoursSince(since, context.now);
    if (hours <= context.policy.pendingMaxAgeHours) return [];
    return [
      observe({
        checkId: "pending-too-long",
        severity: "medium",
        instanceId: snapshot.instanceId,
        resourceId: connection.id,
        message: `Connection ${connection.name} has been Pending for ${Math.floor(hours)} h (more than ${context.policy.pendingMaxAgeHours} h) since first seen.`,
        evidence: { expected: `decided within ${context.policy.pendingMaxAgeHours} h`, actual: `Pending since ${since}`, details: { firstSeenAt: since, privateEndpointId: connection.privateEndpointId ?? null } },
        remediation: {
          portal: `${connectionsBlade(snapshot.provider)}: select the connection, then Approve or Reject (or decide it through the Portcullis API with a ticket).`,
          azCli: `az network private-endpoint-connection approve --id "${connection.id}" --description "<ticket and reason>"`,
        },
      }),
    ];
  });
}

/** An Approved connection with no approving decision in the log was approved outside Portcullis. */
function connectionWasApprovedOutsidePortcullis(subject: AuditSubject): Observation[] {
  const snapshot = readableInstance(subject);
  if (!snapshot) return [];
  return connectionsWithStatus(snapshot, "Approved")
    .filter(({ history }) => history.approvedAt === undefined)
    .map(({ connection }) =>
      observe({
        checkId: "unexplained-approval",
        severity: "high",
        instanceId: snapshot.instanceId,
        resourceId: connection.id,
        message: `Connection ${connection.name} is Approved but no Portcullis decision approved it (approved outside Portcullis).`,
        evidence: {
          expected: "an approving decision in the Portcullis decision log",
          actual: "none",
          details: { privateEndpointId: connection.privateEndpointId ?? null, description: connection.description ?? null },
        },
        remediation: {
          portal: `Confirm the approval with the resource owner; if it is not wanted, ${connectionsBlade(snapshot.provider)} > Reject.`,
          azCli: `az network private-endpoint-connection reject --id "${connection.id}" --description "Not approved through Portcullis"`,
        },
      }),
    );
}

/** Rejected connections still count as connections of the resource (towards its limit where one is published); past the configured age they should be deleted. */
function rejectedConnectionLingers(subject: AuditSubject, context: CheckContext): Observation[] {
  const snapshot = readableInstance(subject);
  if (!snapshot) return [];
  const limit = snapshot.provider.maxConnections;
  return connectionsWithStatus(snapshot, "Rejected").flatMap(({ connection, history }) => {
    const since = history.rejectedAt ?? history.statusSeenSince;
    if (since === undefined) return [];
    const days = hoursSince(since, context.now) / 24;
    if (days <= context.policy.rejectedMaxAgeDays) return [];
    return [
      observe({
        checkId: "lingering-rejected",
        severity: "low",
        instanceId: snapshot.instanceId,
        resourceId: connection.id,
        message:
          `Connection ${connection.name} has been Rejected for ${Math.floor(days)} days (more than ${context.policy.rejectedMaxAgeDays}); ` +
          (limit !== undefined ? `it still counts towards the limit of ${limit}.` : "it still clutters the resource's connections."),
        evidence: { expected: `deleted within ${context.policy.rejectedMaxAgeDays} days of rejection`, actual: `Rejected since ${since}` },
        remediation: {
          portal: `${connectionsBlade(snapshot.provider)}: select the connection, then Remove.`,
          azCli: `az network private-endpoint-connection delete --id "${connection.id}" --yes`,
        },
      }),
    ];
  });
}

/** An approved connection whose endpoint cannot be read leaves its DNS unchecked; say so instead of passing it. */
function approvedEndpointCouldNotBeRead(subject: AuditSubject): Observation[] {
  const snapshot = readableInstance(subject);
  if (!snapshot) return [];
  return connectionsWithStatus(snapshot, "Approved").flatMap(({ connection, endpointFailure }) => {
    if (endpointFailure === undefined) return [];
    const gone = endpointFailure.kind === "not-found";
    return [
      observe({
        checkId: "endpoint-unreadable",
        severity: gone ? "medium" : "low",
        instanceId: snapshot.instanceId,
        resourceId: connection.id,
        message: gone
          ? `Connection ${connection.name} is Approved but its private endpoint no longer exists.`
          : `The private endpoint of connection ${connection.name} could not be read (${endpointFailure.kind}); its DNS was not checked.`,
        evidence: {
          expected: "the consumer's private endpoint readable",
          actual: describeFailure(endpointFailure),
          details: { privateEndpointId: connection.privateEndpointId ?? null, kind: endpointFailure.kind },
        },
        remediation: gone
          ? {
              portal: `${connectionsBlade(snapshot.provider)}: remove the orphaned connection.`,
              azCli: `az network private-endpoint-connection delete --id "${connection.id}" --yes`,
            }
          : {
              portal: "Ask the endpoint's owner to grant Portcullis' identity Reader on the private endpoint and its NIC (cross-tenant endpoints cannot be read).",
              azCli: `az network private-endpoint show --ids "${connection.privateEndpointId ?? "<private-endpoint-id>"}"`,
            },
      }),
    ];
  });
}

/** A configured or zone-group DNS zone that cannot be read leaves DNS drift unchecked for it. */
function dnsZoneCouldNotBeRead(subject: AuditSubject): Observation[] {
  if (subject.kind !== "estate") return [];
  return subject.estate.unreadableZones.map(({ zoneId, failure }) => {
    const { zone, resourceGroup } = zoneNames(zoneId);
    return observe({
      checkId: "dns-zone-unreadable",
      severity: "medium",
      instanceId: undefined,
      resourceId: zoneId,
      message: `Private DNS zone ${zone} could not be read (${failure.kind}); DNS drift for it was not checked.`,
      evidence: { expected: "the zone, its A records and VNet links readable", actual: describeFailure(failure) },
      remediation: {
        portal: "Private DNS zone > Access control (IAM): give Portcullis' managed identity the Reader role (or fix PORTCULLIS_DNS_ZONE_IDS).",
        azCli: `az network private-dns zone show ${subscriptionFlag(zoneId)}--resource-group ${resourceGroup} --name ${zone}`,
      },
    });
  });
}

/** An approved endpoint needs the instance's A record in each zone it resolves through. */
function recordIsMissing(subject: AuditSubject): Observation[] {
  if (subject.kind !== "instance") return [];
  return dnsRecords(subject)
    .filter((r) => r.record === undefined && r.targetingEndpoints.length > 0)
    .map((r) =>
      observe({
        checkId: "dns-record-missing",
        severity: "high",
        instanceId: subject.snapshot.instanceId,
        resourceId: r.recordId,
        message: `The A record ${r.recordName} is missing from zone ${zoneNames(r.zone.zoneId).zone}; clients cannot resolve the resource to its private endpoint.`,
        evidence: { expected: r.expectedIps.join(", "), actual: "(no record)", details: { zoneId: r.zone.zoneId, expectedIps: r.expectedIps } },
        remediation: {
          portal: `Private DNS zone ${zoneNames(r.zone.zoneId).zone} > Record sets > + Record set: type A, name ${r.recordName}, the endpoint IP(s).`,
          azCli: recordRemediationFor(r, "add-record", r.expectedIps),
        },
      }),
    );
}

/** The record exists but lacks an approved endpoint's IP: clients resolve to the wrong address. */
function recordLacksEndpointIps(subject: AuditSubject): Observation[] {
  if (subject.kind !== "instance") return [];
  return dnsRecords(subject)
    .filter((r) => r.record !== undefined && r.missingIps.length > 0)
    .map((r) =>
      observe({
        checkId: "dns-record-wrong-ips",
        severity: "high",
        instanceId: subject.snapshot.instanceId,
        resourceId: r.recordId,
        message: `The A record ${r.recordName} in zone ${zoneNames(r.zone.zoneId).zone} lacks ${r.missingIps.join(", ")} of its approved endpoint(s).`,
        evidence: {
          expected: r.expectedIps.join(", "),
          actual: r.actualIps.join(", ") || "(empty)",
          details: { zoneId: r.zone.zoneId, missingIps: r.missingIps },
        },
        remediation: {
          portal: `Private DNS zone ${zoneNames(r.zone.zoneId).zone} > Record sets > ${r.recordName}: set the IP addresses to ${r.expectedIps.join(", ")}.`,
          azCli: recordRemediationFor(r, "add-record", r.missingIps),
        },
      }),
    );
}

/** IPs in the record that belong to no approved endpoint (deleted or rejected) send clients nowhere. */
function recordHoldsStaleIps(subject: AuditSubject): Observation[] {
  if (subject.kind !== "instance") return [];
  return dnsRecords(subject)
    .filter((r) => r.staleIps.length > 0)
    .map((r) =>
      observe({
        checkId: "dns-stale-ips",
        severity: "medium",
        instanceId: subject.snapshot.instanceId,
        resourceId: r.recordId,
        message: `The A record ${r.recordName} in zone ${zoneNames(r.zone.zoneId).zone} holds ${r.staleIps.join(", ")}, which belong(s) to no approved private endpoint.`,
        evidence: {
          expected: r.expectedIps.join(", ") || "(no record: no approved endpoint uses this zone)",
          actual: r.actualIps.join(", "),
          details: { zoneId: r.zone.zoneId, staleIps: r.staleIps },
        },
        remediation: {
          portal: `Private DNS zone ${zoneNames(r.zone.zoneId).zone} > Record sets > ${r.recordName}: remove ${r.staleIps.join(", ")}.`,
          azCli: recordRemediationFor(r, "remove-record", r.staleIps),
        },
      }),
    );
}

/**
 * A record Portcullis wrote whose IPs someone changed since (a failover IP added by hand, say): Portcullis no
 * longer repairs it, and says so, rather than revert a human or silently stop looking after it.
 */
function recordDriftedFromWhatPortcullisWrote(subject: AuditSubject): Observation[] {
  if (subject.kind !== "instance") return [];
  return dnsRecords(subject).flatMap((r) => {
    if (r.ownership.kind !== "drifted") return [];
    const { written } = r.ownership;
    const { zone, resourceGroup } = zoneNames(r.zone.zoneId);
    return [
      observe({
        checkId: "dns-record-drifted",
        severity: "medium",
        instanceId: subject.snapshot.instanceId,
        resourceId: r.recordId,
        message:
          `The A record ${r.recordName} in zone ${zone} was changed since Portcullis wrote it on ${written.writtenAt} ` +
          `(it wrote ${written.ipv4Addresses.join(", ") || "(no IPs)"}; it now holds ${r.actualIps.join(", ") || "(no IPs)"}). ` +
          `Portcullis leaves a changed record alone and no longer repairs it.`,
        evidence: {
          expected: `the IPs Portcullis last wrote: ${written.ipv4Addresses.join(", ")}`,
          actual: r.actualIps.join(", ") || "(empty)",
          details: { zoneId: r.zone.zoneId, writtenIps: written.ipv4Addresses, writtenEtag: written.etag, writtenAt: written.writtenAt, currentEtag: r.record?.etag ?? null },
        },
        remediation: {
          portal:
            `Private DNS zone ${zone} > Record sets > ${r.recordName}: if the change is intended, keep it (Portcullis will not revert it) and suppress this finding; ` +
            `to hand the record back to Portcullis, set its IPs back to ${written.ipv4Addresses.join(", ")}, or delete it so the next audit recreates it.`,
          azCli: `az network private-dns record-set a show ${subscriptionFlag(r.zone.zoneId)}--resource-group ${resourceGroup} --zone-name ${zone} --name ${r.recordName}`,
        },
      }),
    ];
  });
}

/** Approved endpoints from different VNets share one record: last writer wins and one VNet breaks. */
function endpointsFromSeveralVnetsCompeteForOneRecord(subject: AuditSubject): Observation[] {
  if (subject.kind !== "instance") return [];
  return dnsRecords(subject)
    .filter((r) => r.targetingVirtualNetworkIds.length >= 2)
    .map((r) =>
      observe({
        checkId: "dns-competing-endpoints",
        severity: "high",
        instanceId: subject.snapshot.instanceId,
        resourceId: r.recordId,
        message: `Approved endpoints from ${r.targetingVirtualNetworkIds.length} VNets compete for the A record ${r.recordName} in zone ${zoneNames(r.zone.zoneId).zone}; one record cannot serve each VNet its own endpoint.`,
        evidence: {
          expected: "approved endpoints for one record from a single VNet",
          actual: r.targetingVirtualNetworkIds.join(", "),
          details: {
            zoneId: r.zone.zoneId,
            endpoints: r.targetingEndpoints.map((e) => ({ endpointId: e.endpointId, virtualNetworkId: e.virtualNetworkId ?? null, privateIps: e.privateIps })),
          },
        },
        remediation: {
          portal: `Give each VNet its own ${zoneNames(r.zone.zoneId).zone} zone (linked only to that VNet), or keep a single endpoint per record; Portcullis does not repair this record automatically.`,
          azCli: `az network private-dns zone create --subscription <vnet-subscription> --resource-group <vnet-resource-group> --name ${zoneNames(r.zone.zoneId).zone}`,
        },
      }),
    );
}

/** How to fix a missing link: link it ourselves when the VNet is in our estate, else ask the VNet's owner. */
function zoneLinkRemediation(zoneId: string, vnetId: string, endpointIds: readonly string[], context: CheckContext): Remediation {
  const { zone, resourceGroup } = zoneNames(zoneId);
  const vnetName = vnetId.split("/").at(-1) ?? vnetId;
  const vnetSubscription = subscriptionOf(vnetId);
  const ours = new Set([...context.estateSubscriptionIds.map((s) => s.toLowerCase()), subscriptionOf(zoneId)]);
  if (vnetSubscription !== undefined && ours.has(vnetSubscription)) {
    return {
      portal: `Private DNS zone ${zone} > Virtual network links > + Add: select ${vnetName}, auto-registration off.`,
      azCli: `az network private-dns link vnet create ${subscriptionFlag(zoneId)}--resource-group ${resourceGroup} --zone-name ${zone} --name ${vnetName}-link --virtual-network "${vnetId}" --registration-enabled false`,
    };
  }
  // Another tenant's VNet (or one whose tenant is unknown here): linking our zone into it is not ours to do.
  const endpoint = endpointIds[0] ?? "<private-endpoint-id>";
  const endpointName = endpoint.split("/").at(-1) ?? endpoint;
  const endpointGroup = parseResourceId(endpoint)?.resourceGroup ?? "<resource-group>";
  return {
    portal:
      `VNet ${vnetName} is in subscription ${vnetSubscription ?? "(unknown)"}, outside the subscriptions Portcullis manages, so it may belong to another tenant: ` +
      `do not link this zone into it. Ask the VNet's owner to resolve the name in a ${zone} zone of their own linked to ${vnetName} ` +
      `(for example a DNS zone group on their private endpoint ${endpointName}).`,
    azCli: `# for the VNet's owner, in their own subscription: az network private-endpoint dns-zone-group create ${subscriptionFlag(endpoint)}--resource-group ${endpointGroup} --endpoint-name ${endpointName} --name default --zone-name ${zone.replace(/^privatelink\./, "").replace(/\./g, "-")} --private-dns-zone "<their ${zone} zone ID>"`,
  };
}

/** A zone resolves only from the VNets linked to it; an approved endpoint's VNet must be linked. */
function zoneIsNotLinkedToTheEndpointVnet(subject: AuditSubject, context: CheckContext): Observation[] {
  if (subject.kind !== "instance") return [];
  const instanceId = subject.snapshot.instanceId;
  const seen = new Set<string>();
  // One finding per (zone, VNet): several records of one instance in a zone (Cosmos DB's regional names) share it.
  return dnsRecords(subject).flatMap((r) =>
    r.unlinkedVirtualNetworkIds.filter((vnetId) => {
      const key = `${resourceIdKey(r.zone.zoneId)}|${resourceIdKey(vnetId)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }).map((vnetId) => {
      const { zone } = zoneNames(r.zone.zoneId);
      const endpointIds = r.targetingEndpoints.filter((e) => e.virtualNetworkId !== undefined && resourceIdKey(e.virtualNetworkId) === resourceIdKey(vnetId)).map((e) => e.endpointId);
      return observe({
        checkId: "dns-zone-not-linked",
        severity: "medium",
        instanceId,
        resourceId: r.zone.zoneId,
        discriminator: `${resourceIdKey(vnetId)}|${resourceIdKey(instanceId)}`,
        message: `Zone ${zone} is not linked to VNet ${vnetId.split("/").at(-1)}, where an approved endpoint of ${instanceNames(instanceId).name} lives; that VNet cannot resolve the record.`,
        evidence: { expected: `a virtual network link to ${vnetId}`, actual: linkedVnetsText(r.zone), details: { virtualNetworkId: vnetId } },
        remediation: zoneLinkRemediation(r.zone.zoneId, vnetId, endpointIds, context),
      });
    }),
  );
}

function linkedVnetsText(zone: ZoneSnapshot): string {
  return zone.linkedVirtualNetworkIds.length === 0 ? "(no VNet links)" : `linked to ${zone.linkedVirtualNetworkIds.join(", ")}`;
}

/** Stored rules that do not parse make the engine fail closed: nothing is decided automatically. */
function ruleSetIsUnusable(subject: AuditSubject): Observation[] {
  if (subject.kind !== "estate" || subject.estate.rules.status === "usable") return [];
  const problems = subject.estate.rules.problems;
  return [
    observe({
      checkId: "rules-unusable",
      severity: "critical",
      instanceId: undefined,
      resourceId: RULE_SET_RESOURCE_ID,
      message: `The stored rule set is unusable (${problems.length} problem(s)); the engine decides nothing automatically until it is fixed.`,
      evidence: { expected: "every stored rule parses", actual: problems.join("; ") || "unusable", details: { problems } },
      remediation: {
        portal: "Fix or delete the broken rules through the Portcullis API (GET /api/rules lists them; PUT /api/rules/{id} with If-Match).",
        azCli: "az rest --method get --url \"https://<portcullis-app>.azurewebsites.net/api/rules\" --resource \"<portcullis-api-app-id>\"",
      },
    }),
  ];
}

const EVERY_TYPE = (): boolean => true;
const NO_TYPE = (): boolean => false;
const HAS_DNS_ZONES = (p: PrivateLinkProvider): boolean => p.groups.some((g) => g.dnsZones.length > 0);

/** Every check, keyed by its ID, in the order it runs. Unknown IDs do not exist: there is no registry elsewhere. */
export const AUDIT_CHECKS = {
  "instance-unreadable": {
    title: "Resource could not be read",
    description: "A managed resource (or a subscription's listing of a managed type) whose read failed; its other checks did not run in this audit.",
    appliesTo: EVERY_TYPE,
    evaluate: instanceCouldNotBeRead,
  },
  "prerequisite-platform": {
    title: "Instance is not on the stv2 platform",
    description: "A classic-tier APIM instance needs the stv2 (or stv2.1) compute platform for inbound private endpoints; v2 tiers are judged by tier.",
    appliesTo: (p) => p.prerequisites.includes("apim-stv2-platform"),
    evaluate: platformIsNotStv2,
  },
  "prerequisite-vnet-injection": {
    title: "Instance is injected into a virtual network",
    description: "An APIM instance injected into an external or internal VNet cannot take inbound private endpoints.",
    appliesTo: (p) => p.prerequisites.includes("apim-not-vnet-injected"),
    evaluate: instanceIsInjectedIntoAVirtualNetwork,
  },
  "prerequisite-tier": {
    title: "Tier does not support inbound private endpoints",
    description: "APIM's inbound private endpoints apply to the Developer, Basic, Standard, Premium, Standard v2 and Premium v2 tiers.",
    appliesTo: isApim,
    evaluate: tierDoesNotSupportInboundPrivateEndpoints,
  },
  "prerequisite-premium-sku": {
    title: "SKU is not Premium",
    description: "Service Bus namespaces and container registries take private endpoints only on the Premium tier.",
    appliesTo: (p) => p.prerequisites.includes("premium-sku"),
    evaluate: skuIsNotPremium,
  },
  "public-network-access": {
    title: "Public network access is enabled where it must be disabled",
    description: "Once private endpoints carry the traffic, public network access should be Disabled (or SecuredByPerimeter where the type has it) unless the resource is exempt.",
    appliesTo: (p) => p.publicNetworkAccess !== undefined,
    evaluate: publicNetworkAccessIsEnabledWhereDisabledIsRequired,
  },
  capacity: {
    title: "Connection count approaches the type's limit",
    description: "Types with a published limit (APIM 100, Private Link Service 1000 connections) refuse new endpoints beyond it.",
    appliesTo: (p) => p.maxConnections !== undefined,
    evaluate: connectionCountApproachesTheLimit,
  },
  "private-link-service-auto-approval": {
    title: "Private Link Service auto-approves subscriptions",
    description: "Connections from a Private Link Service's autoApproval subscriptions are approved by Azure, bypassing Portcullis' rules; high when the rules would reject them.",
    appliesTo: IS_PRIVATE_LINK_SERVICE,
    evaluate: autoApprovalBypassesTheRules,
  },
  "private-link-service-visibility": {
    title: "Private Link Service is visible to everyone",
    description: "A Private Link Service whose visibility is \"*\" can be found and requested by any subscription.",
    appliesTo: IS_PRIVATE_LINK_SERVICE,
    evaluate: serviceIsVisibleToEveryone,
  },
  "pending-too-long": {
    title: "Connection has been Pending too long",
    description: "A Pending connection waits for a human decision; past the configured age it is reported.",
    appliesTo: EVERY_TYPE,
    evaluate: connectionIsPendingTooLong,
  },
  "unexplained-approval": {
    title: "Connection was approved outside Portcullis",
    description: "An Approved connection with no approving decision in the Portcullis decision log.",
    appliesTo: EVERY_TYPE,
    evaluate: connectionWasApprovedOutsidePortcullis,
  },
  "lingering-rejected": {
    title: "Rejected connection lingers",
    description: "Rejected connections stay on the resource (and count towards its limit where one is published); delete them after the configured age.",
    appliesTo: EVERY_TYPE,
    evaluate: rejectedConnectionLingers,
  },
  "endpoint-unreadable": {
    title: "Approved endpoint could not be read",
    description: "The consumer's private endpoint of an approved connection could not be read, so its DNS was not checked.",
    appliesTo: EVERY_TYPE,
    evaluate: approvedEndpointCouldNotBeRead,
  },
  "dns-zone-unreadable": {
    title: "Private DNS zone could not be read",
    description: "A configured or zone-group private DNS zone could not be read, so DNS drift in it was not checked.",
    appliesTo: NO_TYPE,
    evaluate: dnsZoneCouldNotBeRead,
  },
  "dns-record-missing": {
    title: "A record is missing",
    description: "An approved endpoint needs its A record(s) in each private DNS zone of its type it resolves through.",
    appliesTo: HAS_DNS_ZONES,
    evaluate: recordIsMissing,
  },
  "dns-record-wrong-ips": {
    title: "A record lacks an endpoint's IP",
    description: "The resource's A record does not hold every private IP of its approved endpoints.",
    appliesTo: HAS_DNS_ZONES,
    evaluate: recordLacksEndpointIps,
  },
  "dns-stale-ips": {
    title: "A record holds stale IPs",
    description: "The resource's A record holds IPs that belong to no approved endpoint (deleted or rejected).",
    appliesTo: HAS_DNS_ZONES,
    evaluate: recordHoldsStaleIps,
  },
  "dns-record-drifted": {
    title: "A record changed since Portcullis wrote it",
    description: "Someone changed the IPs of an A record Portcullis wrote; Portcullis reports it and no longer repairs it, rather than revert the change.",
    appliesTo: HAS_DNS_ZONES,
    evaluate: recordDriftedFromWhatPortcullisWrote,
  },
  "dns-competing-endpoints": {
    title: "Endpoints from several VNets compete for one record",
    description: "Approved endpoints from different VNets share one A record: the last writer wins and the other VNet breaks.",
    appliesTo: HAS_DNS_ZONES,
    evaluate: endpointsFromSeveralVnetsCompeteForOneRecord,
  },
  "dns-zone-not-linked": {
    title: "Zone is not linked to the endpoint's VNet",
    description: "A private DNS zone resolves only from the VNets linked to it.",
    appliesTo: HAS_DNS_ZONES,
    evaluate: zoneIsNotLinkedToTheEndpointVnet,
  },
  "rules-unusable": {
    title: "Rule set is unusable",
    description: "Stored rules that do not parse make the approval engine fail closed: nothing is decided automatically.",
    appliesTo: NO_TYPE,
    evaluate: ruleSetIsUnusable,
  },
} as const satisfies Record<string, AuditCheck>;

export type CheckId = keyof typeof AUDIT_CHECKS;

/** Check IDs in run order. */
export const CHECK_IDS = Object.keys(AUDIT_CHECKS) as CheckId[];

/** The DNS checks: an incomplete DNS read (unreadable endpoint or zone) leaves their earlier findings open. */
export const DNS_CHECK_IDS: readonly CheckId[] = [
  "dns-record-missing",
  "dns-record-wrong-ips",
  "dns-stale-ips",
  "dns-record-drifted",
  "dns-competing-endpoints",
  "dns-zone-not-linked",
];

/** Runs every check in order over one subject. */
export function evaluateChecks(subject: AuditSubject, context: CheckContext): Observation[] {
  return CHECK_IDS.flatMap((id) => AUDIT_CHECKS[id].evaluate(subject, context));
}
