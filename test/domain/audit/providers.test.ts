/**
 * The audit checks for every registered Private Link type (src/domain/providers/registry.ts), table-driven over the
 * registry: what differs by type (zones and record names, public access values, limits, prerequisites, a Private
 * Link Service's own lists) is read from its entry, and each check fires only for the types its `appliesTo` names.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AUDIT_CHECKS, CHECK_IDS, evaluateChecks, type CheckContext, type CheckId } from "../../../src/domain/audit/checks.ts";
import { analyzeInstanceDns, recordNameInZone } from "../../../src/domain/audit/dns.ts";
import { findingId, resourceTypeOfFinding, type Observation } from "../../../src/domain/audit/findings.ts";
import { planRemediation, type PlannedChange } from "../../../src/domain/audit/plan.ts";
import type { ConnectionSnapshot, InstanceSnapshot } from "../../../src/domain/audit/snapshot.ts";
import { PRIVATE_LINK_PROVIDERS, requireProvider, type PrivateLinkProvider } from "../../../src/domain/providers/registry.ts";
import { ruleSetOf } from "../../../src/domain/rules/rule-set.ts";
import { rule } from "../rules/fixtures.ts";
import { CONSUMER_SUB, CONTEXT, connection, hoursBefore, hubZoneId, record, resourceIdOf, resourceInstance, vnetId, zone } from "./builders.ts";

function run(snapshot: InstanceSnapshot, context: CheckContext = CONTEXT): Observation[] {
  return evaluateChecks({ kind: "instance", snapshot, dns: analyzeInstanceDns(snapshot) }, context);
}

function plan(snapshot: InstanceSnapshot, context: CheckContext = CONTEXT): PlannedChange[] {
  const dns = analyzeInstanceDns(snapshot);
  return planRemediation(snapshot, dns, evaluateChecks({ kind: "instance", snapshot, dns }, context));
}

function ids(observations: readonly Observation[]): CheckId[] {
  return observations.map((o) => o.checkId);
}

const ALWAYS: CheckContext = { ...CONTEXT, policy: { ...CONTEXT.policy, publicAccessDisabledRequired: "always" } };
const NAME = "res1";
const WITH_ZONES = PRIVATE_LINK_PROVIDERS.filter((p) => p.groups.length > 0);
const WITH_PUBLIC_ACCESS = PRIVATE_LINK_PROVIDERS.filter((p) => p.publicNetworkAccess !== undefined);
const PLS = "Microsoft.Network/privateLinkServices";

/** The type's first group and its first zone: where a connection's record lives in these tests. */
function firstZone(provider: PrivateLinkProvider) {
  const group = provider.groups[0]!;
  const dnsZone = group.dnsZones[0]!;
  return { groupId: group.groupId, zoneName: dnsZone.zone, zoneId: hubZoneId(dnsZone.zone), fqdn: `${NAME}.${dnsZone.publicSuffix}` };
}

/** An approved connection to `res1` of the type whose endpoint's customDnsConfigs name its FQDN with `ips`. */
function approvedTo(provider: PrivateLinkProvider, name: string, options: { ips?: readonly string[]; vnet?: string; fqdns?: readonly string[] } = {}): ConnectionSnapshot {
  const { groupId, fqdn } = firstZone(provider);
  const ips = options.ips ?? ["10.0.1.4"];
  return connection(name, {
    resourceId: resourceIdOf(provider.resourceType, NAME),
    groupIds: [groupId],
    ips,
    ...(options.vnet !== undefined ? { vnet: options.vnet } : {}),
    customDnsConfigs: (options.fqdns ?? [fqdn]).map((f) => ({ fqdn: f, ipAddresses: ips })),
  });
}

describe("audit checks for every registered type", () => {
  test("the tests below cover every registered type", () => {
    assert.ok(PRIVATE_LINK_PROVIDERS.length >= 10);
    assert.ok(WITH_ZONES.some((p) => p.resourceType === "Microsoft.KeyVault/vaults"));
  });

  describe("DNS drift in the type's own zones, with record names from the endpoint's FQDNs", () => {
    for (const provider of WITH_ZONES) {
      const { zoneId, zoneName } = firstZone(provider);
      const recordId = `${zoneId}/A/${NAME}`;
      const snapshot = (zoneOverrides: Parameters<typeof zone>[0], connections = [approvedTo(provider, "c1")]) =>
        resourceInstance(provider.resourceType, NAME, { connections, zones: [zone({ zoneId, ...zoneOverrides })] });

      describe(`${provider.displayName} (${provider.resourceType}, ${zoneName})`, () => {
        test("a healthy resource with its record yields nothing", () => {
          assert.deepEqual(run(snapshot({ record: record(zoneId, ["10.0.1.4"], {}, NAME) })), []);
        });

        test("missing: the record the FQDN names is absent, and the plan creates it (If-None-Match)", () => {
          const s = snapshot({});
          const out = run(s);
          assert.deepEqual(ids(out), ["dns-record-missing"]);
          assert.equal(out[0]!.resourceId, recordId);
          assert.equal(resourceTypeOfFinding(out[0]!), provider.resourceType, "the finding names the resource's type");
          const [change] = plan(s);
          assert.equal(change?.kind, "put-a-record");
          assert.deepEqual(change?.kind === "put-a-record" && [change.zoneId, change.recordName, change.ipv4Addresses, change.ifNoneMatch], [zoneId, NAME, ["10.0.1.4"], "*"]);
        });

        test("wrong: the record lacks the endpoint's IP (and its own IP is stale)", () => {
          assert.deepEqual(ids(run(snapshot({ record: record(zoneId, ["10.0.1.9"], {}, NAME) }))), ["dns-record-wrong-ips", "dns-stale-ips"]);
        });

        test("stale: an IP of no approved endpoint remains", () => {
          assert.deepEqual(ids(run(snapshot({ record: record(zoneId, ["10.0.1.4", "10.0.9.9"], {}, NAME) }))), ["dns-stale-ips"]);
        });

        test("competing: approved endpoints from two VNets want the one record", () => {
          const connections = [approvedTo(provider, "c1", { vnet: "vnet-a" }), approvedTo(provider, "c2", { vnet: "vnet-b", ips: ["10.1.1.4"] })];
          const out = run(snapshot({ record: record(zoneId, ["10.0.1.4", "10.1.1.4"], {}, NAME), linkedVirtualNetworkIds: [vnetId("vnet-a"), vnetId("vnet-b")] }, connections));
          assert.deepEqual(ids(out), ["dns-competing-endpoints"]);
        });

        test("unlinked: the zone has no link to the endpoint's VNet", () => {
          const out = run(snapshot({ record: record(zoneId, ["10.0.1.4"], {}, NAME), linkedVirtualNetworkIds: [] }));
          assert.deepEqual(ids(out), ["dns-zone-not-linked"]);
          assert.equal(out[0]!.resourceId, zoneId);
        });

        test("an owned record left behind once its endpoints are gone is stale, and the plan deletes it (If-Match)", () => {
          const rec = record(zoneId, ["10.0.1.4"], {}, NAME);
          const written = { recordId, zoneId, recordName: NAME, ipv4Addresses: ["10.0.1.4"], etag: rec.etag!, writtenAt: hoursBefore(48), runId: "r0" };
          const s = snapshot({ record: rec, written }, []);
          assert.deepEqual(ids(run(s)), ["dns-stale-ips"]);
          assert.deepEqual(plan(s).map((c) => [c.kind, c.kind === "delete-a-record" ? c.ifMatch : undefined]), [["delete-a-record", rec.etag]]);
        });
      });
    }

    test("Storage: contoso.blob.core.windows.net is `contoso` in privatelink.blob.core.windows.net", () => {
      const zoneId = hubZoneId("privatelink.blob.core.windows.net");
      const c = connection("c1", { resourceId: resourceIdOf("Microsoft.Storage/storageAccounts", "contoso"), groupIds: ["blob"], customDnsConfigs: [{ fqdn: "contoso.blob.core.windows.net", ipAddresses: ["10.0.1.4"] }] });
      const out = run(resourceInstance("Microsoft.Storage/storageAccounts", "contoso", { connections: [c], zones: [zone({ zoneId })] }));
      assert.deepEqual(out.map((o) => o.resourceId), [`${zoneId}/A/contoso`]);
    });

    test("Key Vault: contoso.vault.azure.net is `contoso` in privatelink.vaultcore.azure.net (not a zone named after vault.azure.net)", () => {
      const zoneId = hubZoneId("privatelink.vaultcore.azure.net");
      assert.equal(recordNameInZone("Contoso.Vault.Azure.Net.", requireProvider("Microsoft.KeyVault/vaults").groups[0]!.dnsZones[0]!), "contoso");
      const c = connection("c1", { resourceId: resourceIdOf("Microsoft.KeyVault/vaults", "contoso"), groupIds: ["vault"], customDnsConfigs: [{ fqdn: "contoso.vault.azure.net", ipAddresses: ["10.0.1.4"] }] });
      const healthy = resourceInstance("Microsoft.KeyVault/vaults", "contoso", { connections: [c], zones: [zone({ zoneId, record: record(zoneId, ["10.0.1.4"], {}, "contoso") })] });
      assert.deepEqual(run(healthy), []);
    });

    test("Cosmos DB: each FQDN of the endpoint is its own record (the account's and its regional name), each with its own IP", () => {
      const provider = requireProvider("Microsoft.DocumentDB/databaseAccounts");
      const zoneId = hubZoneId("privatelink.documents.azure.com");
      const c = connection("c1", {
        resourceId: resourceIdOf(provider.resourceType, "acct"),
        groupIds: ["Sql"],
        ips: ["10.0.1.4", "10.0.1.5"],
        customDnsConfigs: [
          { fqdn: "acct.documents.azure.com", ipAddresses: ["10.0.1.4"] },
          { fqdn: "acct-westeurope.documents.azure.com", ipAddresses: ["10.0.1.5"] },
        ],
      });
      const out = run(resourceInstance(provider.resourceType, "acct", { connections: [c], zones: [zone({ zoneId, record: record(zoneId, ["10.0.1.4"], {}, "acct") })] }));
      assert.deepEqual(out.map((o) => [o.checkId, o.resourceId]), [["dns-record-missing", `${zoneId}/A/acct-westeurope`]], "the account's record is right; only the regional one is missing");
    });

    test("IPs read from the NIC (no FQDN) belong to the resource's own name", () => {
      const zoneId = hubZoneId("privatelink.vaultcore.azure.net");
      const c = connection("c1", { resourceId: resourceIdOf("Microsoft.KeyVault/vaults", "kv1"), groupIds: ["vault"], ips: ["10.0.1.7"] });
      const out = run(resourceInstance("Microsoft.KeyVault/vaults", "kv1", { connections: [c], zones: [zone({ zoneId })] }));
      assert.deepEqual(out.map((o) => o.resourceId), [`${zoneId}/A/kv1`]);
    });

    test("a configured zone of another type (or another group of the same type) is not this resource's: nothing is judged there", () => {
      const apimZone = hubZoneId("privatelink.azure-api.net");
      const fileZone = hubZoneId("privatelink.file.core.windows.net");
      const blob = approvedTo(requireProvider("Microsoft.Storage/storageAccounts"), "c1");
      const snapshot = resourceInstance("Microsoft.Storage/storageAccounts", NAME, {
        connections: [blob],
        zones: [zone({ zoneId: apimZone, record: record(apimZone, ["10.9.9.9"], {}, NAME) }), zone({ zoneId: fileZone })],
      });
      assert.deepEqual(run(snapshot), [], "no blob zone given: nothing missing in the file zone, nothing stale in APIM's zone");
    });

    test("a Private Link Service has no zones: no DNS check runs for it", () => {
      const c = connection("c1", { resourceId: resourceIdOf(PLS, NAME), groupIds: [] });
      const snapshot = resourceInstance(PLS, NAME, { connections: [c], zones: [zone({ zoneId: hubZoneId("privatelink.azure-api.net"), record: record(hubZoneId("privatelink.azure-api.net"), ["10.9.9.9"], {}, NAME) })] });
      assert.deepEqual(analyzeInstanceDns(snapshot).records, []);
      assert.deepEqual(run(snapshot), []);
    });
  });

  describe("public network access, per type's own values", () => {
    for (const provider of WITH_PUBLIC_ACCESS) {
      const shape = provider.publicNetworkAccess!;
      const id = resourceIdOf(provider.resourceType, NAME);
      const withApproved = (value: string | undefined) =>
        resourceInstance(provider.resourceType, NAME, { resource: { publicNetworkAccess: value }, connections: [connection("c1", { resourceId: id, groupIds: [provider.groups[0]!.groupId] })] });
      test(`${provider.displayName}: Enabled or unknown with an approved connection is high; ${shape.disabled} is closed`, () => {
        for (const value of ["Enabled", undefined]) {
          const out = run(withApproved(value)).filter((o) => o.checkId === "public-network-access");
          assert.deepEqual(out.map((o) => [o.id, o.severity]), [[findingId("public-network-access", id, "enabled"), "high"]], String(value));
        }
        assert.deepEqual(run(withApproved(shape.disabled)).filter((o) => o.checkId === "public-network-access"), []);
      });

      if (shape.values.includes("SecuredByPerimeter")) {
        test(`${provider.displayName}: SecuredByPerimeter counts as closed`, () => {
          assert.deepEqual(run(withApproved("SecuredByPerimeter")).filter((o) => o.checkId === "public-network-access"), []);
        });
      }

      test(`${provider.displayName}: with "always", no approved connection: ${shape.disableNeedsApprovedConnection ? "'cannot disable yet', no write planned" : "'enabled', and the plan closes it with the type's value"}`, () => {
        const s = resourceInstance(provider.resourceType, NAME, { resource: { publicNetworkAccess: "Enabled" } });
        const out = run(s, ALWAYS);
        const changes = plan(s, ALWAYS);
        if (shape.disableNeedsApprovedConnection) {
          assert.deepEqual(out.map((o) => o.id), [findingId("public-network-access", id, "cannot-disable")]);
          assert.deepEqual(changes, []);
        } else {
          assert.deepEqual(out.map((o) => o.id), [findingId("public-network-access", id, "enabled")]);
          assert.deepEqual(changes.map((c) => [c.kind, c.kind === "disable-public-network-access" ? c.value : undefined]), [["disable-public-network-access", shape.disabled]]);
        }
      });
    }

    test("a type without publicNetworkAccess (Private Link Service) is never judged on it, and nothing is planned", () => {
      const s = resourceInstance(PLS, NAME, { resource: { publicNetworkAccess: "Enabled" } });
      assert.deepEqual(run(s, ALWAYS), []);
      assert.deepEqual(plan(s, ALWAYS), []);
    });

    test("exempt resources of any type are left alone", () => {
      const s = resourceInstance("Microsoft.Storage/storageAccounts", NAME, { resource: { publicNetworkAccess: "Enabled" } });
      assert.deepEqual(run(s, { ...ALWAYS, policy: { ...ALWAYS.policy, publicAccessExemptIds: [resourceIdOf("microsoft.storage/STORAGEACCOUNTS", NAME)] } }), []);
    });
  });

  describe("capacity, from the registry's maxConnections", () => {
    const pending = (provider: PrivateLinkProvider, n: number) =>
      Array.from({ length: n }, (_, i) => connection(`c${i}`, { status: "Pending", resourceId: resourceIdOf(provider.resourceType, NAME), groupIds: [] }));

    test("a Private Link Service warns at the policy's share of 1000 and is high at 1000", () => {
      const provider = requireProvider(PLS);
      assert.equal(provider.maxConnections, 1000);
      const capacity = (n: number) => run(resourceInstance(PLS, NAME, { connections: pending(provider, n) })).filter((o) => o.checkId === "capacity").map((o) => o.severity);
      assert.deepEqual(capacity(799), []);
      assert.deepEqual(capacity(800), ["medium"]);
      assert.deepEqual(capacity(1000), ["high"]);
      const out = run(resourceInstance(PLS, NAME, { connections: pending(provider, 1000) })).find((o) => o.checkId === "capacity")!;
      assert.match(out.message, /limit of 1000/);
    });

    test("types without a published limit are never reported for capacity", () => {
      for (const provider of PRIVATE_LINK_PROVIDERS.filter((p) => p.maxConnections === undefined)) {
        assert.deepEqual(run(resourceInstance(provider.resourceType, NAME, { connections: pending(provider, 1200) })).filter((o) => o.checkId === "capacity"), [], provider.resourceType);
      }
    });
  });

  describe("prerequisite-premium-sku", () => {
    for (const provider of PRIVATE_LINK_PROVIDERS.filter((p) => p.prerequisites.includes("premium-sku"))) {
      test(`${provider.displayName}: Standard or an unknown SKU is high; Premium passes`, () => {
        for (const sku of ["Standard", undefined]) {
          const out = run(resourceInstance(provider.resourceType, NAME, { resource: { skuName: sku } }));
          assert.deepEqual(out.map((o) => [o.checkId, o.severity]), [["prerequisite-premium-sku", "high"]], String(sku));
        }
        assert.deepEqual(run(resourceInstance(provider.resourceType, NAME, { resource: { skuName: "premium" } })), []);
      });
    }

    test("types without the prerequisite are not judged on their SKU", () => {
      for (const provider of PRIVATE_LINK_PROVIDERS.filter((p) => !p.prerequisites.includes("premium-sku") && p.resourceType !== "Microsoft.ApiManagement/service")) {
        assert.deepEqual(run(resourceInstance(provider.resourceType, NAME, { resource: { skuName: "Basic" } })), [], provider.resourceType);
      }
    });
  });

  describe("connection hygiene, the same for every type", () => {
    for (const provider of PRIVATE_LINK_PROVIDERS) {
      test(`${provider.displayName}: pending too long, approved outside Portcullis, rejected lingering`, () => {
        const resourceId = resourceIdOf(provider.resourceType, NAME);
        const groupIds = provider.groups.length > 0 ? [provider.groups[0]!.groupId] : [];
        const connections = [
          connection("p1", { status: "Pending", resourceId, groupIds, history: { firstRecordedAt: hoursBefore(30) } }),
          connection("a1", { resourceId, groupIds, history: { approvedAt: undefined } }),
          connection("r1", { status: "Rejected", resourceId, groupIds, history: { rejectedAt: hoursBefore(24 * 45) } }),
        ];
        const out = run(resourceInstance(provider.resourceType, NAME, { connections })).filter((o) => !o.checkId.startsWith("dns-"));
        assert.deepEqual(ids(out).sort(), ["lingering-rejected", "pending-too-long", "unexplained-approval"]);
        const lingering = out.find((o) => o.checkId === "lingering-rejected")!;
        if (provider.maxConnections !== undefined) assert.match(lingering.message, new RegExp(`limit of ${provider.maxConnections}`));
        else assert.doesNotMatch(lingering.message, /limit/);
      });
    }
  });

  describe("a Private Link Service's own lists against the rules", () => {
    const OTHER = "33333333-3333-4333-8333-333333333333";
    const pls = (lists: { visibilitySubscriptions?: string[]; autoApprovalSubscriptions?: string[] }) =>
      resourceInstance(PLS, NAME, { resource: { privateLinkService: { visibilitySubscriptions: [CONSUMER_SUB], autoApprovalSubscriptions: [], ...lists } } });

    test("auto-approved subscriptions bypass the rules: a medium finding naming them", () => {
      const out = run(pls({ autoApprovalSubscriptions: [OTHER, CONSUMER_SUB] }));
      assert.deepEqual(out.map((o) => [o.checkId, o.severity]), [["private-link-service-auto-approval", "medium"]]);
      assert.ok(out[0]!.message.includes(CONSUMER_SUB) && out[0]!.message.includes(OTHER));
    });

    // Rules name the types they cover (resource-types) with the rules helper's change; until it is on this branch a rule
    // cannot match a Private Link Service's connection (group-ids defaults to ["Gateway"]).
    const RULES_COVER_TYPES = { todo: "needs the rules helper's resource-types (rules for every type)" };

    test("high when the default action would reject a connection from an auto-approved subscription", () => {
      const out = run(pls({ autoApprovalSubscriptions: [OTHER] }), { ...CONTEXT, rules: { ruleSet: ruleSetOf([]), defaultAction: "reject" } });
      assert.deepEqual(out.map((o) => [o.checkId, o.severity]), [["private-link-service-auto-approval", "high"]]);
      assert.match(out[0]!.message, /the default action/);
    });

    test("high when a rule would reject a connection from an auto-approved subscription, naming the rule", RULES_COVER_TYPES, () => {
      const ruleSet = ruleSetOf([
        rule({ id: "deny-other", priority: 10, action: "reject", conditions: { "requester-subscriptions": [OTHER] } }),
        rule({ id: "allow-consumer", priority: 20, action: "approve", conditions: { "requester-subscriptions": [CONSUMER_SUB] } }),
      ]);
      const out = run(pls({ autoApprovalSubscriptions: [OTHER, CONSUMER_SUB] }), { ...CONTEXT, rules: { ruleSet, defaultAction: "manual" } });
      assert.deepEqual(out.map((o) => [o.checkId, o.severity]), [["private-link-service-auto-approval", "high"]]);
      assert.match(out[0]!.message, new RegExp(`would reject ${OTHER} \\(rule deny-other\\)`));
      assert.ok(!out[0]!.message.includes(`${CONSUMER_SUB} (`), "the approved subscription is not among the rejected");
    });

    test("high when the default action rejects what no rule approves; medium when a rule approves it", RULES_COVER_TYPES, () => {
      const ruleSet = ruleSetOf([rule({ id: "allow-consumer", action: "approve", conditions: { "requester-subscriptions": [CONSUMER_SUB] } })]);
      const reject = { ...CONTEXT, rules: { ruleSet, defaultAction: "reject" as const } };
      assert.equal(run(pls({ autoApprovalSubscriptions: [OTHER] }), reject)[0]!.severity, "high");
      assert.match(run(pls({ autoApprovalSubscriptions: [OTHER] }), reject)[0]!.message, /the default action/);
      assert.equal(run(pls({ autoApprovalSubscriptions: [CONSUMER_SUB] }), reject)[0]!.severity, "medium");
    });

    test("visibility \"*\" is a finding; a list of subscriptions is not", () => {
      assert.deepEqual(ids(run(pls({ visibilitySubscriptions: ["*"] }))), ["private-link-service-visibility"]);
      assert.deepEqual(run(pls({ visibilitySubscriptions: [CONSUMER_SUB, OTHER] })), []);
    });
  });

  test("each check fires only for the types its appliesTo names (the docs' per-type tables follow appliesTo)", () => {
    for (const provider of PRIVATE_LINK_PROVIDERS) {
      const resourceId = resourceIdOf(provider.resourceType, NAME);
      const groupIds = provider.groups.length > 0 ? [provider.groups[0]!.groupId] : [];
      const zones = provider.groups.flatMap((g) => g.dnsZones.map((z) => zone({ zoneId: hubZoneId(z.zone), record: record(hubZoneId(z.zone), ["10.9.9.9"], {}, NAME), linkedVirtualNetworkIds: [] })));
      const connections = [
        ...Array.from({ length: 1000 }, (_, i) => connection(`c${i}`, { status: "Pending", resourceId, groupIds, history: { firstRecordedAt: hoursBefore(48) } })),
        connection("a1", { resourceId, groupIds, history: { approvedAt: undefined }, vnet: "vnet-a" }),
        connection("a2", { resourceId, groupIds, vnet: "vnet-b", ips: ["10.1.1.4"] }),
        connection("r1", { status: "Rejected", resourceId, groupIds, history: { rejectedAt: hoursBefore(24 * 90) } }),
      ];
      const worst = resourceInstance(provider.resourceType, NAME, {
        resource: { publicNetworkAccess: "Enabled", skuName: "Basic", privateLinkService: { visibilitySubscriptions: ["*"], autoApprovalSubscriptions: [CONSUMER_SUB] } },
        connections,
        zones,
      });
      const fired = new Set(ids(run(worst, ALWAYS)));
      for (const id of fired) assert.ok(AUDIT_CHECKS[id].appliesTo(provider), `${id} fired for ${provider.resourceType}`);
      // And what applies did fire on this worst case (APIM's own prerequisites need its service facts, read elsewhere).
      const expected = CHECK_IDS.filter((id) => AUDIT_CHECKS[id].appliesTo(provider) && !["instance-unreadable", "endpoint-unreadable", "dns-record-missing", "dns-record-drifted", "prerequisite-platform", "prerequisite-vnet-injection", "prerequisite-tier"].includes(id));
      assert.deepEqual(expected.filter((id) => !fired.has(id)), [], provider.resourceType);
    }
  });
});
