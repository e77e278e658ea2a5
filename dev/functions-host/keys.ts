/**
 * Function keys as the real host checks them (SecretManager + AuthenticationLevelHandler):
 * - the key comes from the `x-functions-key` header, else the `code` query parameter; when the header is
 *   present it wins even if empty or wrong;
 * - the master key grants admin, which satisfies every level; a system key grants only its extension's
 *   webhook (here `eventgrid_extension`); the default host key and the function's own key grant function level;
 * - values are compared in constant time.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

/** The keys a caller presents to reach HTTP functions, the Event Grid webhook and the admin API. */
export interface HostKeys {
  /** `_master`: admin level, accepted everywhere. */
  readonly master: string;
  /** One key per function name, valid for that function only. */
  readonly functionKeys: Readonly<Record<string, string>>;
  /** The host-level `default` function key, valid for every function-level route. */
  readonly defaultFunctionKey: string;
  /** The host's `eventgrid_extension` system key, required by /runtime/webhooks/eventgrid. */
  readonly eventGridSystemKey: string;
}

/** What a presented key is worth for one request. */
export type KeyGrant = "admin" | "system" | "function" | "none";

/** Fills in any key not given with a random one, the way the host generates secrets on first start. */
export function createHostKeys(functionNames: readonly string[], given: Partial<HostKeys> = {}): HostKeys {
  const functionKeys: Record<string, string> = {};
  for (const name of functionNames) functionKeys[name] = given.functionKeys?.[name] ?? generateKey();
  return {
    master: given.master ?? generateKey(),
    functionKeys: { ...given.functionKeys, ...functionKeys },
    defaultFunctionKey: given.defaultFunctionKey ?? generateKey(),
    eventGridSystemKey: given.eventGridSystemKey ?? generateKey(),
  };
}

/** The key a request presents: the `x-functions-key` header if present, otherwise the `code` query value. */
export function presentedKey(header: string | undefined, query: URLSearchParams): string | undefined {
  const value = header ?? query.get("code") ?? undefined;
  return value === undefined || value.length === 0 ? undefined : value;
}

/** The level a key grants for `functionName` (undefined for host-level endpoints). */
export function grantOf(key: string | undefined, keys: HostKeys, functionName?: string): KeyGrant {
  if (key === undefined) return "none";
  if (secretEquals(key, keys.master)) return "admin";
  if (secretEquals(key, keys.eventGridSystemKey)) return "system";
  if (secretEquals(key, keys.defaultFunctionKey)) return "function";
  const own = functionName === undefined ? undefined : keys.functionKeys[functionName];
  return own !== undefined && secretEquals(key, own) ? "function" : "none";
}

function generateKey(): string {
  return randomBytes(32).toString("base64url");
}

function secretEquals(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
