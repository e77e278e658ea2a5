import { test } from "node:test";
import assert from "node:assert/strict";
import { compareRoutePrecedence, compileRouteTemplate, RouteTemplateError } from "../../../dev/functions-host/routes.ts";

const split = (path: string): string[] => (path.length === 0 ? [] : path.split("/"));

const cases: [string, string, Record<string, string> | undefined][] = [
  ["health", "health", {}],
  ["health", "HEALTH", {}],
  ["health", "health/extra", undefined],
  ["instances/{subscriptionId}/connections", "instances/abc/connections", { subscriptionId: "abc" }],
  ["instances/{subscriptionId}/connections", "instances/connections", undefined],
  ["items/{id:int}", "items/42", { id: "42" }],
  ["items/{id:int}", "items/-7", { id: "-7" }],
  ["items/{id:int}", "items/forty-two", undefined],
  ["items/{id:int}", "items/2147483648", undefined],
  ["items/{id:int:min(1)}", "items/0", undefined],
  ["items/{id:int:range(1,10)}", "items/10", { id: "10" }],
  ["items/{id:guid}", "items/0f8fad5b-d9cb-469f-a165-70867728950e", { id: "0f8fad5b-d9cb-469f-a165-70867728950e" }],
  ["items/{id:guid}", "items/not-a-guid", undefined],
  ["items/{name:alpha:maxlength(3)}", "items/abc", { name: "abc" }],
  ["items/{name:alpha:maxlength(3)}", "items/abcd", undefined],
  ["items/{flag:bool}", "items/TRUE", { flag: "TRUE" }],
  ["items/{code:regex(^[A-Z]{{3}}-\\d+$)}", "items/CHG-12", { code: "CHG-12" }],
  ["items/{code:regex(^[A-Z]{{3}}-\\d+$)}", "items/CH-12", undefined],
  ["files/{name?}", "files", {}],
  ["files/{name?}", "files/a", { name: "a" }],
  ["pages/{page=1}", "pages", { page: "1" }],
  ["pages/{page=1}", "pages/3", { page: "3" }],
  ["docs/{*rest}", "docs/a/b/c", { rest: "a/b/c" }],
  ["docs/{**rest}", "docs", {}],
  ["download/{file}.{ext}", "download/report.v2.pdf", { file: "report.v2", ext: "pdf" }],
  ["download/{file}.{ext}", "download/report", undefined],
];

for (const [template, path, expected] of cases) {
  test(`route '${template}' ${expected ? "matches" : "does not match"} '${path}'`, () => {
    assert.deepEqual(compileRouteTemplate(template).match(split(path)), expected);
  });
}

const invalid: [string, RegExp][] = [
  ["items/{id:integer}", /unknown constraint 'integer'/],
  ["items/{id", /without a matching '}'/],
  ["items/id}", /without a matching '{'/],
  ["a/{x}/{x}", /appears twice/],
  ["{*rest}/tail", /catch-all parameter may only be in the last segment/],
  ["{a?}/b", /optional parameters may only be followed by optional parameters/],
  ["a//b", /empty segment/],
  ["{a}{b}", /need a literal between them/],
  ["items/{id:min(x)}", /needs 1 whole-number argument/],
  ["items/{id:regex([z-a])}", /does not compile/],
];

for (const [template, message] of invalid) {
  test(`route '${template}' is refused at start-up`, () => {
    assert.throws(() => compileRouteTemplate(template), (error: unknown) => error instanceof RouteTemplateError && message.test(error.message));
  });
}

test("more specific routes sort first: literal, constrained, plain parameter, catch-all", () => {
  const templates = ["items/{*rest}", "items/{name}", "items/{id:int}", "items/special"].map(compileRouteTemplate);
  const sorted = [...templates].sort(compareRoutePrecedence).map((t) => t.template);
  assert.deepEqual(sorted, ["items/special", "items/{id:int}", "items/{name}", "items/{*rest}"]);
});
