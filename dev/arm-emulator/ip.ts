/** IPv4 arithmetic for allocating private endpoint addresses from a subnet prefix, the way Azure does (first 4 reserved). */

export interface Ipv4Prefix {
  readonly network: number;
  readonly size: number;
}

/** Azure reserves the network address and the next three, and the broadcast address, in every subnet. */
const RESERVED_AT_START = 4;

export function ipv4ToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`Not an IPv4 address: ${ip}`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

export function parseIpv4Prefix(cidr: string): Ipv4Prefix {
  const [address, lengthText] = cidr.split("/");
  const length = Number(lengthText);
  if (address === undefined || !Number.isInteger(length) || length < 0 || length > 32) throw new Error(`Not an IPv4 prefix: ${cidr}`);
  const size = 2 ** (32 - length);
  const network = Math.floor(ipv4ToInt(address) / size) * size;
  return { network, size };
}

/** The lowest usable address of the prefix not in `taken`, or undefined when the subnet is full. */
export function nextFreeAddress(prefix: Ipv4Prefix, taken: ReadonlySet<string>): string | undefined {
  for (let offset = RESERVED_AT_START; offset < prefix.size - 1; offset++) {
    const candidate = intToIpv4(prefix.network + offset);
    if (!taken.has(candidate)) return candidate;
  }
  return undefined;
}
