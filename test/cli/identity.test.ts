/**
 * Who the CLI records as the actor against Azure (read from the ARM token's claims), and how failures become exit
 * codes. Pure functions: no stack needed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PortcullisError } from "../../src/domain/errors.ts";
import { describeFailure, EXIT, exitCodeForSkipped } from "../../src/cli/exit-codes.ts";
import { identityFromToken, resolveAzureIdentity } from "../../src/cli/identity.ts";

/** An unsigned JWT with these claims (the CLI only reads claims; ARM checks signatures). */
function token(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.c2lnbmF0dXJl`;
}

const OID = "9d1c6a43-0e0b-4f3e-9a57-1d2a3b4c5d6e";
const TID = "11111111-1111-4111-8111-111111111111";

test("a user's ARM token gives the object ID, the UPN as name, and the CLI's app ID", async () => {
  const identity = await identityFromToken(token({ oid: OID, tid: TID, upn: "jane@contoso.com", name: "Jane Doe", appid: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", idtyp: "user" }));
  assert.deepEqual(identity.actor, { objectId: OID, appId: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", name: "jane@contoso.com" });
  assert.equal(identity.display, `jane@contoso.com (user, object ID ${OID}, tenant ${TID})`);
});

test("a service principal's token (pipeline) is shown as an application", async () => {
  const identity = await identityFromToken(token({ oid: OID, tid: TID, appid: "5f0e7a3c-0000-4000-8000-00000000abcd", idtyp: "app" }));
  assert.deepEqual(identity.actor, { objectId: OID, appId: "5f0e7a3c-0000-4000-8000-00000000abcd" });
  assert.match(identity.display, /^application 5f0e7a3c-0000-4000-8000-00000000abcd \(application, object ID /);
});

test("a token without an object ID, or not a JWT at all, is an authentication failure (exit 3)", async () => {
  await assert.rejects(identityFromToken(token({ tid: TID, upn: "x@y" })), (e: unknown) => describeFailure(e).exitCode === EXIT.auth);
  await assert.rejects(identityFromToken("opaque-token"), (e: unknown) => describeFailure(e).exitCode === EXIT.auth);
  await assert.rejects(resolveAzureIdentity({ getToken: async () => null }, "https://management.azure.com/.default"), (e: unknown) => describeFailure(e).exitCode === EXIT.auth);
});

test("the token is requested for the ARM scope it is given", async () => {
  const scopes: unknown[] = [];
  await resolveAzureIdentity({ getToken: async (scope) => (scopes.push(scope), { token: token({ oid: OID }) }) }, "https://management.azure.com/.default");
  assert.deepEqual(scopes, ["https://management.azure.com/.default"]);
});

test("failures map to the documented exit codes", () => {
  const codeOf = (error: unknown) => describeFailure(error).exitCode;
  assert.equal(codeOf(new PortcullisError("invalid-input", "bad")), EXIT.usage);
  assert.equal(codeOf(new PortcullisError("not-found", "gone")), EXIT.usage);
  assert.equal(codeOf(new PortcullisError("conflict", "not Pending")), EXIT.usage);
  assert.equal(codeOf(new PortcullisError("precondition-failed", "stale")), EXIT.usage);
  assert.equal(codeOf(new PortcullisError("unauthenticated", "401")), EXIT.auth);
  assert.equal(codeOf(new PortcullisError("forbidden", "403")), EXIT.auth);
  assert.equal(codeOf(new PortcullisError("transient", "503")), EXIT.unavailable);
  assert.equal(codeOf(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })), EXIT.unavailable);
  const credential = Object.assign(new Error("DefaultAzureCredential failed to retrieve a token"), { name: "CredentialUnavailableError" });
  assert.equal(codeOf(new PortcullisError("transient", "wrapped", { cause: credential })), EXIT.auth, "a sign-in failure wrapped by the SDK is still exit 3");
  assert.match(describeFailure(credential).message, /az login/);
  assert.equal(exitCodeForSkipped([]), EXIT.success);
  assert.equal(exitCodeForSkipped(["internal", "forbidden"]), EXIT.auth);
  assert.equal(exitCodeForSkipped(["internal"]), EXIT.unavailable);
});

test("storage errors are shown as their message, not as OData JSON", () => {
  const odata = JSON.stringify({ "odata.error": { code: "AuthorizationPermissionMismatch", message: { lang: "en-US", value: "This request is not authorized.\nRequestId:1" } } });
  const { exitCode, message } = describeFailure(new PortcullisError("forbidden", odata, { statusCode: 403 }));
  assert.equal(exitCode, EXIT.auth);
  assert.match(message, /^AuthorizationPermissionMismatch: This request is not authorized\./);
});
