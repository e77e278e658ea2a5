/**
 * The tenant port: the challenge parser on ARM's real answers and on hostile or changed ones (table-driven), then
 * the adapter over real HTTPS against the ARM emulator (no token sent, counted, transient failures classed) and
 * against a scripted stub for answers the emulator never gives (redirects, 200s, strange headers).
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startArmEmulator, type ArmEmulator, type TopologyInput } from "../../../dev/arm-emulator/index.ts";
import { createArmPorts, type AzureArmPorts } from "../../../src/adapters/arm/index.ts";
import { authorityHostsFor, createTenantPort, parseChallenges, tenantFromChallenge } from "../../../src/adapters/arm/tenants.ts";
import { createArmCallCounter } from "../../../src/adapters/arm/call-counter.ts";
import { PortcullisError } from "../../../src/domain/errors.ts";
import { startHttpsStub, type HttpsStub, type StubAnswer } from "./https-stub.ts";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const PUBLIC = authorityHostsFor("https://management.azure.com");
const arm = (uri: string, rest = `error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`) =>
  `Bearer authorization_uri="${uri}", ${rest}`;

describe("reading the tenant from ARM's 401 challenge", () => {
  const accepted: [string, string, string][] = [
    ["ARM's own answer (Liftr HttpBearerChallengeTests)", arm(`https://login.windows.net/${TENANT}`), TENANT],
    ["the scheme in lower case and parameters in another order", `bearer error="invalid_token", authorization_uri="https://login.windows.net/${TENANT}"`, TENANT],
    ["an upper-case GUID (returned lower case)", arm(`https://login.windows.net/${TENANT.toUpperCase()}`), TENANT],
    ["Entra's other public host", arm(`https://login.microsoftonline.com/${TENANT}`), TENANT],
    ["a trailing slash after the tenant", arm(`https://login.windows.net/${TENANT}/`), TENANT],
    ["another scheme's challenge beside it", `${arm(`https://login.windows.net/${TENANT}`)}, PoP nonce="abc"`, TENANT],
    ["an escaped quote in the description", arm(`https://login.windows.net/${TENANT}`, `error="invalid_token", error_description="say \\"hi\\""`), TENANT],
  ];
  for (const [name, header, tenant] of accepted) {
    test(`accepts ${name}`, () => assert.equal(tenantFromChallenge(header, PUBLIC), tenant));
  }

  const refused: [string, string | undefined][] = [
    ["no header", undefined],
    ["an empty header", ""],
    ["ARM's challenge that names no tenant (SDK tests' 'ARM' answer)", arm("https://login.windows.net/")],
    ["the 'common' authority", arm("https://login.windows.net/common")],
    ["the nil GUID", arm("https://login.windows.net/00000000-0000-0000-0000-000000000000")],
    ["a host that is not Entra's", arm(`https://login.evil.example/${TENANT}`)],
    ["a look-alike host", arm(`https://login.windows.net.evil.example/${TENANT}`)],
    ["userinfo before the host", arm(`https://login.windows.net@evil.example/${TENANT}`)],
    ["userinfo naming Entra", arm(`https://evil.example@login.windows.net/${TENANT}`)],
    ["a port", arm(`https://login.windows.net:8443/${TENANT}`)],
    ["plain http", arm(`http://login.windows.net/${TENANT}`)],
    ["a query", arm(`https://login.windows.net/${TENANT}?tenant=other`)],
    ["a fragment", arm(`https://login.windows.net/${TENANT}#x`)],
    ["more path after the tenant", arm(`https://login.windows.net/${TENANT}/oauth2/authorize`)],
    ["a path that only normalises to the tenant", arm(`https://login.windows.net/x/../${TENANT}`)],
    ["a percent-encoded tenant", arm(`https://login.windows.net/%37${TENANT.slice(1)}`)],
    ["a backslash instead of the slash", arm(`https://login.windows.net\\${TENANT}`)],
    ["a tenant that is not a GUID", arm("https://login.windows.net/contoso.onmicrosoft.com")],
    ["authorization_uri given twice", `Bearer authorization_uri="https://login.windows.net/${TENANT}", authorization_uri="https://login.windows.net/${TENANT}", error="invalid_token"`],
    [
      "two Bearer challenges naming different tenants",
      `${arm(`https://login.windows.net/${TENANT}`)}, ${arm("https://login.windows.net/11111111-1111-4111-8111-111111111111")}`,
    ],
    ["another error than invalid_token (a CAE claims challenge)", arm(`https://login.windows.net/${TENANT}`, `error="insufficient_claims", claims="e30="`)],
    ["no error parameter", `Bearer authorization_uri="https://login.windows.net/${TENANT}"`],
    ["another scheme only", `Basic authorization_uri="https://login.windows.net/${TENANT}", error="invalid_token"`],
    ["Key Vault's `authorization` parameter instead of ARM's", `Bearer authorization="https://login.windows.net/${TENANT}", error="invalid_token"`],
    ["an unterminated quote", `Bearer authorization_uri="https://login.windows.net/${TENANT}, error="invalid_token`],
    ["garbage between parameters", `Bearer authorization_uri="https://login.windows.net/${TENANT}" ; error="invalid_token"`],
    ["an oversized header", arm(`https://login.windows.net/${TENANT}`, `error="invalid_token", error_description="${"x".repeat(5000)}"`)],
    ["another cloud's host for public ARM", arm(`https://login.microsoftonline.us/${TENANT}`)],
  ];
  for (const [name, header] of refused) {
    test(`reads no tenant from ${name}`, () => assert.equal(tenantFromChallenge(header, PUBLIC), undefined));
  }

  test("each cloud accepts its own Entra hosts only; an unknown ARM endpoint accepts none unless a local issuer is configured", () => {
    const gov = authorityHostsFor("https://management.usgovcloudapi.net");
    assert.equal(tenantFromChallenge(arm(`https://login.microsoftonline.us/${TENANT}`), gov), TENANT);
    assert.equal(tenantFromChallenge(arm(`https://login.windows.net/${TENANT}`), gov), undefined);
    const china = authorityHostsFor("https://management.chinacloudapi.cn");
    assert.equal(tenantFromChallenge(arm(`https://login.chinacloudapi.cn/${TENANT}`), china), TENANT);
    assert.equal(tenantFromChallenge(arm(`https://login.windows.net/${TENANT}`), authorityHostsFor("https://arm.example.org")), undefined);
    const local = authorityHostsFor("https://arm.example.org", "https://127.0.0.1:8444/arm-emulator/oauth2/v2.0/token");
    assert.equal(tenantFromChallenge(arm(`https://127.0.0.1:8444/${TENANT}`), local), TENANT);
    assert.equal(tenantFromChallenge(arm(`https://127.0.0.1:9999/${TENANT}`), local), undefined, "the issuer's port is part of its host");
    assert.equal(tenantFromChallenge(arm(`https://login.windows.net/${TENANT}`), authorityHostsFor("https://127.0.0.1:8443")), TENANT, "the emulator stands in for public ARM");
  });

  test("the challenge parser splits several challenges and refuses a parameter given twice", () => {
    assert.deepEqual(
      parseChallenges(`Bearer a="1", b=two, PoP c="3"`)?.map((c) => [c.scheme, Object.fromEntries(c.params)]),
      [
        ["bearer", { a: "1", b: "two" }],
        ["pop", { c: "3" }],
      ],
    );
    assert.equal(parseChallenges(`Bearer a="1", A="2"`), undefined);
  });
});

const SUBSCRIPTION = "a0a0a0a0-0000-4000-8000-000000000001";
const UNKNOWN_SUBSCRIPTION = "b0b0b0b0-0000-4000-8000-00000000000b";
const SUB_TENANT = "11111111-1111-4111-8111-111111111111";
const TOPOLOGY: TopologyInput = {
  tenants: [{ id: SUB_TENANT }],
  subscriptions: [{ id: SUBSCRIPTION, tenantId: SUB_TENANT, resourceGroups: [] }],
};

describe("the tenant port over HTTPS against the ARM emulator", () => {
  let emulator: ArmEmulator;
  before(async () => {
    emulator = await startArmEmulator({ topology: TOPOLOGY });
  });
  after(async () => {
    await emulator?.close();
  });
  beforeEach(() => emulator.reset());

  const ports = (): AzureArmPorts =>
    createArmPorts({ endpoint: emulator.url, credential: emulator.credential(), caPem: emulator.caPem, maxRetries: 4, retryDelayInMs: 10, maxRetryDelayInMs: 20 });

  test("names a subscription's tenant from one unauthenticated GET, counted with the other ARM calls", async () => {
    const arm = ports();
    assert.equal(await arm.tenants.discoverSubscriptionTenant(SUBSCRIPTION.toUpperCase()), SUB_TENANT);
    const [request, ...more] = emulator.requests();
    assert.equal(more.length, 0);
    assert.equal(request!.method, "GET");
    assert.equal(request!.path, `/subscriptions/${SUBSCRIPTION}`);
    assert.equal(request!.apiVersion, "2022-12-01");
    assert.equal(request!.status, 401, "ARM refused it: no token was sent");
    assert.equal(request!.principalId, undefined);
    assert.deepEqual(arm.callCounter.snapshot().requestsByMethod, { GET: 1 });
  });

  test("an unknown subscription names no tenant; a subscription ID that is not a GUID is refused before any request", async () => {
    const arm = ports();
    assert.equal(await arm.tenants.discoverSubscriptionTenant(UNKNOWN_SUBSCRIPTION), undefined);
    await assert.rejects(arm.tenants.discoverSubscriptionTenant("not-a-guid/../../providers"), (e: unknown) => e instanceof PortcullisError && e.kind === "invalid-input");
    assert.equal(emulator.requests().length, 1);
  });

  test("5xx, 429 and dropped connections throw kind transient after at most two retries", async () => {
    const arm = ports();
    emulator.faults.add({ method: "GET", pathPattern: `^/subscriptions/${SUBSCRIPTION}$`, status: 503 });
    await assert.rejects(arm.tenants.discoverSubscriptionTenant(SUBSCRIPTION), (e: unknown) => e instanceof PortcullisError && e.kind === "transient" && e.statusCode === 503);
    assert.equal(arm.callCounter.snapshot().serverErrors, 3, "one request and two retries, not the SDK clients' six");
    emulator.faults.clear();

    emulator.faults.add({ method: "GET", pathPattern: `^/subscriptions/${SUBSCRIPTION}$`, status: 429 });
    await assert.rejects(arm.tenants.discoverSubscriptionTenant(SUBSCRIPTION), (e: unknown) => e instanceof PortcullisError && e.kind === "transient");
    emulator.faults.clear();

    emulator.faults.add({ method: "GET", pathPattern: `^/subscriptions/${SUBSCRIPTION}$`, drop: true });
    await assert.rejects(arm.tenants.discoverSubscriptionTenant(SUBSCRIPTION), (e: unknown) => e instanceof PortcullisError && e.kind === "transient");
    emulator.faults.clear();

    emulator.faults.add({ method: "GET", pathPattern: `^/subscriptions/${SUBSCRIPTION}$`, status: 503, times: 1 });
    assert.equal(await arm.tenants.discoverSubscriptionTenant(SUBSCRIPTION), SUB_TENANT, "a retry rides out one 503");
  });

  test("the emulator answers as ARM does: the tenant for a known subscription, a tenantless challenge otherwise", async () => {
    const get = async (path: string) => {
      const response = await fetchInsecure(`${emulator.url}${path}`, emulator.caPem);
      return { status: response.status, challenge: response.headers["www-authenticate"] };
    };
    const known = await get(`/subscriptions/${SUBSCRIPTION}?api-version=2022-12-01`);
    assert.equal(known.status, 401);
    assert.equal(
      known.challenge,
      `Bearer authorization_uri="https://login.windows.net/${SUB_TENANT}", error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header."`,
    );
    for (const path of [`/subscriptions/${UNKNOWN_SUBSCRIPTION}?api-version=2022-12-01`, "/subscriptions/not-a-guid?api-version=2022-12-01", "/subscriptions?api-version=2022-12-01", "/providers?api-version=2021-04-01"]) {
      const other = await get(path);
      assert.equal(other.status, 401, path);
      assert.match(String(other.challenge), /^Bearer authorization_uri="https:\/\/login\.windows\.net\/", error="invalid_token", /, path);
    }
  });
});

/** One GET over HTTPS trusting the given CA, without any Authorization header. */
async function fetchInsecure(url: string, caPem: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const https = await import("node:https");
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: caPem, agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      })
      .on("error", reject);
  });
}

describe("the tenant port against answers the emulator never gives", () => {
  let stub: HttpsStub;
  let elsewhere: HttpsStub;
  let answer: StubAnswer;
  before(async () => {
    elsewhere = await startHttpsStub(() => ({ status: 401, headers: { "www-authenticate": arm(`https://login.windows.net/${TENANT}`) } }));
    stub = await startHttpsStub(() => answer);
  });
  after(async () => {
    await stub?.close();
    await elsewhere?.close();
  });

  const port = () =>
    createTenantPort({
      endpoint: stub.url,
      caPem: stub.caPem,
      retryOptions: { maxRetries: 0 },
      userAgentPrefix: "portcullis-test",
      perRetryPolicies: [createArmCallCounter().policy],
    });

  const cases: [string, StubAnswer, string | undefined][] = [
    ["a lower-case header name over the wire", { status: 401, headers: { "www-authenticate": arm(`https://login.windows.net/${TENANT}`) } }, TENANT],
    ["a 200 (someone's subscription readable without a token?)", { status: 200, headers: { "www-authenticate": arm(`https://login.windows.net/${TENANT}`) }, body: { tenantId: TENANT } }, undefined],
    ["a 404", { status: 404, body: { error: { code: "SubscriptionNotFound", message: "not found" } } }, undefined],
    ["a 400 for a malformed subscription", { status: 400, body: { error: { code: "InvalidSubscriptionId", message: "malformed" } } }, undefined],
    ["a 403 naming a tenant", { status: 403, headers: { "www-authenticate": arm(`https://login.windows.net/${TENANT}`) } }, undefined],
    ["a 401 without a challenge", { status: 401 }, undefined],
    ["a 401 naming a hostile host", { status: 401, headers: { "www-authenticate": arm(`https://attacker.example/${TENANT}`) } }, undefined],
  ];
  for (const [name, given, expected] of cases) {
    test(`reads ${expected === undefined ? "no tenant" : "the tenant"} from ${name}`, async () => {
      answer = given;
      assert.equal(await port().discoverSubscriptionTenant(SUBSCRIPTION), expected);
    });
  }

  test("never sends a token and never follows a redirect to another host", async () => {
    answer = { status: 302, headers: { location: `${elsewhere.url}/subscriptions/${SUBSCRIPTION}` } };
    const before = stub.requests.length;
    assert.equal(await port().discoverSubscriptionTenant(SUBSCRIPTION), undefined);
    assert.equal(elsewhere.requests.length, 0, "the redirect was not followed");
    const sent = stub.requests.slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.headers["authorization"], undefined);
    assert.match(String(sent[0]!.headers["user-agent"]), /^portcullis-test/);
  });
});
