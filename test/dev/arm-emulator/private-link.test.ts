/**
 * Every registered Private Link type other than API Management, driven over HTTPS as a client would: the consumer's
 * private endpoint through the real Network SDK, the provider side with raw ARM requests. For each type: the resource's
 * GET shape, endpoint creation (group ids, prerequisites), the connections list and its paging, approve / reject as the
 * spec says (synchronous 200, or 201 / 202 + Azure-AsyncOperation polled at a URL authorized by the registry's
 * polling action), 409 while an operation runs, 400 on refused bodies, RBAC denials naming the action, api-version
 * refusals, 415, PATCH of publicNetworkAccess, DELETE, the consumer's view and the provider-side events.
 * Sources: dev/arm-emulator/private-link-types.ts (spec files and examples per type).
 */
import assert from "node:assert/strict";
import { NetworkManagementClient } from "@azure/arm-network";
import { after, before, beforeEach, describe, it } from "node:test";
import { ownerAtRoot, startArmEmulator, type ArmEmulator, type TopologyInput } from "../../../dev/arm-emulator/index.ts";
import { PRIVATE_LINK_TYPE_PROFILES, type PrivateLinkTypeProfile } from "../../../dev/arm-emulator/private-link-types.ts";
import { API_VERSIONS } from "../../../dev/arm-emulator/api-versions.ts";
import { objectIdForClient } from "../../../dev/oidc-issuer/index.ts";
import {
  clientOptions,
  CONSUMER_RG,
  CONSUMER_SUB,
  credential,
  errorCode,
  FAST_POLL,
  PROVIDER_SUB,
  rawRequest,
  startEventRecorder,
  SUBNET_ID,
  testTopology,
  type RawResponse,
} from "./helpers.ts";

const DATA_RG = "rg-data";
const READER_ID = objectIdForClient("reader");
const APPROVER_ID = objectIdForClient("approver-without-polling");
const READER_ROLE_ID = "acdd72a7-3385-48ef-bd42-f6fba4a5b6fa";

const NAMES: Readonly<Record<string, string>> = {
  "Microsoft.Storage/storageAccounts": "stdata01",
  "Microsoft.KeyVault/vaults": "kv-data01",
  "Microsoft.Sql/servers": "sql-data01",
  "Microsoft.DocumentDB/databaseAccounts": "cosmos-data01",
  "Microsoft.EventHub/namespaces": "evh-data01",
  "Microsoft.ServiceBus/namespaces": "sb-data01",
  "Microsoft.ContainerRegistry/registries": "acrdata01",
  "Microsoft.Web/sites": "app-data01",
  "Microsoft.Network/privateLinkServices": "pls-data01",
};

const resourceIdOf = (profile: PrivateLinkTypeProfile, name = NAMES[profile.provider.resourceType]!): string =>
  `/subscriptions/${PROVIDER_SUB}/resourceGroups/${DATA_RG}/providers/${profile.provider.resourceType}/${name}`;
const groupOf = (profile: PrivateLinkTypeProfile): string[] => (profile.provider.groups[0] === undefined ? [] : [profile.provider.groups[0].groupId]);
const v = (profile: PrivateLinkTypeProfile) => `api-version=${profile.provider.apiVersion}`;
const isPls = (profile: PrivateLinkTypeProfile) => profile.provider.resourceType === "Microsoft.Network/privateLinkServices";

function topology(): TopologyInput {
  const base = testTopology();
  const provider = base.subscriptions!.find((s) => s.id === PROVIDER_SUB)!;
  provider.resourceGroups!.push({
    name: DATA_RG,
    location: "westeurope",
    privateLinkResources: [
      ...PRIVATE_LINK_TYPE_PROFILES.map((p) => ({
        type: p.provider.resourceType,
        name: NAMES[p.provider.resourceType]!,
        location: "westeurope",
        ...(isPls(p) ? { visibility: ["*"] } : {}),
      })),
      { type: "Microsoft.ServiceBus/namespaces", name: "sb-standard", location: "westeurope", sku: "Standard" },
      { type: "Microsoft.Network/privateLinkServices", name: "pls-hidden", location: "westeurope" },
      { type: "Microsoft.Network/privateLinkServices", name: "pls-auto", location: "westeurope", visibility: ["*"], autoApproval: [CONSUMER_SUB] },
    ],
  });
  return base;
}

let emulator: ArmEmulator;
let network: NetworkManagementClient;

async function createEndpoint(name: string, targetId: string, groupIds: string[], requestMessage = "please approve"): Promise<void> {
  await network.privateEndpoints.createOrUpdate(
    CONSUMER_RG,
    name,
    {
      location: "westeurope",
      subnet: { id: SUBNET_ID },
      manualPrivateLinkServiceConnections: [{ name: `${name}-conn`, privateLinkServiceId: targetId, groupIds, requestMessage }],
    },
    FAST_POLL,
  );
}

async function connectionsOf(resourceId: string, profile: PrivateLinkTypeProfile): Promise<{ id: string; name: string; properties: Record<string, unknown> }[]> {
  const answer = await rawRequest(emulator, "GET", `${resourceId}/privateEndpointConnections?${v(profile)}`);
  assert.equal(answer.status, 200, answer.text);
  return (answer.json as { value: { id: string; name: string; properties: Record<string, unknown> }[] }).value;
}

async function onlyConnection(profile: PrivateLinkTypeProfile): Promise<{ id: string; name: string; properties: Record<string, unknown> }> {
  const [conn] = await connectionsOf(resourceIdOf(profile), profile);
  assert.ok(conn, "the endpoint's connection is listed on the provider side");
  return conn;
}

const stateBody = (status: string, description = `${status} by test`) => JSON.stringify({ properties: { privateLinkServiceConnectionState: { status, description } } });

/** Follows a long-running answer's Azure-AsyncOperation until it is no longer InProgress; returns every poll. */
async function pollUntilDone(answer: RawResponse, token?: string): Promise<RawResponse[]> {
  const url = new URL(String(answer.headers["azure-asyncoperation"]));
  const polls: RawResponse[] = [];
  for (let i = 0; i < 200; i += 1) {
    const poll = await rawRequest(emulator, "GET", `${url.pathname}${url.search}`, token === undefined ? {} : { token });
    polls.push(poll);
    if (poll.status !== 200 || (poll.json as { status?: string }).status !== "InProgress") return polls;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the operation never finished");
}

/** A webhook subscribed to the provider subscription's events for the duration of `body` (then unsubscribed). */
async function withRecorder(body: (recorder: Awaited<ReturnType<typeof startEventRecorder>>) => Promise<void>): Promise<void> {
  const recorder = await startEventRecorder();
  const subscription = await emulator.events.addSubscription({ subscriptionId: PROVIDER_SUB, endpointUrl: recorder.url, schema: "EventGridSchema" });
  try {
    await body(recorder);
  } finally {
    emulator.events.removeSubscription(subscription.id);
    await recorder.close();
  }
}

async function tokenOf(clientId: string): Promise<string> {
  const token = await emulator.credential(clientId).getToken("https://management.azure.com/.default");
  return token!.token;
}

before(async () => {
  emulator = await startArmEmulator({ topology: topology(), lroDelayMs: 40, pageSize: 2 });
  network = new NetworkManagementClient(credential(emulator), CONSUMER_SUB, clientOptions(emulator));
});
after(async () => emulator.close());
beforeEach(() => {
  emulator.reset();
  emulator.setAuthorization(ownerAtRoot());
  emulator.operations.configure({ hold: false, delayMs: 40 });
});

for (const profile of PRIVATE_LINK_TYPE_PROFILES) {
  const type = profile.provider.resourceType;
  const id = () => resourceIdOf(profile);

  describe(`ARM emulator: ${type} (${profile.provider.spec})`, () => {
    it("GET answers the published example's shape: type, sku, publicNetworkAccess and the embedded connections where the spec has them", async () => {
      await createEndpoint("pe-shape", id(), groupOf(profile));
      const answer = await rawRequest(emulator, "GET", `${id()}?${v(profile)}`);
      assert.equal(answer.status, 200, answer.text);
      const body = answer.json as { id: string; type: string; sku?: { name: string }; properties: Record<string, unknown> };
      assert.equal(body.type, type);
      assert.equal(body.id, id());
      if (profile.provider.publicNetworkAccess) assert.equal(body.properties["publicNetworkAccess"], profile.provider.publicNetworkAccess.values[0]);
      else assert.equal("publicNetworkAccess" in body.properties, false);
      if (profile.defaultSku !== undefined && profile.skuView(profile.defaultSku) !== undefined) assert.equal(body.sku?.name, profile.defaultSku);
      const embedded = body.properties["privateEndpointConnections"] as { properties: { privateLinkServiceConnectionState: { status: string } } }[] | undefined;
      if (profile.embedsConnections) assert.deepEqual(embedded?.map((c) => c.properties.privateLinkServiceConnectionState.status), ["Pending"]);
      else assert.equal(embedded, undefined);
      if (isPls(profile)) assert.deepEqual((body.properties["visibility"] as { subscriptions: string[] }).subscriptions, ["*"]);
    });

    it("a manual endpoint creates a Pending connection carrying the request message, in the type's connection shape", async () => {
      await createEndpoint("pe-pending", id(), groupOf(profile), "from team data");
      const conn = await onlyConnection(profile);
      const state = conn.properties["privateLinkServiceConnectionState"] as Record<string, string>;
      assert.equal(state["status"], "Pending");
      assert.equal(state["description"], "from team data");
      assert.ok(profile.actionsKey in state, `state carries ${profile.actionsKey}`);
      assert.match(String((conn.properties["privateEndpoint"] as { id: string }).id), /\/privateEndpoints\/pe-pending$/);
      if (profile.groupField === "groupIds") assert.deepEqual(conn.properties["groupIds"], groupOf(profile));
      if (profile.groupField === "groupId") assert.equal(conn.properties["groupId"], groupOf(profile)[0]);
    });

    if (!isPls(profile)) {
      it("an endpoint naming a group id the type does not have is refused 400 InvalidGroupId", async () => {
        await assert.rejects(
          createEndpoint("pe-bad-group", id(), ["no-such-group"]),
          (error: { statusCode?: number; code?: string }) => error.statusCode === 400 && error.code === "InvalidGroupId",
        );
      });
    }

    it(`the connections list ${profile.listPaged ? "pages by nextLink" : "is one page without nextLink, as its spec"}`, async () => {
      for (const n of [1, 2, 3]) await createEndpoint(`pe-list-${n}`, id(), groupOf(profile));
      const first = await rawRequest(emulator, "GET", `${id()}/privateEndpointConnections?${v(profile)}`);
      const page = first.json as { value: unknown[]; nextLink?: string };
      if (!profile.listPaged) {
        assert.equal(page.value.length, 3);
        assert.equal(page.nextLink, undefined);
        return;
      }
      assert.equal(page.value.length, 2);
      assert.ok(page.nextLink);
      const next = new URL(page.nextLink);
      const second = await rawRequest(emulator, "GET", `${next.pathname}${next.search}`);
      assert.equal((second.json as { value: unknown[]; nextLink?: string }).value.length, 1);
      assert.equal((second.json as { nextLink?: string }).nextLink, undefined);
    });

    it(
      profile.write.kind === "synchronous"
        ? "approving answers 200 with the connection at once; the consumer's endpoint shows Approved; the write raises ResourceWriteSuccess in the provider subscription"
        : `approving answers ${profile.write.acceptedStatus} + Azure-AsyncOperation, polled at a URL that needs ${profile.provider.connectionWrite.operationStatusActions[0]}; then Approved on both sides, with ResourceWriteSuccess`,
      async () => {
        await withRecorder(async (recorder) => {
          await createEndpoint("pe-approve", id(), groupOf(profile));
          const conn = await onlyConnection(profile);
          emulator.clearRequests();
          const answer = await rawRequest(emulator, "PUT", `${conn.id}?${v(profile)}`, { body: stateBody("Approved") });
          if (profile.write.kind === "synchronous") {
            assert.equal(answer.status, 200, answer.text);
            assert.equal((answer.json as { properties: { privateLinkServiceConnectionState: { status: string } } }).properties.privateLinkServiceConnectionState.status, "Approved");
            assert.equal(answer.headers["azure-asyncoperation"], undefined);
          } else {
            assert.equal(answer.status, profile.write.acceptedStatus, answer.text);
            assert.ok(answer.headers["azure-asyncoperation"], "Azure-AsyncOperation header");
            assert.equal(answer.text !== "", profile.write.acceptedBody);
            const polls = await pollUntilDone(answer);
            assert.equal((polls.at(-1)!.json as { status: string }).status, "Succeeded");
            const pollPath = new URL(String(answer.headers["azure-asyncoperation"])).pathname;
            const actions = new Set(emulator.requests().filter((r) => r.path === pollPath).map((r) => r.action));
            assert.deepEqual([...actions], [profile.provider.connectionWrite.operationStatusActions[0]]);
            if (profile.write.locationTemplate !== undefined) {
              const location = new URL(String(answer.headers["location"]));
              const final = await rawRequest(emulator, "GET", `${location.pathname}${location.search}`);
              assert.equal(final.status, 200);
              assert.ok(profile.provider.connectionWrite.operationStatusActions.includes(emulator.requests().at(-1)!.action!));
            }
          }
          const reread = await rawRequest(emulator, "GET", `${conn.id}?${v(profile)}`);
          assert.equal((reread.json as { properties: { privateLinkServiceConnectionState: { status: string } } }).properties.privateLinkServiceConnectionState.status, "Approved");
          const pe = await network.privateEndpoints.get(CONSUMER_RG, "pe-approve");
          assert.equal(pe.manualPrivateLinkServiceConnections?.[0]?.privateLinkServiceConnectionState?.status, "Approved");
          await emulator.events.idle();
          const writes = recorder.events.filter((e) => e.data["operationName"] === `${type}/privateEndpointConnections/write`);
          assert.equal(writes.length, 1, JSON.stringify(recorder.events.map((e) => e.data["operationName"])));
          assert.equal(writes[0]!.eventType, "Microsoft.Resources.ResourceWriteSuccess");
          assert.equal(String(writes[0]!.data["resourceUri"]).toLowerCase(), conn.id.toLowerCase());
        });
      },
    );

    it("rejecting works the same way and a rejected connection cannot be approved again (400)", async () => {
      await createEndpoint("pe-reject", id(), groupOf(profile));
      const conn = await onlyConnection(profile);
      const answer = await rawRequest(emulator, "PUT", `${conn.id}?${v(profile)}`, { body: stateBody("Rejected") });
      if (profile.write.kind === "long-running" && answer.status !== 200) await pollUntilDone(answer);
      const pe = await network.privateEndpoints.get(CONSUMER_RG, "pe-reject");
      assert.equal(pe.manualPrivateLinkServiceConnections?.[0]?.privateLinkServiceConnectionState?.status, "Rejected");
      const again = await rawRequest(emulator, "PUT", `${conn.id}?${v(profile)}`, { body: stateBody("Approved") });
      assert.equal(again.status, 400);
      assert.equal(errorCode(again), "PrivateEndpointConnectionStatusTransitionNotAllowed");
    });

    if (profile.write.kind === "long-running") {
      it("a second write while the approval runs is refused 409; it succeeds once the operation is over", async () => {
        await createEndpoint("pe-busy", id(), groupOf(profile));
        const conn = await onlyConnection(profile);
        emulator.operations.configure({ hold: true });
        const first = await rawRequest(emulator, "PUT", `${conn.id}?${v(profile)}`, { body: stateBody("Approved") });
        assert.equal(first.status, (profile.write as { acceptedStatus: number }).acceptedStatus);
        const second = await rawRequest(emulator, "PUT", `${conn.id}?${v(profile)}`, { body: stateBody("Rejected") });
        assert.equal(second.status, 409);
        assert.equal(errorCode(second), "AnotherOperationInProgress");
        const deleting = await rawRequest(emulator, "DELETE", `${conn.id}?${v(profile)}`);
        assert.equal(deleting.status, 409);
        emulator.operations.configure({ hold: false });
        emulator.operations.release();
        await pollUntilDone(first);
        const after = await rawRequest(emulator, "PUT", `${conn.id}?${v(profile)}`, { body: stateBody("Rejected") });
        assert.ok(after.status === 200 || after.status === (profile.write as { acceptedStatus: number }).acceptedStatus, after.text);
      });
    }

    it("refuses bodies the spec refuses: no state, status Pending or unknown, unknown members (400); a non-JSON body 415", async () => {
      await createEndpoint("pe-bodies", id(), groupOf(profile));
      const conn = await onlyConnection(profile);
      const put = (body: string, headers: Record<string, string> = {}) => rawRequest(emulator, "PUT", `${conn.id}?${v(profile)}`, { body, headers });
      for (const body of [
        JSON.stringify({}),
        JSON.stringify({ properties: {} }),
        stateBody("Pending"),
        stateBody("Maybe"),
        JSON.stringify({ properties: { privateLinkServiceConnectionState: { status: "Approved", description: "x" }, surprise: true } }),
      ]) {
        const answer = await put(body);
        assert.equal(answer.status, 400, `${body} -> ${answer.text}`);
      }
      if (profile.descriptionRequired) {
        const noDescription = await put(JSON.stringify({ properties: { privateLinkServiceConnectionState: { status: "Approved" } } }));
        assert.equal(noDescription.status, 400);
      }
      if (type === "Microsoft.Sql/servers") {
        assert.equal(errorCode(await put(stateBody("Pending"))), "IncorrectPrivateLinkServiceConnectionStateStatus");
        assert.equal(errorCode(await put(JSON.stringify({ properties: {} }))), "NullRemotePrivateLinkServiceConnectionState");
      }
      const wrongType = await put(stateBody("Approved"), { "content-type": "text/plain" });
      assert.equal(wrongType.status, 415);
      const reread = await rawRequest(emulator, "GET", `${conn.id}?${v(profile)}`);
      assert.equal((reread.json as { properties: { privateLinkServiceConnectionState: { status: string } } }).properties.privateLinkServiceConnectionState.status, "Pending");
    });

    it(`a Reader is refused the approval 403 AuthorizationFailed naming ${type}/privateEndpointConnections/write, but may read`, async () => {
      await createEndpoint("pe-rbac", id(), groupOf(profile));
      const conn = await onlyConnection(profile);
      emulator.setAuthorization({
        roleAssignments: [...ownerAtRoot().roleAssignments, { principalId: READER_ID, scope: `/subscriptions/${PROVIDER_SUB}`, roleDefinitionId: READER_ROLE_ID }],
      });
      const token = await tokenOf("reader");
      const read = await rawRequest(emulator, "GET", `${conn.id}?${v(profile)}`, { token });
      assert.equal(read.status, 200);
      const denied = await rawRequest(emulator, "PUT", `${conn.id}?${v(profile)}`, { token, body: stateBody("Approved") });
      assert.equal(denied.status, 403);
      assert.equal(errorCode(denied), "AuthorizationFailed");
      assert.match(denied.text, new RegExp(`'${type.replace("/", "\\/")}/privateEndpointConnections/write'`));
    });

    if (profile.write.kind === "long-running") {
      it(`an approver without ${profile.provider.connectionWrite.operationStatusActions[0]} starts the PUT but cannot poll it (403 naming that action)`, async () => {
        await createEndpoint("pe-poll-rbac", id(), groupOf(profile));
        const conn = await onlyConnection(profile);
        emulator.setAuthorization({
          roleDefinitions: [
            {
              id: "9e0c6a44-1b0f-4a51-9a6f-000000000001",
              roleName: "Approver without polling",
              permissions: [{ actions: [`${type}/read`, `${type}/privateEndpointConnections/read`, `${type}/privateEndpointConnections/write`] }],
            },
          ],
          roleAssignments: [
            ...ownerAtRoot().roleAssignments,
            { principalId: APPROVER_ID, scope: `/subscriptions/${PROVIDER_SUB}`, roleDefinitionId: "9e0c6a44-1b0f-4a51-9a6f-000000000001" },
          ],
        });
        emulator.operations.configure({ hold: true });
        const token = await tokenOf("approver-without-polling");
        const started = await rawRequest(emulator, "PUT", `${conn.id}?${v(profile)}`, { token, body: stateBody("Approved") });
        assert.equal(started.status, (profile.write as { acceptedStatus: number }).acceptedStatus, started.text);
        const [poll] = await pollUntilDone(started, token);
        assert.equal(poll!.status, 403);
        assert.ok(poll!.text.includes(`'${profile.provider.connectionWrite.operationStatusActions[0]}'`), poll!.text);
        emulator.operations.release();
      });
    }

    it("accepts every published api-version of the type and refuses others 400 InvalidApiVersionParameter, listing them", async () => {
      const versions = API_VERSIONS[type as keyof typeof API_VERSIONS];
      for (const version of versions) {
        const answer = await rawRequest(emulator, "GET", `${id()}?api-version=${version}`);
        assert.equal(answer.status, 200, `${version}: ${answer.text}`);
      }
      const refused = await rawRequest(emulator, "GET", `${id()}?api-version=2010-01-01`);
      assert.equal(refused.status, 400);
      assert.equal(errorCode(refused), "InvalidApiVersionParameter");
      assert.ok(refused.text.includes(profile.provider.apiVersion));
      const connectionVersions = API_VERSIONS[`${type}/privateEndpointConnections` as keyof typeof API_VERSIONS];
      const before = versions.find((ver) => !(connectionVersions as readonly string[]).includes(ver));
      if (before !== undefined) {
        const tooOld = await rawRequest(emulator, "GET", `${id()}/privateEndpointConnections?api-version=${before}`);
        assert.equal(tooOld.status, 400, `connections did not exist in ${before}`);
      }
    });

    const pna = profile.provider.publicNetworkAccess;
    it(
      pna === undefined
        ? "PATCH cannot set publicNetworkAccess: the type has none (400)"
        : pna.patchable
          ? `PATCH sets publicNetworkAccess to each of ${pna.values.join(" | ")}; other values and unmodelled members are refused 400`
          : "PATCH of publicNetworkAccess is refused 400: the spec's update model does not carry it",
      async () => {
        const patch = (properties: Record<string, unknown>) => rawRequest(emulator, "PATCH", `${id()}?${v(profile)}`, { body: JSON.stringify({ properties }) });
        if (pna === undefined || !pna.patchable) {
          const refused = await patch({ publicNetworkAccess: "Disabled" });
          assert.equal(refused.status, 400);
          return;
        }
        for (const value of [...pna.values].reverse()) {
          const answer = await patch({ publicNetworkAccess: value });
          assert.equal(answer.status, 200, answer.text);
          const reread = await rawRequest(emulator, "GET", `${id()}?${v(profile)}`);
          assert.equal((reread.json as { properties: { publicNetworkAccess: string } }).properties.publicNetworkAccess, value);
        }
        assert.equal((await patch({ publicNetworkAccess: "Sometimes" })).status, 400);
        const unmodelled = await patch({ minimumTlsVersion: "1.0" });
        assert.equal(unmodelled.status, 400);
        assert.equal(errorCode(unmodelled), "PropertyChangeNotEmulated");
      },
    );

    it("DELETE removes the connection; the consumer's endpoint stays and shows Disconnected; ResourceDeleteSuccess is raised", async () => {
      await withRecorder(async (recorder) => {
        await createEndpoint("pe-delete", id(), groupOf(profile));
        const conn = await onlyConnection(profile);
        const answer = await rawRequest(emulator, "DELETE", `${conn.id}?${v(profile)}`);
        assert.ok([200, 202].includes(answer.status), answer.text);
        if (answer.status === 202) await pollUntilDone(answer);
        assert.deepEqual(await connectionsOf(id(), profile), []);
        assert.equal((await rawRequest(emulator, "GET", `${conn.id}?${v(profile)}`)).status, 404);
        assert.equal((await rawRequest(emulator, "DELETE", `${conn.id}?${v(profile)}`)).status, 204);
        const pe = await network.privateEndpoints.get(CONSUMER_RG, "pe-delete");
        assert.equal(pe.manualPrivateLinkServiceConnections?.[0]?.privateLinkServiceConnectionState?.status, "Disconnected");
        await emulator.events.idle();
        const deletes = recorder.events.filter((e) => e.data["operationName"] === `${type}/privateEndpointConnections/delete`);
        assert.equal(deletes.length, 1);
        assert.equal(deletes[0]!.eventType, "Microsoft.Resources.ResourceDeleteSuccess");
      });
    });
  });
}

describe("ARM emulator: prerequisites and Private Link Service lists", () => {
  const profile = (type: string) => PRIVATE_LINK_TYPE_PROFILES.find((p) => p.provider.resourceType === type)!;

  it("a Service Bus namespace below Premium refuses private endpoints (400)", async () => {
    await assert.rejects(
      createEndpoint("pe-sb-standard", resourceIdOf(profile("Microsoft.ServiceBus/namespaces"), "sb-standard"), ["namespace"]),
      (error: { statusCode?: number; code?: string }) => error.statusCode === 400 && error.code === "PrivateEndpointNotSupportedForSku",
    );
  });

  it("a Private Link Service the consumer's subscription cannot see is not found (400); one that auto-approves it connects Approved", async () => {
    const pls = profile("Microsoft.Network/privateLinkServices");
    await assert.rejects(
      createEndpoint("pe-hidden", resourceIdOf(pls, "pls-hidden"), []),
      (error: { statusCode?: number; code?: string }) => error.statusCode === 400 && error.code === "PrivateLinkServiceNotFound",
    );
    await createEndpoint("pe-auto", resourceIdOf(pls, "pls-auto"), []);
    const [conn] = await connectionsOf(resourceIdOf(pls, "pls-auto"), pls);
    assert.equal((conn!.properties["privateLinkServiceConnectionState"] as { status: string }).status, "Approved");
    const service = await rawRequest(emulator, "GET", `${resourceIdOf(pls, "pls-auto")}?${v(pls)}`);
    assert.deepEqual((service.json as { properties: { autoApproval: { subscriptions: string[] } } }).properties.autoApproval.subscriptions, [CONSUMER_SUB]);
  });

  it("the endpoint's NIC and DNS config name the target's group and FQDN (storage blob)", async () => {
    const storage = profile("Microsoft.Storage/storageAccounts");
    await createEndpoint("pe-fqdn", resourceIdOf(storage), ["blob"]);
    const pe = await network.privateEndpoints.get(CONSUMER_RG, "pe-fqdn");
    assert.equal(pe.customDnsConfigs?.[0]?.fqdn, "stdata01.blob.core.windows.net");
    const nicName = pe.networkInterfaces![0]!.id!.split("/").at(-1)!;
    const nic = await network.networkInterfaces.get(CONSUMER_RG, nicName);
    assert.equal(nic.ipConfigurations?.[0]?.privateLinkConnectionProperties?.groupId, "blob");
  });

  it("the emulator answers long-running exactly the types the registry marks long-running", () => {
    for (const p of PRIVATE_LINK_TYPE_PROFILES) {
      assert.equal(p.write.kind === "long-running", p.provider.connectionWrite.longRunning, p.provider.resourceType);
    }
  });
});

