/**
 * PrivateDnsPort over @azure/arm-privatedns 4 (api-version 2024-06-01): zones, A record sets and virtual
 * network links. Record-set writes are synchronous and honour If-Match / If-None-Match, so a repair never
 * overwrites a record someone else changed since it was read (412 leaves as kind "precondition-failed").
 */
import type { PrivateDnsPort } from "../../ports/arm.ts";
import { parseTopLevelResourceId } from "../../domain/resource-id.ts";
import type { ArmClients } from "./clients.ts";
import { toARecordSet, toPrivateDnsZone, toVirtualNetworkLink } from "./convert.ts";
import { armCall, armGet, requireRef, walkPages } from "./sdk-calls.ts";

/** Every record set Portcullis writes replaces the whole set (PUT); without a TTL it gets this one. */
export const DEFAULT_A_RECORD_TTL = 3600;

interface ZoneRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly zoneName: string;
}

function parseZoneId(id: string): ZoneRef | undefined {
  const ref = parseTopLevelResourceId(id, "Microsoft.Network", "privateDnsZones");
  return ref && { subscriptionId: ref.subscriptionId, resourceGroup: ref.resourceGroup, zoneName: ref.name };
}

const RECORD_NAME = /^[^/\u0000-\u001f]{1,253}$/;

function requireRecordName(name: string): string {
  return requireRef((n) => (RECORD_NAME.test(n) ? n : undefined), name, "DNS record set name (relative to the zone)");
}

/** Builds the private DNS port over the lazily created per-subscription clients. */
export function createPrivateDnsPort(clients: ArmClients): PrivateDnsPort {
  return {
    async getZone(zoneId, opts) {
      const ref = requireRef(parseZoneId, zoneId, "private DNS zone");
      const client = await clients.privateDns(ref.subscriptionId);
      const model = await armGet(() => client.privateZones.get(ref.resourceGroup, ref.zoneName, { abortSignal: opts?.abortSignal }));
      return model === undefined ? undefined : toPrivateDnsZone(model);
    },

    listARecords(zoneId, opts) {
      const ref = requireRef(parseZoneId, zoneId, "private DNS zone");
      return walkPages(
        async () => (await clients.privateDns(ref.subscriptionId)).recordSets.listByType(ref.resourceGroup, ref.zoneName, "A", { abortSignal: opts?.abortSignal }),
        (model) => toARecordSet(model, zoneId),
      );
    },

    async getARecord(zoneId, recordName, opts) {
      const ref = requireRef(parseZoneId, zoneId, "private DNS zone");
      const name = requireRecordName(recordName);
      const client = await clients.privateDns(ref.subscriptionId);
      const model = await armGet(() => client.recordSets.get(ref.resourceGroup, ref.zoneName, "A", name, { abortSignal: opts?.abortSignal }));
      return model === undefined ? undefined : toARecordSet(model, zoneId);
    },

    async putARecord(zoneId, recordName, ipv4Addresses, opts = {}) {
      const ref = requireRef(parseZoneId, zoneId, "private DNS zone");
      const name = requireRecordName(recordName);
      const client = await clients.privateDns(ref.subscriptionId);
      const model = await armCall(() =>
        client.recordSets.createOrUpdate(
          ref.resourceGroup,
          ref.zoneName,
          "A",
          name,
          {
            ttl: opts.ttl ?? DEFAULT_A_RECORD_TTL,
            ...(opts.metadata !== undefined ? { metadata: { ...opts.metadata } } : {}),
            aRecords: ipv4Addresses.map((ipv4Address) => ({ ipv4Address })),
          },
          {
            abortSignal: opts.abortSignal,
            ...(opts.ifMatch !== undefined ? { ifMatch: opts.ifMatch } : {}),
            ...(opts.ifNoneMatch !== undefined ? { ifNoneMatch: opts.ifNoneMatch } : {}),
          },
        ),
      );
      return toARecordSet(model, zoneId);
    },

    async deleteARecord(zoneId, recordName, opts = {}) {
      const ref = requireRef(parseZoneId, zoneId, "private DNS zone");
      const name = requireRecordName(recordName);
      const client = await clients.privateDns(ref.subscriptionId);
      await armCall(() =>
        client.recordSets.delete(ref.resourceGroup, ref.zoneName, "A", name, {
          abortSignal: opts.abortSignal,
          ...(opts.ifMatch !== undefined ? { ifMatch: opts.ifMatch } : {}),
        }),
      );
    },

    listVirtualNetworkLinks(zoneId, opts) {
      const ref = requireRef(parseZoneId, zoneId, "private DNS zone");
      return walkPages(
        async () => (await clients.privateDns(ref.subscriptionId)).virtualNetworkLinks.list(ref.resourceGroup, ref.zoneName, { abortSignal: opts?.abortSignal }),
        (model) => toVirtualNetworkLink(model, zoneId),
      );
    },
  };
}
