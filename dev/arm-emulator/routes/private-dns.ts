/**
 * Microsoft.Network/privateDnsZones (2024-06-01, privatedns.json): zones, A record sets and virtual network links.
 * Record-set writes are synchronous (200 update / 201 create), carry a new etag each time and honour If-Match and
 * If-None-Match with 412 PreconditionFailed.
 */
import { z } from "zod";
import { ArmError } from "../errors.ts";
import { defineRoute, pageOf, param, parseBody, publishActivity, type ArmRequest, type ArmResponse, type EmulatorEnv, type Route } from "../routing.ts";
import type { ARecordSetRecord, PrivateDnsZoneRecord, VirtualNetworkLinkRecord } from "../state.ts";

const ZONE = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/privateDnsZones/{privateZoneName}";
const RECORD_TYPE = "Microsoft.Network/privateDnsZones/A";

/** The JSON of a zone as GET privateDnsZones/{name} returns it (the SOA record counts as one record set). */
export function zoneView(zone: PrivateDnsZoneRecord): unknown {
  const registering = [...zone.links.values()].filter((l) => l.registrationEnabled).length;
  return {
    id: zone.id,
    name: zone.name,
    type: "Microsoft.Network/privateDnsZones",
    location: "global",
    etag: zone.etag,
    tags: { ...zone.tags },
    properties: {
      maxNumberOfRecordSets: 25000,
      numberOfRecordSets: zone.records.size + 1,
      maxNumberOfVirtualNetworkLinks: 1000,
      numberOfVirtualNetworkLinks: zone.links.size,
      maxNumberOfVirtualNetworkLinksWithRegistration: 100,
      numberOfVirtualNetworkLinksWithRegistration: registering,
      provisioningState: "Succeeded",
      internalId: Buffer.from(zone.id.toLowerCase()).toString("base64").slice(0, 40),
    },
  };
}

/** The JSON of an A record set as GET privateDnsZones/{zone}/A/{name} returns it. */
export function aRecordView(zone: PrivateDnsZoneRecord, record: ARecordSetRecord): unknown {
  return {
    id: `${zone.id}/A/${record.name}`,
    name: record.name,
    type: RECORD_TYPE,
    etag: record.etag,
    properties: {
      metadata: { ...record.metadata },
      ttl: record.ttl,
      fqdn: `${record.name}.${zone.name}.`,
      isAutoRegistered: false,
      aRecords: record.ipv4Addresses.map((ipv4Address) => ({ ipv4Address })),
    },
  };
}

function linkView(link: VirtualNetworkLinkRecord): unknown {
  return {
    id: link.id,
    name: link.name,
    type: "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    location: "global",
    etag: link.etag,
    tags: { ...link.tags },
    properties: {
      virtualNetwork: { id: link.virtualNetworkId },
      registrationEnabled: link.registrationEnabled,
      resolutionPolicy: "Default",
      virtualNetworkLinkState: link.virtualNetworkLinkState,
      provisioningState: "Succeeded",
    },
  };
}

function zoneOf(request: ArmRequest, env: EmulatorEnv): PrivateDnsZoneRecord {
  return env.state.requirePrivateDnsZone(param(request, "subscriptionId"), param(request, "resourceGroupName"), param(request, "privateZoneName"));
}

const Ipv4 = z.string().regex(/^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/, "must be an IPv4 address");

/** Record-set members of other types: an A record set holding them is refused (they are never accepted and dropped). */
const OTHER_RECORD_TYPES = ["aaaaRecords", "cnameRecord", "mxRecords", "ptrRecords", "soaRecord", "srvRecords", "txtRecords"] as const;

/**
 * RecordSet (privatedns.json 2024-06-01, RecordSetAPut example). Read-only members (id, name, type, fqdn,
 * isAutoRegistered) are ignored as the spec says; unknown members are refused.
 */
const RecordSetPutSchema = z
  .object({
    id: z.unknown().optional(),
    name: z.unknown().optional(),
    type: z.unknown().optional(),
    etag: z.string().optional(),
    properties: z
      .object({
        ttl: z.number().int().min(0).max(2147483647).optional(),
        metadata: z.record(z.string(), z.string()).optional(),
        aRecords: z.array(z.object({ ipv4Address: Ipv4 }).strict()).max(20).optional(),
        fqdn: z.unknown().optional(),
        isAutoRegistered: z.unknown().optional(),
        ...Object.fromEntries(OTHER_RECORD_TYPES.map((k) => [k, z.unknown().optional()])),
      })
      .strict(),
  })
  .strict();

function header(request: ArmRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function putARecord(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const zone = zoneOf(request, env);
  const body = parseBody(RecordSetPutSchema, request, "privatedns");
  const foreign = OTHER_RECORD_TYPES.filter((k) => (body.properties as Record<string, unknown>)[k] !== undefined);
  if (foreign.length > 0) {
    throw new ArmError(400, "BadRequest", `An A record set cannot hold ${foreign.join(", ")}.`, { target: `properties.${foreign[0]}` });
  }
  const { record, created } = env.state.putARecord(
    zone,
    param(request, "relativeRecordSetName"),
    {
      ttl: body.properties.ttl ?? 3600,
      ipv4Addresses: (body.properties.aRecords ?? []).map((a) => a.ipv4Address),
      metadata: body.properties.metadata ?? {},
    },
    { ifMatch: header(request, "if-match"), ifNoneMatch: header(request, "if-none-match") },
  );
  const resourceId = `${zone.id}/A/${record.name}`;
  publishActivity(env, request, { operationName: "Microsoft.Network/privateDnsZones/A/write", resourceId, kind: "write", created });
  return { status: created ? 201 : 200, body: aRecordView(zone, record), headers: { ETag: record.etag } };
}

function deleteARecord(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const zone = zoneOf(request, env);
  const name = param(request, "relativeRecordSetName");
  const deleted = env.state.deleteARecord(zone, name, header(request, "if-match"));
  if (!deleted) return { status: 204 };
  publishActivity(env, request, { operationName: "Microsoft.Network/privateDnsZones/A/delete", resourceId: `${zone.id}/A/${name.toLowerCase()}`, kind: "delete" });
  return { status: 200 };
}

function listARecords(request: ArmRequest, env: EmulatorEnv): ArmResponse {
  const zone = zoneOf(request, env);
  const suffix = request.query.get("$recordsetnamesuffix")?.toLowerCase();
  const records = [...zone.records.values()].filter((r) => suffix === undefined || r.name.endsWith(suffix));
  return { status: 200, body: pageOf(records.map((r) => aRecordView(zone, r)), request, env) };
}

/** Every Private DNS route the emulator serves. */
export const privateDnsRoutes: readonly Route[] = [
  defineRoute("/subscriptions/{subscriptionId}/providers/Microsoft.Network/privateDnsZones", "Microsoft.Network/privateDnsZones", {
    GET: (request, env) => ({ status: 200, body: pageOf(env.state.listPrivateDnsZones(param(request, "subscriptionId")).map(zoneView), request, env) }),
  }),
  defineRoute("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/privateDnsZones", "Microsoft.Network/privateDnsZones", {
    GET: (request, env) => ({
      status: 200,
      body: pageOf(env.state.listPrivateDnsZones(param(request, "subscriptionId"), param(request, "resourceGroupName")).map(zoneView), request, env),
    }),
  }),
  defineRoute(ZONE, "Microsoft.Network/privateDnsZones", { GET: (request, env) => ({ status: 200, body: zoneView(zoneOf(request, env)) }) }),
  defineRoute(`${ZONE}/A`, "Microsoft.Network/privateDnsZones", { GET: listARecords }),
  defineRoute(`${ZONE}/ALL`, "Microsoft.Network/privateDnsZones", { GET: listARecords }),
  defineRoute(`${ZONE}/A/{relativeRecordSetName}`, "Microsoft.Network/privateDnsZones", {
    GET: (request, env) => {
      const zone = zoneOf(request, env);
      const record = env.state.requireARecord(zone, param(request, "relativeRecordSetName"));
      return { status: 200, body: aRecordView(zone, record), headers: { ETag: record.etag } };
    },
    PUT: putARecord,
    DELETE: deleteARecord,
  }),
  defineRoute(`${ZONE}/virtualNetworkLinks`, "Microsoft.Network/privateDnsZones", {
    GET: (request, env) => {
      const zone = zoneOf(request, env);
      return { status: 200, body: pageOf([...zone.links.values()].map(linkView), request, env) };
    },
  }),
  defineRoute(`${ZONE}/virtualNetworkLinks/{virtualNetworkLinkName}`, "Microsoft.Network/privateDnsZones", {
    GET: (request, env) => {
      const zone = zoneOf(request, env);
      return { status: 200, body: linkView(env.state.requireVirtualNetworkLink(zone, param(request, "virtualNetworkLinkName"))) };
    },
  }),
];

