import { test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { startAzuriteTables } from "../../dev/azurite.ts";

test("Azurite tables start in-process on a free port and keep entities until closed", async () => {
  const storage = await startAzuriteTables();
  try {
    const client = TableClient.fromConnectionString(storage.connectionString, "smoke", { allowInsecureConnection: true });
    await client.createTable();
    await client.createEntity({ partitionKey: "p", rowKey: "r", value: 42 });
    const entity = await client.getEntity<{ value: number }>("p", "r");
    assert.equal(entity.value, 42);
  } finally {
    await storage.close();
  }
});
