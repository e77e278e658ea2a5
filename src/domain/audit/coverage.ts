/**
 * What an audit run could evaluate: a finding whose check did not look at its resource this run is neither
 * fixed nor confirmed. The lifecycle (lifecycle.ts) carries such a finding as it was, marked "not evaluated in
 * this run" with the reason, instead of resolving it by absence.
 *
 * | the previous finding's ...                                      | this run                 | reason given                        |
 * |-----------------------------------------------------------------|--------------------------|-------------------------------------|
 * | instance could not be read                                      | every check but          | the instance could not be read      |
 * |                                                                 | instance-unreadable      |                                     |
 * | instance has an unreadable approved endpoint or zone            | the DNS checks           | DNS read incomplete                 |
 * | DNS zone was not examined (not configured, no zone group names  | the DNS checks of that   | zone not examined                   |
 * |   it, or this run's scope reached no instance that uses it)     |   zone                   |                                     |
 * | instance is outside this run's scope (not named, its subscrip-  | every check of it        | not in this run's scope             |
 * |   tion or its type not managed), or its subscription's listing  |                          |                                     |
 * |   of its type failed                                            |                          |                                     |
 * | instance is in scope, its subscription was listed, it is gone   | nothing: resolved        | (the instance no longer exists)     |
 */
import { resourceIdKey } from "../resource-id.ts";
import { CHECK_IDS, DNS_CHECK_IDS, type CheckId } from "./checks.ts";
import type { InstanceDnsAnalysis } from "./dns.ts";
import type { Observation } from "./findings.ts";
import { governedTypeOf, listingScopeId, type InstanceSnapshot } from "./snapshot.ts";

/** The checks whose findings are about one private DNS zone (their resource is the zone or a record in it). */
export const ZONE_BOUND_CHECK_IDS: ReadonlySet<CheckId> = new Set<CheckId>([...DNS_CHECK_IDS, "dns-zone-unreadable"]);

/** What one scope (an instance, or the estate) of a run could evaluate. */
export interface EvaluationCoverage {
  /** Checks that reached no verdict anywhere in the scope, with the reason a report shows. */
  readonly unevaluatedChecks: ReadonlyMap<CheckId, string>;
  /**
   * When set, the zone-bound checks reached a verdict only in these zones (resourceIdKey of the zone IDs); a
   * finding of theirs in any other zone was not evaluated.
   */
  readonly examinedZoneKeys?: ReadonlySet<string> | undefined;
}

/** Everything in scope was evaluated: a finding not seen again is resolved. */
export const FULL_COVERAGE: EvaluationCoverage = { unevaluatedChecks: new Map() };

/** The private DNS zone ID a finding's resource lies in (the zone itself or a record set of it), else undefined. */
export function dnsZoneOfResource(resourceId: string): string | undefined {
  return PRIVATE_DNS_ZONE_PREFIX.exec(resourceId)?.[1];
}

const PRIVATE_DNS_ZONE_PREFIX = /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/privateDnsZones\/[^/]+)(?:\/|$)/i;

function zoneName(zoneId: string): string {
  return zoneId.split("/").at(-1) ?? zoneId;
}

/** Why this run reached no verdict on `finding` (a previous run's), or undefined when it did. */
export function whyNotEvaluated(finding: Observation, coverage: EvaluationCoverage): string | undefined {
  const whole = coverage.unevaluatedChecks.get(finding.checkId);
  if (whole !== undefined) return whole;
  if (coverage.examinedZoneKeys === undefined || !ZONE_BOUND_CHECK_IDS.has(finding.checkId)) return undefined;
  const zoneId = dnsZoneOfResource(finding.resourceId);
  if (zoneId === undefined || coverage.examinedZoneKeys.has(resourceIdKey(zoneId))) return undefined;
  return `DNS zone ${zoneName(zoneId)} (${zoneId}) was not examined in this run: it is not configured (PORTCULLIS_DNS_ZONE_IDS, --dns-zone) and no approved endpoint in this run's scope names it in a DNS zone group`;
}

/** The coverage of one audited instance: what its snapshot let the checks see. */
export function instanceCoverage(snapshot: InstanceSnapshot, dns: InstanceDnsAnalysis): EvaluationCoverage {
  if (snapshot.failure !== undefined) {
    const reason = `the instance could not be read in this run (${snapshot.failure.kind})`;
    return { unevaluatedChecks: new Map(CHECK_IDS.filter((id) => id !== "instance-unreadable").map((id) => [id, reason])) };
  }
  const examinedZoneKeys = new Set(snapshot.zones.filter((z) => z.failure === undefined).map((z) => resourceIdKey(z.zoneId)));
  if (dns.complete) return { unevaluatedChecks: new Map(), examinedZoneKeys };
  const reason = "an approved private endpoint or a DNS zone of the instance could not be read in this run, so its DNS was not checked";
  return { unevaluatedChecks: new Map(DNS_CHECK_IDS.map((id) => [id, reason])), examinedZoneKeys };
}

/** The coverage of the estate-wide checks: an unreadable-zone finding is evaluated only for zones this run tried to read. */
export function estateCoverage(attemptedZoneIds: readonly string[]): EvaluationCoverage {
  return { unevaluatedChecks: new Map(), examinedZoneKeys: new Set(attemptedZoneIds.map(resourceIdKey)) };
}

/** What a listing failure stored under a bare subscription ID (before listings were per type) had listed. */
const LEGACY_LISTED_TYPE = "Microsoft.ApiManagement/service";

/** The scope a run audited: the resources named, the subscriptions and types listed, and the listings that failed. */
export interface AuditScope {
  readonly instanceIds: readonly string[];
  readonly subscriptionIds: readonly string[];
  /** The governed types the subscriptions were listed for (registry casing; compared case-insensitively). */
  readonly resourceTypes: readonly string[];
  /** Listings that failed this run, as listingScopeId(subscription, type): their resources were not enumerated. */
  readonly unlistedScopeIds: readonly string[];
}

/**
 * The coverage for an instance the previous run audited and this run did not: gone (in scope and its
 * subscription listed completely, so it no longer exists: its findings resolve), or not evaluated (outside this
 * run's scope, or its subscription could not be listed).
 */
export function coverageOfInstanceNotAudited(instanceId: string, scope: AuditScope): EvaluationCoverage {
  const subscription = /^\/subscriptions\/([^/]+)/i.exec(instanceId)?.[1]?.toLowerCase();
  // Runs before listings were per type reported a failed listing under the bare subscription ID: it listed APIM.
  const legacyListing = /^\/subscriptions\/[^/]+\/?$/i.test(instanceId);
  const type = (governedTypeOf(instanceId) ?? (legacyListing ? LEGACY_LISTED_TYPE : undefined))?.toLowerCase();
  const listed = subscription !== undefined && type !== undefined && scope.subscriptionIds.some((id) => id.toLowerCase() === subscription) &&
    scope.resourceTypes.some((t) => t.toLowerCase() === type);
  const named = scope.instanceIds.some((id) => resourceIdKey(id) === resourceIdKey(instanceId));
  const failedListing = subscription !== undefined && type !== undefined &&
    scope.unlistedScopeIds.some((id) => resourceIdKey(id) === resourceIdKey(listingScopeId(subscription, type)));
  let reason: string | undefined;
  if (failedListing) reason = `the ${type} resources of subscription ${subscription} could not be listed in this run`;
  else if (!named && !listed) reason = "the resource is not in this run's scope (managed resources, subscriptions and resource types)";
  if (reason === undefined) return FULL_COVERAGE;
  const why = reason;
  return { unevaluatedChecks: new Map(CHECK_IDS.map((id) => [id, why])) };
}
