/**
 * A validator for SARIF 2.1.0 output. The schema (test/fixtures/schemas/sarif-2.1.0-subset.schema.json) is our own,
 * written from the SARIF 2.1.0 specification for the objects Portcullis emits: the same required properties,
 * enumerations and closed objects as the specification, so an unknown or misspelt property fails. (The OASIS
 * schema text itself is not copied into this repository.)
 */
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export function loadSarifValidator(): ValidateFunction {
  const schema = JSON.parse(readFileSync(new URL("../../fixtures/schemas/sarif-2.1.0-subset.schema.json", import.meta.url), "utf8")) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  return ajv.compile(schema);
}
