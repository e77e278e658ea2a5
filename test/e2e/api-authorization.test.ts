/**
 * The authorization matrix, end to end through the local host with real tokens: every route against no token,
 * each kind of bad token, a token without roles and each role; and the App Service principal header, ignored
 * unless the platform says authentication is on.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { apiRoutes } from "../../src/functions/api.ts";
import type { ApiRole } from "../../src/http/auth.ts";
import { PROBLEM_BASE } from "../../src/http/problem.ts";
import type { ApiRoute } from "../../src/http/route.ts";
import type { ApiServices } from "../../src/functions/api-runtime.ts";
import { startOidcIssuer, type OidcIssuer } from "../../dev/oidc-issuer/index.ts";
import { apiTopology, AUDIENCE, startApiStack, type ApiReply, type ApiStack } from "./api-stack.ts";

/** Who may call what, written out here so that a change to a route's role must change this table too. */
const REQUIRED_ROLE: Readonly<Record<string, ApiRole>> = {
  listConnections: "Portcullis.Reader",
  getConnection: "Portcullis.Reader",
  approveConnection: "Portcullis.Approver",
  rejectConnection: "Portcullis.Approver",
  revokeConnection: "Portcullis.Admin",
  getConnectionOnResource: "Portcullis.Reader",
  approveConnectionOnResource: "Portcullis.Approver",
  rejectConnectionOnResource: "Portcullis.Approver",
  revokeConnectionOnResource: "Portcullis.Admin",
  getOperation: "Portcullis.Reader",
  listDecisions: "Portcullis.Reader",
  listRules: "Portcullis.Reader",
  getRule: "Portcullis.Reader",
  putRule: "Portcullis.Admin",
  deleteRule: "Portcullis.Admin",
  listRuleHistory: "Portcullis.Reader",
  whatIf: "Portcullis.Admin",
  startAudit: "Portcullis.Admin",
  getLatestReport: "Portcullis.Reader",
  getReport: "Portcullis.Reader",
  listSuppressions: "Portcullis.Reader",
  putSuppression: "Portcullis.Admin",
  deleteSuppression: "Portcullis.Admin",
  openApi: "Portcullis.Reader",
};

const RANK: Readonly<Record<ApiRole, number>> = { "Portcullis.Reader": 1, "Portcullis.Approver": 2, "Portcullis.Admin": 3 };

/** The header App Service Authentication injects; `iss` and the identity provider are what Portcullis pins. */
function clientPrincipal(oid: string, roles: readonly string[], from: { iss?: string; authType?: string } = {}): string {
  const claims = [
    { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: oid },
    ...roles.map((val) => ({ typ: "roles", val })),
    ...(from.iss !== undefined ? [{ typ: "iss", val: from.iss }] : []),
  ];
  return Buffer.from(JSON.stringify({ auth_typ: from.authType ?? "aad", name_typ: "name", role_typ: "roles", claims })).toString("base64");
}

describe("authorization matrix", () => {
  let api: ApiStack;
  let stranger: OidcIssuer;

  /**
   * A request for each route that is harmless even when authorized: an unknown query parameter (and a `{}` body),
   * so validation refuses it after authorization and before anything runs.
   */
  function call(route: ApiRoute<ApiServices>, headers: Record<string, string>): Promise<ApiReply> {
    const path = `/api/${route.route
      .replace("{subscriptionId}", "a0a0a0a0-0000-4000-8000-000000000001")
      .replace("{resourceGroup}", "rg-apim")
      .replace("{serviceName}", "apim-one")
      .replace("{providerNamespace}", "Microsoft.ApiManagement")
      .replace("{resourceType}", "service")
      .replace("{resourceName}", "apim-one")
      .replace("{connectionName}", api.connectionId("apim-one", "pe-1").split("/").at(-1)!)
      .replace("{operationId}", randomUUID())
      .replace("{ruleId}", "some-rule")
      .replace("{runId}", "20250601T060000Z-1a2b3c4d")
      .replace("{findingId}", "capacity-0123456789abcdef0123")}?matrix=probe`;
    return api.request(route.method, path, {
      headers,
      ...(route.body !== undefined ? { json: {} } : {}),
      ...(route.idempotent ? { idempotencyKey: randomUUID() } : {}),
    });
  }

  before(async () => {
    [api, stranger] = await Promise.all([
      startApiStack({ topology: apiTopology(["apim-one"], [{ name: "pe-1", instance: "apim-one" }]), managedInstances: ["apim-one"] }),
      startOidcIssuer({ audience: AUDIENCE, tenantId: "stranger" }),
    ]);
  });
  after(() => Promise.all([api.close(), stranger.close()]));

  it("has a required role written down for every route of the API", () => {
    assert.deepEqual(apiRoutes.map((r) => r.name).sort(), Object.keys(REQUIRED_ROLE).sort());
    for (const route of apiRoutes) assert.equal(route.role, REQUIRED_ROLE[route.name], route.name);
  });

  it("answers /health without a token and says nothing about the deployment", async () => {
    const reply = await api.request("GET", "/api/health");
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { status: "ok" });
  });

  it("refuses every route without a token (401 with a Bearer challenge)", async () => {
    for (const route of apiRoutes) {
      const reply = await call(route, {});
      assert.equal(reply.status, 401, route.name);
      assert.equal(reply.headers.get("www-authenticate"), "Bearer", route.name);
      assert.equal(reply.body.type, `${PROBLEM_BASE}unauthenticated`);
    }
  });

  it("refuses every route for each kind of bad token, even one claiming the Admin role", async () => {
    const admin = ["Portcullis.Admin"];
    const badTokens: Record<string, string> = {
      expired: await api.issuer.mintToken({ roles: admin, expiresInSeconds: -600 }),
      "not yet valid": await api.issuer.mintToken({ roles: admin, notBefore: new Date(Date.now() + 600_000) }),
      "wrong audience": await api.issuer.mintToken({ roles: admin, audience: "api://another-app" }),
      "wrong issuer": await stranger.mintToken({ roles: admin }),
      "bad signature (key not in the JWKS)": await api.issuer.mintToken({ roles: admin, signWithUnpublishedKey: true }),
      "tampered payload": await (async () => {
        const [header, , signature] = (await api.issuer.mintToken({ roles: ["Portcullis.Reader"] })).split(".");
        const payload = Buffer.from(JSON.stringify({ iss: api.issuer.issuer, aud: AUDIENCE, oid: "x", roles: admin, exp: 4_000_000_000 })).toString("base64url");
        return `${header}.${payload}.${signature}`;
      })(),
      garbage: "definitely.not.a-token",
    };
    for (const [kind, token] of Object.entries(badTokens)) {
      for (const route of apiRoutes) {
        const reply = await call(route, { authorization: `Bearer ${token}` });
        assert.equal(reply.status, 401, `${kind} on ${route.name}: ${JSON.stringify(reply.body)}`);
        assert.match(reply.headers.get("www-authenticate") ?? "", /^Bearer error="invalid_(token|request)"$/);
      }
    }
  });

  it("gives each role exactly the routes its role (or a role that implies it) allows; no roles gets nothing", async () => {
    const holders: [string, ApiRole[]][] = [
      ["no roles", []],
      ["Reader", ["Portcullis.Reader"]],
      ["Approver", ["Portcullis.Approver"]],
      ["Admin", ["Portcullis.Admin"]],
      ["an unknown role", ["Portcullis.Superuser" as ApiRole]],
    ];
    for (const [label, roles] of holders) {
      const token = await api.token(roles);
      const rank = Math.max(0, ...roles.map((r) => RANK[r] ?? 0));
      for (const route of apiRoutes) {
        const reply = await call(route, { authorization: `Bearer ${token}` });
        const allowed = rank >= RANK[REQUIRED_ROLE[route.name]!];
        if (allowed) {
          assert.equal(reply.status, 400, `${label} may call ${route.name} (refused only for the probe parameter): ${JSON.stringify(reply.body)}`);
          assert.deepEqual(reply.body.errors.map((e: { in: string }) => e.in), ["query"]);
        } else {
          assert.equal(reply.status, 403, `${label} may not call ${route.name}`);
          assert.equal(reply.body.type, `${PROBLEM_BASE}forbidden`);
        }
      }
    }
  });

  it("ignores a spoofed x-ms-client-principal when App Service Authentication is off", async () => {
    const spoofed = clientPrincipal("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", ["Portcullis.Admin"]);
    const reader = await api.token(["Portcullis.Reader"]);
    for (const route of apiRoutes) {
      const alone = await call(route, { "x-ms-client-principal": spoofed });
      assert.equal(alone.status, 401, `${route.name} without a token`);
      const withReader = await call(route, { "x-ms-client-principal": spoofed, authorization: `Bearer ${reader}` });
      if (RANK[REQUIRED_ROLE[route.name]!] > RANK["Portcullis.Reader"]) assert.equal(withReader.status, 403, `${route.name}: the header grants nothing`);
    }
  });

  it("made no ARM or storage write while refusing all of the above", () => {
    assert.equal(api.armWrites(), 0);
    assert.equal(api.storageWrites(), 0);
  });

  it("uses x-ms-client-principal when App Service Authentication is on (WEBSITE_AUTH_ENABLED=true), only from Entra ID and the configured issuer", async () => {
    const platform = await startApiStack({
      topology: apiTopology(["apim-one"], [{ name: "pe-1", instance: "apim-one" }]),
      managedInstances: ["apim-one"],
      settings: { WEBSITE_AUTH_ENABLED: "true" },
    });
    try {
      const ours = { iss: platform.issuer.issuer };
      const asReader = await platform.request("GET", "/api/connections", { headers: { "x-ms-client-principal": clientPrincipal("platform-oid", ["Portcullis.Reader"], ours) } });
      assert.equal(asReader.status, 200);
      const forbidden = await platform.request("POST", "/api/what-if", {
        headers: { "x-ms-client-principal": clientPrincipal("platform-oid", ["Portcullis.Reader"], ours) },
        json: { rules: [] },
        idempotencyKey: randomUUID(),
      });
      assert.equal(forbidden.status, 403);
      const withoutEither = await platform.request("GET", "/api/connections");
      assert.equal(withoutEither.status, 401, "without the header a bearer token is still required");
      const strangers: Record<string, string> = {
        "another identity provider": clientPrincipal("github-user", ["Portcullis.Admin"], { ...ours, authType: "github" }),
        "another tenant's issuer": clientPrincipal("stranger-oid", ["Portcullis.Admin"], { iss: stranger.issuer }),
        "no issuer at all": clientPrincipal("anonymous-oid", ["Portcullis.Admin"]),
      };
      for (const [who, header] of Object.entries(strangers)) {
        const reply = await platform.request("GET", "/api/connections", { headers: { "x-ms-client-principal": header } });
        assert.equal(reply.status, 401, `a principal from ${who} is refused`);
        assert.equal(reply.body.type, `${PROBLEM_BASE}unauthenticated`);
      }
    } finally {
      await platform.close();
    }
  });
});
