/** GET /api/health: anonymous liveness probe that reveals nothing about the deployment. */
import type { HttpFunctionDefinition } from "./definition.ts";

export const health: HttpFunctionDefinition = {
  kind: "http",
  name: "health",
  route: "health",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: async () => ({ status: 200, jsonBody: { status: "ok" }, headers: { "cache-control": "no-store" } }),
};
