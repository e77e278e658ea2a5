/** The local OpenID issuer: discovery, JWKS and tokens a standard verifier (jose) accepts, over its own HTTPS. */
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, it } from "node:test";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { objectIdForClient, startOidcIssuer, tokenCurlCommand, type OidcIssuer } from "../../dev/oidc-issuer/index.ts";
import { createTrustedFetch } from "../../src/http/trusted-fetch.ts";

describe("local OpenID issuer", () => {
  let issuer: OidcIssuer;
  const trusted = () => createTrustedFetch(issuer.caPem);

  before(async () => {
    issuer = await startOidcIssuer({ audience: "api://portcullis-tests", tenantId: "contoso" });
  });
  after(() => issuer.close());

  it("publishes a discovery document naming itself and its JWKS, reachable only when its CA is trusted", async () => {
    assert.match(issuer.issuer, /^https:\/\/127\.0\.0\.1:\d+\/contoso\/v2\.0$/);
    const discovery = (await (await trusted()(issuer.discoveryUrl)).json()) as Record<string, unknown>;
    assert.equal(discovery["issuer"], issuer.issuer);
    assert.equal(discovery["jwks_uri"], issuer.jwksUri);
    assert.equal(discovery["token_endpoint"], issuer.tokenEndpoint);
    assert.deepEqual(discovery["id_token_signing_alg_values_supported"], ["RS256"]);
    await assert.rejects(() => createTrustedFetch(undefined)(issuer.discoveryUrl), "the self-signed certificate is not publicly trusted");
  });

  it("mints RS256 tokens with Entra v2.0 claims that verify against its JWKS", async () => {
    const jwks = (await (await trusted()(issuer.jwksUri)).json()) as JSONWebKeySet;
    const token = await issuer.mintToken({ roles: ["Portcullis.Approver"], oid: "obj-1", name: "Ada", appid: "client-1" });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: issuer.issuer,
      audience: "api://portcullis-tests",
      algorithms: ["RS256"],
    });
    assert.equal(protectedHeader.alg, "RS256");
    assert.deepEqual(payload["roles"], ["Portcullis.Approver"]);
    assert.equal(payload["oid"], "obj-1");
    assert.equal(payload["azp"], "client-1");
    assert.equal(payload["name"], "Ada");
    assert.equal(payload["ver"], "2.0");
    assert.ok(payload.exp! > payload.iat!);
  });

  it("can mint expired, not-yet-valid, other-audience and forged tokens for negative tests", async () => {
    const jwks = createLocalJWKSet((await (await trusted()(issuer.jwksUri)).json()) as JSONWebKeySet);
    const options = { issuer: issuer.issuer, audience: "api://portcullis-tests", algorithms: ["RS256"] };
    await assert.rejects(jwtVerify(await issuer.mintToken({ expiresInSeconds: -300 }), jwks, options), { code: "ERR_JWT_EXPIRED" });
    await assert.rejects(jwtVerify(await issuer.mintToken({ notBefore: new Date(Date.now() + 600_000) }), jwks, options), { code: "ERR_JWT_CLAIM_VALIDATION_FAILED" });
    await assert.rejects(jwtVerify(await issuer.mintToken({ audience: "api://other" }), jwks, options), { code: "ERR_JWT_CLAIM_VALIDATION_FAILED" });
    const forged = await issuer.mintToken({ signWithUnpublishedKey: true });
    await assert.rejects(jwtVerify(forged, jwks, options), { code: "ERR_JWKS_NO_MATCHING_KEY" });
  });

  it("issues client-credentials tokens for local use, with the roles asked for and a stable object ID", async () => {
    const form = new URLSearchParams({ grant_type: "client_credentials", client_id: "servicenow-local", roles: "Portcullis.Reader Portcullis.Approver" });
    const response = await new Promise<Response>((resolve, reject) => {
      const req = request(issuer.tokenEndpoint, { method: "POST", ca: issuer.caPem, headers: { "content-type": "application/x-www-form-urlencoded" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
      });
      req.on("error", reject);
      req.end(form.toString());
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { token_type: string; access_token: string; expires_in: number };
    assert.equal(body.token_type, "Bearer");
    const claims = decodeJwt(body.access_token);
    assert.deepEqual(claims["roles"], ["Portcullis.Reader", "Portcullis.Approver"]);
    assert.equal(claims["oid"], objectIdForClient("servicenow-local"));
    assert.equal(claims["azp"], "servicenow-local");
    assert.equal(decodeProtectedHeader(body.access_token).alg, "RS256");
  });

  it("prints a curl command that asks the token endpoint for the given roles", () => {
    const command = tokenCurlCommand(issuer, { caFile: ".local/oidc issuer.pem", clientId: "me", roles: ["Portcullis.Admin"] });
    assert.match(command, /^curl -s --cacert '\.local\/oidc issuer\.pem' https:\/\/127\.0\.0\.1:\d+\/contoso\/oauth2\/v2\.0\/token /);
    assert.match(command, /-d client_id=me -d roles=Portcullis\.Admin$/);
  });
});
