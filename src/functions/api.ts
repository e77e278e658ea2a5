/**
 * The HTTP API's route registry: every route is listed here once, and both its HTTP trigger and the OpenAPI
 * document (GET /api/openapi.json) come from this list, so what is documented is what is enforced. A new API
 * route (e.g. the audit's) is added to `apiRoutes`; a test fails if the function table has an HTTP function the
 * document does not cover.
 */
import type { Composition } from "../composition.ts";
import { buildOpenApiDocument, type PlainRouteDoc } from "../http/openapi.ts";
import { toHttpFunction, type ApiRoute } from "../http/route.ts";
import { connectionRoutes } from "./api-connections.ts";
import { listDecisions } from "./api-decisions.ts";
import { getOperation } from "./api-operations.ts";
import { apiRoute, apiRuntimeOver, type ApiServices } from "./api-runtime.ts";
import { startAudit } from "./audits-api.ts";
import { ruleRoutes } from "./api-rules.ts";
import { suppressionRoutes } from "./api-suppressions.ts";
import { whatIf } from "./api-what-if.ts";
import type { HttpFunctionDefinition } from "./definition.ts";
import { healthDoc } from "./health.ts";
import { reportRoutes } from "./reports-api.ts";

const API_INFO = {
  title: "Portcullis",
  version: "0.1.0",
  description:
    "Approve, reject and audit inbound Private Link connections to Azure API Management. Every operation except /health needs an Entra ID access token for the API's app registration with an app role; errors are RFC 9457 problem details.",
};

/** The documented routes that are not in the registry (anonymous). */
const plainRoutes: readonly PlainRouteDoc[] = [healthDoc];

/** GET /api/openapi.json: the document generated from the registry below. */
const openApi: ApiRoute<ApiServices> = apiRoute({
  name: "openApi",
  method: "GET",
  route: "openapi.json",
  summary: "This API's OpenAPI 3.1 document",
  tags: ["meta"],
  role: "Portcullis.Reader",
  responses: { 200: { description: "The OpenAPI document." } },
  handle: async () => ({ status: 200, body: openApiDocument() }),
});

/** Every route of the API, in the order the document lists them. */
export const apiRoutes: readonly ApiRoute<ApiServices>[] = [
  ...connectionRoutes,
  getOperation,
  listDecisions,
  ...ruleRoutes,
  whatIf,
  startAudit,
  ...reportRoutes,
  ...suppressionRoutes,
  openApi,
];

/** The OpenAPI 3.1 document of the registry (and /health). */
export function openApiDocument(): Record<string, unknown> {
  return buildOpenApiDocument(API_INFO, apiRoutes, plainRoutes);
}

/** The API's HTTP triggers over a composition (the app passes its own; tests pass one over the local stack). */
export function createApiFunctions(composition: () => Composition): HttpFunctionDefinition[] {
  const runtime = apiRuntimeOver(composition);
  return apiRoutes.map((route) => toHttpFunction(route, runtime));
}
