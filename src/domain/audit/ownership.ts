/**
 * Which A records Portcullis owns. Ownership is what Portcullis remembers writing (kept in its own table, see
 * src/ports/dns-ownership-store.ts), never what a record says about itself: a `managedBy` tag is a label anyone
 * can set, so it is written for people to read and never trusted.
 *
 * | record in the zone | Portcullis' entry | IPs now vs. written | ownership | the plan may                        |
 * |--------------------|-------------------|---------------------|-----------|-------------------------------------|
 * | absent             | any               | -                   | absent    | create it (If-None-Match: *)        |
 * | present            | none              | -                   | not-ours  | nothing (reported only), any tags   |
 * | present            | yes               | the same            | ours      | rewrite / delete it (If-Match ETag) |
 * | present            | yes               | different           | drifted   | nothing: reported as drifted        |
 *
 * The IPs are what Portcullis owns in a record; a change of TTL or tags by someone else does not take the record
 * away, and the rewrite keeps them. The write itself carries If-Match with the ETag read in this run, so a change
 * between the read and the write is never overwritten either.
 */
/** What Portcullis last wrote to one A record set. Times are ISO 8601. */
export interface WrittenRecord {
  /** The ARM ID of the record set (`{zoneId}/A/{name}`). */
  readonly recordId: string;
  readonly zoneId: string;
  /** Lower-case relative name, e.g. "contoso-apim". */
  readonly recordName: string;
  /** The IPs written, sorted. */
  readonly ipv4Addresses: readonly string[];
  /** The ETag ARM answered the write with. */
  readonly etag: string;
  readonly writtenAt: string;
  /** The audit run that wrote it. */
  readonly runId: string;
}

export type RecordOwnership =
  | { readonly kind: "absent" }
  | { readonly kind: "not-ours" }
  | { readonly kind: "ours"; readonly written: WrittenRecord }
  | { readonly kind: "drifted"; readonly written: WrittenRecord };

/** The ownership of a record from its current IPs (undefined: no record) and what Portcullis last wrote to it. */
export function recordOwnership(currentIps: readonly string[] | undefined, written: WrittenRecord | undefined): RecordOwnership {
  if (currentIps === undefined) return { kind: "absent" };
  if (written === undefined) return { kind: "not-ours" };
  const now = sortedSet(currentIps);
  const then = sortedSet(written.ipv4Addresses);
  const same = now.length === then.length && now.every((ip, i) => ip === then[i]);
  return same ? { kind: "ours", written } : { kind: "drifted", written };
}

function sortedSet(ips: readonly string[]): string[] {
  return [...new Set(ips.map((ip) => ip.trim()))].sort();
}
