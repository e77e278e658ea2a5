import { test } from "node:test";
import assert from "node:assert/strict";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { RestError } from "@azure/core-rest-pipeline";
import { z } from "zod";
import { parseJsonColumn, parseRow, storageCall, storageListing, tableClientFor, tableNameFor } from "../../../src/adapters/tables/tables.ts";
import { PortcullisError } from "../../../src/domain/errors.ts";

const staticToken: TokenCredential = { getToken: async (): Promise<AccessToken> => ({ token: "t", expiresOnTimestamp: Date.now() + 3_600_000 }) };

test("names tables {prefix}{suffix} and refuses names Table Storage would reject", () => {
  assert.equal(tableNameFor("portcullis", "rules"), "portcullisrules");
  assert.throws(() => tableNameFor("portcullis", "rule-history"), RangeError);
  assert.throws(() => tableNameFor("p".repeat(60), "history"), RangeError);
});

test("uses the connection string on the local stack, allowing Azurite's plain http", () => {
  const client = tableClientFor(
    {
      PORTCULLIS_TABLES_CONNECTION_STRING:
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;",
      PORTCULLIS_TABLES_ENDPOINT: "https://ignored.table.core.windows.net",
      PORTCULLIS_TABLE_PREFIX: "portcullis",
    },
    "rules",
  );
  assert.equal(client.tableName, "portcullisrules");
  assert.equal(client.url, "http://127.0.0.1:10002/devstoreaccount1");
});

test("uses the endpoint with a token credential in Azure, and says so when the credential is missing", () => {
  const settings = { PORTCULLIS_TABLES_CONNECTION_STRING: undefined, PORTCULLIS_TABLES_ENDPOINT: "https://acct.table.core.windows.net", PORTCULLIS_TABLE_PREFIX: "portcullis" };
  assert.equal(tableClientFor(settings, "rules", { credential: staticToken }).url, "https://acct.table.core.windows.net");
  assert.throws(() => tableClientFor(settings, "rules"), /TokenCredential/);
});

const marks = z.array(z.string());

test("a JSON column that is not JSON, or does not match its schema, is an internal error naming where; never a raw SyntaxError", () => {
  assert.deepEqual(parseJsonColumn(marks, '["a","b"]', "marks of claim x"), ["a", "b"]);
  for (const text of ["{not json", undefined, 42, '{"a":1}']) {
    assert.throws(
      () => parseJsonColumn(marks, text, "marks of claim x"),
      (error: unknown) => error instanceof PortcullisError && error.kind === "internal" && /marks of claim x/.test(error.message),
      String(text),
    );
  }
  assert.throws(() => parseRow(z.object({ etag: z.string() }), { etag: 1 }, "row p/r"), /The stored row p\/r does not parse: etag/);
});

test("storage failures leave the port as PortcullisError with the kind callers branch on (calls and listings alike)", async () => {
  const refused = new RestError("The specified entity already exists.", { statusCode: 409, code: "EntityAlreadyExists" });
  await assert.rejects(storageCall(async () => { throw refused; }), (error: unknown) => error instanceof PortcullisError && error.kind === "conflict");
  async function* failingPages(): AsyncIterable<number> {
    yield 1;
    throw new RestError("Server busy", { statusCode: 503 });
  }
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const item of storageListing(failingPages())) seen.push(item);
    })(),
    (error: unknown) => error instanceof PortcullisError && error.kind === "transient",
  );
  assert.deepEqual(seen, [1], "rows before the failure were yielded");
});
