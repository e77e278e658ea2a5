/**
 * The API's authenticator against a real OpenID issuer (the local one, over HTTPS): which tokens prove a caller and
 * which do not, role nesting, and the App Service principal header trusted only when the platform says so.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { base64url, SignJWT } from "jose";
import { startOidcIssuer, type OidcIssuer } from "../../dev/oidc-issuer/index.ts";
import { createAuthenticator, grantedRoles, readClientPrincipal, type Authenticator } from "../../src/http/auth.ts";
import { createTrustedFetch, type GetFetch } from "../../src/http/trusted-fetch.ts";
import { PortcullisError } from "../../src/domain/errors.ts";
import { ProblemError } from "../../src/http/problem.ts";

const AUDIENCE = "api://portcullis-tests";

function bearer(token: string): Headers {
  return new Headers({ authorization: `Bearer ${token}` });
}

function clientPrincipalHeader(claims: { typ: string; val: string }[]): string {
  return Buffer.from(JSON.stringify({ auth_typ: "aad", name_typ: "name", role_typ: "roles", claims })).toString("base64");
}

async function refusal(authenticator: Authenticator, headers: Headers): Promise<ProblemError> {
  try {
    await authenticator.authenticate(headers);
  } catch (error) {
    assert.ok(error instanceof ProblemError, `expected a 401 problem, got ${String(error)}`);
    assert.equal(error.problemType, "unauthenticated");
    return error;
  }
  assert.fail("the request was authenticated");
}

describe("bearer token authentication", () => {
  let issuer: OidcIssuer;
  let other: OidcIssuer;
  let authenticator: Authenticator;

  before(async () => {
    [issuer, other] = await Promise.all([startOidcIssuer({ audience: AUDIENCE }), startOidcIssuer({ audience: AUDIENCE, tenantId: "other-tenant" })]);
    authenticator = createAuthenticator({ issuer: issuer.issuer, audience: AUDIENCE, caPem: issuer.caPem, trustAppServicePrincipal: false });
  });
  after(() => Promise.all([issuer.close(), other.close()]));

  it("accepts a valid token and records its oid, azp and name as the caller", async () => {
    const token = await issuer.mintToken({ roles: ["Portcullis.Approver"], oid: "11111111-2222-3333-4444-555555555555", name: "Ada Lovelace", appid: "client-1" });
    const principal = await authenticator.authenticate(bearer(token));
    assert.equal(principal.objectId, "11111111-2222-3333-4444-555555555555");
    assert.equal(principal.appId, "client-1");
    assert.equal(principal.name, "Ada Lovelace");
    assert.deepEqual(principal.roles, ["Portcullis.Reader", "Portcullis.Approver"]);
    assert.equal(principal.authenticatedBy, "bearer-token");
  });

  it("refuses a missing, malformed or non-bearer Authorization header", async () => {
    const missing = await refusal(authenticator, new Headers());
    assert.equal(missing.headers["www-authenticate"], "Bearer");
    await refusal(authenticator, new Headers({ authorization: "Basic dXNlcjpwYXNz" }));
    await refusal(authenticator, new Headers({ authorization: "Bearer not-a-jwt" }));
    await refusal(authenticator, new Headers({ authorization: `Bearer ${"a".repeat(20_000)}.b.c` }));
  });

  it("allows 60 s of clock skew on expiry and no more", async () => {
    const justExpired = await issuer.mintToken({ expiresInSeconds: -30 });
    assert.equal((await authenticator.authenticate(bearer(justExpired))).objectId.length > 0, true);
    const expired = await refusal(authenticator, bearer(await issuer.mintToken({ expiresInSeconds: -120 })));
    assert.match(expired.detail, /expired/);
    assert.equal(expired.headers["www-authenticate"], 'Bearer error="invalid_token"');
  });

  it("refuses a token that is not valid yet", async () => {
    const early = await refusal(authenticator, bearer(await issuer.mintToken({ notBefore: new Date(Date.now() + 300_000) })));
    assert.match(early.detail, /not valid yet/);
  });

  it("refuses a token for another audience", async () => {
    const problem = await refusal(authenticator, bearer(await issuer.mintToken({ audience: "api://some-other-api" })));
    assert.match(problem.detail, /audience/);
  });

  it("refuses a token from another issuer, even a well-formed one", async () => {
    const problem = await refusal(authenticator, bearer(await other.mintToken({ roles: ["Portcullis.Admin"] })));
    assert.match(problem.detail, /signature|issuer/);
  });

  it("refuses a token that claims the trusted issuer but is signed with a key not in its JWKS", async () => {
    const problem = await refusal(authenticator, bearer(await issuer.mintToken({ roles: ["Portcullis.Admin"], signWithUnpublishedKey: true })));
    assert.match(problem.detail, /signature/);
  });

  it("refuses unsigned (alg none) and HMAC tokens, whatever they claim", async () => {
    const claims = { iss: issuer.issuer, aud: AUDIENCE, oid: "attacker", roles: ["Portcullis.Admin"], exp: Math.floor(Date.now() / 1000) + 600 };
    const none = `${base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url.encode(JSON.stringify(claims))}.`;
    await refusal(authenticator, bearer(`${none}AAAA`));
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(issuer.caPem));
    const problem = await refusal(authenticator, bearer(hmac));
    assert.match(problem.detail, /RS256/);
  });

  it("refuses a token without an object ID, since the caller could not be recorded", async () => {
    const problem = await refusal(authenticator, bearer(await issuer.mintToken({ extraClaims: { oid: undefined } })));
    assert.match(problem.detail, /oid/);
  });

  it("ignores x-ms-client-principal entirely when App Service Authentication is off", async () => {
    const spoofed = clientPrincipalHeader([
      { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: "spoofed" },
      { typ: "roles", val: "Portcullis.Admin" },
    ]);
    await refusal(authenticator, new Headers({ "x-ms-client-principal": spoofed }));
    const reader = await issuer.mintToken({ roles: ["Portcullis.Reader"], oid: "reader-oid" });
    const principal = await authenticator.authenticate(new Headers({ "x-ms-client-principal": spoofed, authorization: `Bearer ${reader}` }));
    assert.equal(principal.objectId, "reader-oid");
    assert.deepEqual(principal.roles, ["Portcullis.Reader"]);
  });

  it("reads x-ms-client-principal when App Service Authentication is on, and falls back to the token without it", async () => {
    const platform = createAuthenticator({ issuer: issuer.issuer, audience: AUDIENCE, caPem: issuer.caPem, trustAppServicePrincipal: true });
    const header = clientPrincipalHeader([
      { typ: "iss", val: issuer.issuer },
      { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: "platform-oid" },
      { typ: "azp", val: "client-9" },
      { typ: "roles", val: "Portcullis.Approver" },
    ]);
    const principal = await platform.authenticate(new Headers({ "x-ms-client-principal": header }));
    assert.deepEqual([principal.objectId, principal.appId, principal.authenticatedBy], ["platform-oid", "client-9", "app-service"]);
    assert.deepEqual(principal.roles, ["Portcullis.Reader", "Portcullis.Approver"]);
    const viaToken = await platform.authenticate(bearer(await issuer.mintToken({ oid: "token-oid" })));
    assert.equal(viaToken.objectId, "token-oid");
    await refusal(platform, new Headers({ "x-ms-client-principal": "%%%not base64 json%%%" }));
  });

  it("with App Service Authentication on, refuses a principal from another identity provider, issuer or tenant (401), as the bearer path does", async () => {
    const platform = createAuthenticator({ issuer: issuer.issuer, audience: AUDIENCE, caPem: issuer.caPem, trustAppServicePrincipal: true });
    const oid = { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: "platform-oid" };
    const admin = { typ: "roles", val: "Portcullis.Admin" };
    const withProvider = (authType: string, claims: { typ: string; val: string }[]) =>
      Buffer.from(JSON.stringify({ auth_typ: authType, role_typ: "roles", claims })).toString("base64");
    const refusals: Record<string, string> = {
      "a GitHub sign-in": withProvider("github", [oid, admin, { typ: "iss", val: issuer.issuer }]),
      "a Google sign-in": withProvider("google", [oid, admin]),
      "an Entra principal of another issuer": withProvider("aad", [oid, admin, { typ: "iss", val: other.issuer }]),
      "an Entra principal of another tenant": withProvider("aad", [oid, admin, { typ: "iss", val: "https://login.microsoftonline.com/99999999-9999-4999-8999-999999999999/v2.0" }]),
      "a tenant claim that contradicts the issuer": withProvider("aad", [oid, admin, { typ: "iss", val: issuer.issuer }, { typ: "http://schemas.microsoft.com/identity/claims/tenantid", val: "other-tenant" }]),
      "an Entra principal naming no issuer or tenant": withProvider("aad", [oid, admin]),
    };
    for (const [kind, header] of Object.entries(refusals)) {
      const problem = await refusal(platform, new Headers({ "x-ms-client-principal": header }));
      assert.match(problem.detail, /identity provider|issuer|tenant/, kind);
    }
  });

  it("with App Service Authentication on, accepts an Entra principal of the configured tenant by its issuer or tenant claim", async () => {
    const tenant = "0a0a0a0a-0000-4000-8000-00000000000a";
    const platform = createAuthenticator({ issuer: `https://login.microsoftonline.com/${tenant}/v2.0`, audience: AUDIENCE, trustAppServicePrincipal: true });
    const oid = { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: "platform-oid" };
    const principalWith = (claims: { typ: string; val: string }[]) =>
      Buffer.from(JSON.stringify({ auth_typ: "aad", role_typ: "roles", claims: [oid, ...claims] })).toString("base64");
    for (const claims of [
      [{ typ: "iss", val: `https://login.microsoftonline.com/${tenant}/v2.0` }],
      [{ typ: "iss", val: `https://sts.windows.net/${tenant}/` }],
      [{ typ: "http://schemas.microsoft.com/identity/claims/tenantid", val: tenant.toUpperCase() }],
      [{ typ: "tid", val: tenant }, { typ: "iss", val: `https://sts.windows.net/${tenant}/` }],
    ]) {
      const principal = await platform.authenticate(new Headers({ "x-ms-client-principal": principalWith(claims) }));
      assert.equal(principal.objectId, "platform-oid", JSON.stringify(claims));
    }
  });

  it("a role claim named like an Object.prototype key grants nothing and does not break the role check (no 503)", async () => {
    const token = await issuer.mintToken({ roles: ["constructor", "hasOwnProperty", "__proto__", "toString", "Portcullis.Reader"] });
    const principal = await authenticator.authenticate(bearer(token));
    assert.deepEqual(principal.roles, ["Portcullis.Reader"]);
  });

  it("caches a failed OpenID discovery: junk tokens within the back-off cost one discovery fetch, and it recovers after the back-off", async () => {
    let now = 1_000_000;
    let discoveryUp = false;
    let discoveryFetches = 0;
    const real = createTrustedFetch(issuer.caPem);
    const fetch: GetFetch = async (url, init) => {
      if (url.endsWith("/.well-known/openid-configuration")) {
        discoveryFetches += 1;
        if (!discoveryUp) throw new TypeError("fetch failed: connect ECONNREFUSED");
      }
      return real(url, init);
    };
    const cached = createAuthenticator({ issuer: issuer.issuer, audience: AUDIENCE, trustAppServicePrincipal: false, fetch, now: () => now });
    const transient = (error: unknown) => error instanceof PortcullisError && error.kind === "transient";
    const junk = await issuer.mintToken({ roles: ["Portcullis.Admin"], signWithUnpublishedKey: true });
    for (let i = 0; i < 25; i++) await assert.rejects(cached.authenticate(bearer(junk)), transient);
    assert.equal(discoveryFetches, 1, "one discovery fetch for 25 junk tokens");

    discoveryUp = true;
    now += 500;
    await assert.rejects(cached.authenticate(bearer(await issuer.mintToken())), transient, "still inside the back-off window");
    assert.equal(discoveryFetches, 1);

    now += 60_000;
    const principal = await cached.authenticate(bearer(await issuer.mintToken({ oid: "after-recovery" })));
    assert.equal(principal.objectId, "after-recovery");
    assert.equal(discoveryFetches, 2);
    await refusal(cached, bearer(junk));
    assert.equal(discoveryFetches, 2, "a successful discovery is kept");
  });

  it("backs off longer after each consecutive discovery failure, up to a bound", async () => {
    let now = 0;
    let discoveryFetches = 0;
    const fetch: GetFetch = async () => {
      discoveryFetches += 1;
      throw new TypeError("fetch failed");
    };
    const failing = createAuthenticator({ issuer: issuer.issuer, audience: AUDIENCE, trustAppServicePrincipal: false, fetch, now: () => now });
    const token = await issuer.mintToken();
    const attemptsAt = async (times: readonly number[]) => {
      for (const t of times) {
        now = t;
        await assert.rejects(failing.authenticate(bearer(token)));
      }
    };
    await attemptsAt([0]);
    assert.equal(discoveryFetches, 1);
    await attemptsAt([999, 1_000]);
    assert.equal(discoveryFetches, 2, "the first back-off is 1 s");
    await attemptsAt([2_999, 3_000]);
    assert.equal(discoveryFetches, 3, "the second is 2 s");
    for (let i = 0; i < 10; i++) await attemptsAt([now + 120_000]);
    assert.equal(discoveryFetches, 13);
    const last = now;
    await attemptsAt([last + 59_999]);
    assert.equal(discoveryFetches, 13, "still backing off");
    await attemptsAt([last + 60_000]);
    assert.equal(discoveryFetches, 14, "never more than 60 s");
  });

  it("answers 503 (transient), not 401, when the issuer cannot be reached", async () => {
    const unreachable = createAuthenticator({ issuer: "https://127.0.0.1:1/tenant/v2.0", audience: AUDIENCE, trustAppServicePrincipal: false });
    const token = await issuer.mintToken();
    await assert.rejects(unreachable.authenticate(bearer(token)), (error: unknown) => error instanceof PortcullisError && error.kind === "transient");
  });
});

describe("app roles", () => {
  it("nest: Admin implies Approver implies Reader; unknown roles grant nothing", () => {
    assert.deepEqual(grantedRoles(["Portcullis.Admin"]), ["Portcullis.Reader", "Portcullis.Approver", "Portcullis.Admin"]);
    assert.deepEqual(grantedRoles(["Portcullis.Approver"]), ["Portcullis.Reader", "Portcullis.Approver"]);
    assert.deepEqual(grantedRoles(["Portcullis.Reader"]), ["Portcullis.Reader"]);
    assert.deepEqual(grantedRoles(["portcullis.admin", "Admin", 42, "Portcullis.Admin "]), []);
    assert.deepEqual(grantedRoles(["constructor", "hasOwnProperty", "__proto__", "toString", "valueOf", "isPrototypeOf"]), []);
  });

  it("are read from the platform's role claims, whatever role_typ names them", () => {
    const header = Buffer.from(
      JSON.stringify({
        auth_typ: "aad",
        role_typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
        claims: [
          { typ: "iss", val: "https://login.microsoftonline.com/0a0a0a0a-0000-4000-8000-00000000000a/v2.0" },
          { typ: "oid", val: "o" },
          { typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role", val: "Portcullis.Admin" },
        ],
      }),
    ).toString("base64");
    const expected = { issuer: "https://login.microsoftonline.com/0a0a0a0a-0000-4000-8000-00000000000a/v2.0" };
    assert.deepEqual(readClientPrincipal(header, expected).roles, ["Portcullis.Reader", "Portcullis.Approver", "Portcullis.Admin"]);
  });
});
