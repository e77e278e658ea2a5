/**
 * A validator for the shipped SARIF 2.1.0 schema (test/fixtures/schemas/sarif-2.1.0.json, the OASIS text as
 * published). The schema declares JSON Schema draft-04, which Ajv 8 does not ship a meta-schema for; the
 * keywords it uses are the same in draft-07, so it is compiled with its `$schema`/`id` header mapped to draft-07.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export function loadSarifValidator(): ValidateFunction {
  const schema = JSON.parse(readFileSync(new URL("../../fixtures/schemas/sarif-2.1.0.json", import.meta.url), "utf8")) as Record<string, unknown>;
  const { $schema: _draft04, id, ...rest } = schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile({ ...rest, $id: String(id) });
}
