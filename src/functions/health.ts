/** GET /api/health: anonymous liveness probe that reveals nothing about the deployment. */
import { z } from "zod";
import type { PlainRouteDoc } from "../http/openapi.ts";
import type { HttpFunctionDefinition } from "./definition.ts";

export const health: HttpFunctionDefinition = {
  kind: "http",
  name: "health",
  route: "health",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: async () => ({ status: 200, jsonBody: { status: "ok" }, headers: { "cache-control": "no-store" } }),
};

/** How the OpenAPI document describes /health (it is anonymous, so outside the authenticated route registry). */
export const healthDoc: PlainRouteDoc = {
  name: health.name,
  method: "GET",
  route: health.route,
  summary: "Liveness probe (anonymous; says nothing about the deployment)",
  tags: ["meta"],
  responses: { 200: { description: "The app is running.", schema: z.object({ status: z.literal("ok") }) } },
};
