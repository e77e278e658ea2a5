/**
 * The emulator's KQL subset (dev/arm-emulator/resource-graph/kql.ts): every supported operator and function against
 * Kusto's documented semantics (Microsoft Learn, kusto/query: equals/=~ case rules, `has` as whole-term match,
 * `in~`, `order by` descending by default with nulls last, missing properties null, mv-expand per element), and the
 * refusals with Resource Graph's detail codes (ParserFailure with position, InvalidQueryLanguage,
 * DisallowedLogicalTableName, an unknown column).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluate, KqlError, parseQuery, type Row } from "../../../../dev/arm-emulator/resource-graph/kql.ts";
import { prefilterOf, RESOURCES_COLUMNS } from "../../../../dev/arm-emulator/resource-graph/service.ts";

const APIM = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ApiManagement/service/Contoso-Apim";
const KV = "/subscriptions/s2/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-prod";

const table: Row[] = [
  {
    id: APIM,
    name: "Contoso-Apim",
    type: "microsoft.apimanagement/service",
    location: "westeurope",
    subscriptionId: "s1",
    sku: { name: "Premium", capacity: 1 },
    tags: { env: "prod" },
    properties: {
      publicNetworkAccess: "Enabled",
      privateEndpointConnections: [
        { id: `${APIM}/privateEndpointConnections/a`, name: "a", properties: { privateLinkServiceConnectionState: { status: "Pending", description: "please" } } },
        { id: `${APIM}/privateEndpointConnections/b`, name: "b", properties: { privateLinkServiceConnectionState: { status: "Approved", description: "ok" } } },
      ],
    },
  },
  {
    id: KV,
    name: "kv-prod",
    type: "microsoft.keyvault/vaults",
    location: "northeurope",
    subscriptionId: "s2",
    sku: null,
    tags: null,
    properties: { publicNetworkAccess: "Disabled", privateEndpointConnections: [] },
  },
];

const columns = [...RESOURCES_COLUMNS];
const run = (query: string) => evaluate(parseQuery(query, columns), table, columns);
const ids = (query: string) => run(query).rows.map((r) => r["id"] ?? r["name"]);

function refusal(query: string): KqlError {
  try {
    parseQuery(query, columns);
  } catch (error) {
    assert.ok(error instanceof KqlError, `expected a KqlError, got ${String(error)}`);
    return error;
  }
  assert.fail(`'${query}' was accepted`);
}

describe("Resource Graph KQL: where and its operators", () => {
  it("== is case-sensitive, =~ is not, != and !~ negate them", () => {
    assert.deepEqual(ids("resources | where name == 'Contoso-Apim'"), [APIM]);
    assert.deepEqual(ids("resources | where name == 'contoso-apim'"), []);
    assert.deepEqual(ids("resources | where name =~ 'CONTOSO-APIM'"), [APIM]);
    assert.deepEqual(ids("resources | where name != 'Contoso-Apim'"), [KV]);
    assert.deepEqual(ids("resources | where name !~ 'contoso-apim'"), [KV]);
  });

  it("in~ matches case-insensitively, in case-sensitively, !in~ excludes", () => {
    assert.deepEqual(ids("resources | where type in~ ('Microsoft.ApiManagement/service', 'x')"), [APIM]);
    assert.deepEqual(ids("resources | where type in ('Microsoft.ApiManagement/service')"), []);
    assert.deepEqual(ids("resources | where type in ('microsoft.keyvault/vaults')"), [KV]);
    assert.deepEqual(ids("resources | where type !in~ ('MICROSOFT.KEYVAULT/VAULTS')"), [APIM]);
  });

  it("has matches a whole term, case-insensitively; contains any substring; startswith a prefix", () => {
    assert.deepEqual(ids("resources | where id has 'keyvault'"), [KV]);
    assert.deepEqual(ids("resources | where id has 'KEYVAU'"), [], "a part of a term is not a term");
    assert.deepEqual(ids("resources | where id contains 'KEYVAU'"), [KV]);
    assert.deepEqual(ids("resources | where id !has 'keyvault'"), [APIM]);
    assert.deepEqual(ids("resources | where name startswith 'kv-'"), [KV]);
  });

  it("and binds tighter than or; parentheses and not() change that", () => {
    assert.deepEqual(ids("resources | where name == 'kv-prod' or name == 'Contoso-Apim' and location == 'nowhere'"), [KV]);
    assert.deepEqual(ids("resources | where (name == 'kv-prod' or name == 'Contoso-Apim') and location == 'nowhere'"), []);
    assert.deepEqual(ids("resources | where not(name == 'kv-prod')"), [APIM]);
  });

  it("reads nested properties with . and [''] and [n]; a missing one is null and matches nothing", () => {
    assert.deepEqual(ids("resources | where properties.publicNetworkAccess == 'Disabled'"), [KV]);
    assert.deepEqual(ids("resources | where properties['publicNetworkAccess'] =~ 'enabled'"), [APIM]);
    assert.deepEqual(ids("resources | where properties.privateEndpointConnections[1].name == 'b'"), [APIM]);
    assert.deepEqual(ids("resources | where properties.no.such.thing == 'x'"), []);
    assert.deepEqual(ids("resources | where isnull(properties.no.such.thing) and isnotnull(sku)"), [APIM]);
    assert.deepEqual(ids("resources | where isempty(tags) and isnotempty(name)"), [KV]);
  });

  it("tostring, tolower, toupper and strlen", () => {
    assert.deepEqual(ids("resources | where tolower(name) == 'contoso-apim'"), [APIM]);
    assert.deepEqual(ids("resources | where toupper(name) == 'KV-PROD'"), [KV]);
    assert.deepEqual(ids("resources | where tostring(sku.capacity) == '1'"), [APIM]);
    assert.deepEqual(ids("resources | where strlen(name) == 7"), [KV]);
  });

  it("the table name is optional and case-insensitive; comments are ignored", () => {
    assert.deepEqual(ids("where name == 'kv-prod'"), [KV]);
    assert.deepEqual(ids("Resources // all of them\n| where name == 'kv-prod'"), [KV]);
  });
});

describe("Resource Graph KQL: tabular operators", () => {
  it("project keeps only the named columns, in order; unnamed paths are named after the path", () => {
    const result = run("resources | where name == 'kv-prod' | project id, access = properties.publicNetworkAccess, properties.publicNetworkAccess");
    assert.deepEqual(result.columns, ["id", "access", "properties_publicNetworkAccess"]);
    assert.deepEqual(result.rows, [{ id: KV, access: "Disabled", properties_publicNetworkAccess: "Disabled" }]);
  });

  it("extend adds columns a later stage can use", () => {
    assert.deepEqual(ids("resources | extend lowerName = tolower(name) | where lowerName == 'contoso-apim' | project id"), [APIM]);
  });

  it("mv-expand emits one row per array element (none for an empty array) and keeps the other columns", () => {
    const result = run(
      "resources | mv-expand c = properties.privateEndpointConnections | where tostring(c.properties.privateLinkServiceConnectionState.status) =~ 'pending' | project id, connection = tostring(c.id)",
    );
    assert.deepEqual(result.rows, [{ id: APIM, connection: `${APIM}/privateEndpointConnections/a` }]);
    assert.equal(run("resources | mv-expand c = properties.privateEndpointConnections").rows.length, 2, "the vault's empty array makes no row");
    assert.equal(run("resources | mv-expand limit 1 c = properties.privateEndpointConnections").rows.length, 1, "limit caps rows per source row");
  });

  it("order by sorts descending unless asc; several keys; nulls last when descending", () => {
    assert.deepEqual(ids("resources | order by name"), [KV, APIM]);
    assert.deepEqual(ids("resources | order by name asc"), [APIM, KV]);
    assert.deepEqual(ids("resources | sort by sku.name desc"), [APIM, KV], "null sku sorts last when descending");
    assert.deepEqual(ids("resources | sort by sku.name asc, name desc"), [KV, APIM], "null sku sorts first when ascending");
  });

  it("limit and take cut the rows and mark the result limited (no skip token)", () => {
    const limited = run("resources | order by name asc | limit 1");
    assert.deepEqual(limited.rows.map((r) => r["id"]), [APIM]);
    assert.equal(limited.limited, true);
    assert.equal(run("resources | take 5").rows.length, 2);
    assert.equal(run("resources").limited, false);
  });
});

describe("Resource Graph KQL: refusals as Resource Graph reports them", () => {
  it("a syntax error is ParserFailure with line, position and the token", () => {
    const error = refusal("resources\n| where name == 'x' and");
    assert.equal(error.code, "ParserFailure");
    assert.equal(error.line, 2);
    assert.equal(error.token, "<EOF>");
    assert.deepEqual(Object.keys(error.toDetail()).sort(), ["characterPositionInLine", "code", "line", "message", "token"]);
    assert.equal(refusal("resources | where name = 'x'").code, "ParserFailure");
    assert.equal(refusal("resources | where name == 'unterminated").code, "ParserFailure");
    assert.equal(refusal("resources | frobnicate").code, "ParserFailure");
  });

  it("operators and functions outside the subset are InvalidQueryLanguage, naming what is not evaluated", () => {
    const summarize = refusal("resources | summarize count() by type");
    assert.equal(summarize.code, "InvalidQueryLanguage");
    assert.equal(summarize.token, "summarize");
    assert.equal(refusal("resources | join (resources) on id").code, "InvalidQueryLanguage");
    assert.equal(refusal("resources | where split(id, '/')[2] == 'x'").code, "InvalidQueryLanguage");
  });

  it("another table is DisallowedLogicalTableName", () => {
    assert.equal(refusal("securityresources | where type == 'x'").code, "DisallowedLogicalTableName");
    assert.equal(refusal("nosuchtable").code, "DisallowedLogicalTableName");
  });

  it("an unknown column fails the query instead of matching nothing; project narrows what later stages see", () => {
    assert.equal(refusal("resources | where nmae == 'x'").code, "FailedToResolveScalarExpression");
    assert.equal(refusal("resources | project id | where name == 'x'").code, "FailedToResolveScalarExpression");
    assert.doesNotThrow(() => parseQuery("resources | project id, n = name | where n == 'x'", columns));
  });
});

describe("Resource Graph emulator: the cost-saving prefilter never drops a row the query keeps", () => {
  const prefilter = (query: string) => {
    const p = prefilterOf(parseQuery(query, columns));
    return { types: p.types === undefined ? undefined : [...p.types], ids: p.ids === undefined ? undefined : [...p.ids] };
  };

  it("takes type and id requirements from the first where's top-level ands, case folded", () => {
    assert.deepEqual(prefilter("resources | where type =~ 'Microsoft.KeyVault/vaults' and name == 'x'"), { types: ["microsoft.keyvault/vaults"], ids: undefined });
    assert.deepEqual(prefilter(`resources | where type in~ ('A', 'b') and id in~ ('${KV}')`), { types: ["a", "b"], ids: [KV.toLowerCase()] });
  });

  it("ignores what it cannot prove: or, negations, later stages, non-literals", () => {
    assert.deepEqual(prefilter("resources | where type =~ 'a' or name == 'b'"), { types: undefined, ids: undefined });
    assert.deepEqual(prefilter("resources | where type !in~ ('a')"), { types: undefined, ids: undefined });
    assert.deepEqual(prefilter("resources | project id, type | where type =~ 'a'"), { types: undefined, ids: undefined });
    assert.deepEqual(prefilter("resources | where type == tostring(name)"), { types: undefined, ids: undefined });
  });

  it("a prefiltered table gives the same answer as the whole table", () => {
    const query = "resources | where type in~ ('MICROSOFT.KEYVAULT/VAULTS') and isnotempty(name) | project id";
    const parsed = parseQuery(query, columns);
    const p = prefilterOf(parsed);
    const narrowed = table.filter((r) => p.types!.has(String(r["type"])));
    assert.deepEqual(evaluate(parsed, narrowed, columns).rows, evaluate(parsed, table, columns).rows);
    assert.equal(narrowed.length, 1);
  });
});
