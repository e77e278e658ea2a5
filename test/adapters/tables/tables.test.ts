import { test } from "node:test";
import assert from "node:assert/strict";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { tableClientFor, tableNameFor } from "../../../src/adapters/tables/tables.ts";

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
