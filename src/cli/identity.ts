/**
 * Who is running the CLI: the actor recorded on manual decisions and rule changes, and shown at the top of every
 * run. Against Azure it is the identity in the ARM token DefaultAzureCredential obtains (so exactly the principal
 * ARM authorizes the writes for): object ID from `oid`, application from `appid`/`azp`, name from
 * `upn`/`unique_name`/`preferred_username`/`name`. The token is only read, never validated here: ARM validates it
 * on every call. With the local emulator's credential (the local stack) it is one fixed local operator.
 */
import { z } from "zod";
import type { HumanActor } from "../domain/decisions/decision.ts";
import { PortcullisError } from "../domain/errors.ts";

export interface CliIdentity {
  readonly actor: HumanActor;
  /** One line for the banner, e.g. "jane@contoso.com (user, oid 1234…)". */
  readonly display: string;
}

/** The identity of every run that uses the local emulator's credential. */
export const LOCAL_OPERATOR: CliIdentity = {
  actor: { objectId: "local-operator", name: "Local operator (portcullis CLI)" },
  display: "Local operator (the local ARM emulator's credential)",
};

const tokenClaims = z.looseObject({
  oid: z.string().min(1),
  tid: z.string().optional(),
  appid: z.string().optional(),
  azp: z.string().optional(),
  upn: z.string().optional(),
  unique_name: z.string().optional(),
  preferred_username: z.string().optional(),
  name: z.string().optional(),
  idtyp: z.string().optional(),
});

/** Reads the identity out of an ARM access token (no signature check: the token's audience is ARM, not us). */
export async function identityFromToken(token: string): Promise<CliIdentity> {
  const { decodeJwt } = await import("jose");
  let payload: unknown;
  try {
    payload = decodeJwt(token);
  } catch {
    throw new PortcullisError("unauthenticated", "The ARM token from the signed-in credential is not a JWT; cannot tell who is signed in.");
  }
  const parsed = tokenClaims.safeParse(payload);
  if (!parsed.success) throw new PortcullisError("unauthenticated", "The ARM token carries no object ID (oid); cannot record who acts.");
  const claims = parsed.data;
  const name = claims.upn ?? claims.unique_name ?? claims.preferred_username ?? claims.name;
  const appId = claims.appid ?? claims.azp;
  const isApp = claims.idtyp === "app" || (name === undefined && appId !== undefined);
  const actor: HumanActor = { objectId: claims.oid, ...(appId !== undefined ? { appId } : {}), ...(name !== undefined ? { name } : {}) };
  const who = name ?? (isApp ? `application ${appId}` : claims.oid);
  const display = `${who} (${isApp ? "application" : "user"}, object ID ${claims.oid}${claims.tid !== undefined ? `, tenant ${claims.tid}` : ""})`;
  return { actor, display };
}

/** The part of a TokenCredential this module uses (src/cli stays free of @azure imports; adapters own those). */
export interface TokenSource {
  getToken(scopes: string | string[]): Promise<{ readonly token: string } | null>;
}

/** Gets an ARM token from the credential and reads the identity out of it. */
export async function resolveAzureIdentity(credential: TokenSource, scope: string): Promise<CliIdentity> {
  const token = await credential.getToken(scope);
  if (token === null) throw new PortcullisError("unauthenticated", "The credential returned no token for Azure Resource Manager.");
  return await identityFromToken(token.token);
}
