/**
 * Route parameters as ARM name segments. Every value that ends up in an ARM resource ID or a storage key is
 * checked here first: no `/`, no `..`, no control characters, nothing over-long (400 otherwise), so a request can
 * never address a resource other than the one its path names.
 */
import { z } from "zod";
import { ruleIdSchema } from "../domain/rules/schema.ts";

export const subscriptionIdSegment = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "a subscription ID is a GUID")
  .meta({ description: "Subscription ID (GUID) of the API Management instance." });

/** Azure resource group names: 1-90 letters, digits, `_`, `-`, `.`, `(`, `)`, not ending in `.`. */
export const resourceGroupSegment = z
  .string()
  .max(90, "a resource group name has at most 90 characters")
  .regex(/^[\p{L}\p{N}_\-.()]+$/u, "a resource group name has only letters, digits, '_', '-', '.', '(' and ')'")
  .refine((name) => !name.endsWith(".") && !name.includes(".."), "a resource group name cannot end in '.' or contain '..'")
  .meta({ description: "Resource group of the API Management instance." });

/** API Management service names: 1-50, start with a letter, letters, digits and hyphens, not ending in a hyphen. */
export const serviceNameSegment = z
  .string()
  .max(50, "an API Management service name has at most 50 characters")
  .regex(/^[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/, "an API Management service name starts with a letter and has only letters, digits and hyphens")
  .meta({ description: "Name of the API Management instance." });

/** Private endpoint connection names (`{endpoint name}.{GUID}` in Azure): 1-160 of letters, digits, `.`, `_`, `-`. */
export const connectionNameSegment = z
  .string()
  .max(160, "a connection name has at most 160 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a connection name starts with a letter or digit and has only letters, digits, '.', '_' and '-'")
  .refine((name) => !name.includes(".."), "a connection name cannot contain '..'")
  .meta({ description: "Name of the private endpoint connection on the instance." });

/** A resource provider namespace, e.g. `Microsoft.Storage`: letters, digits and dots, starting with a letter. */
export const providerNamespaceSegment = z
  .string()
  .max(64, "a resource provider namespace has at most 64 characters")
  .regex(/^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*$/, "a resource provider namespace such as Microsoft.Storage")
  .meta({ description: "Resource provider namespace of the resource, e.g. Microsoft.Storage." });

/** A top-level resource type name within its namespace, e.g. `storageAccounts`. */
export const resourceTypeSegment = z
  .string()
  .max(64, "a resource type has at most 64 characters")
  .regex(/^[A-Za-z][A-Za-z0-9]*$/, "a resource type name such as storageAccounts")
  .meta({ description: "Resource type within the namespace, e.g. storageAccounts (with the namespace: a registered Private Link type)." });

/** A resource name of any registered type: 1-260 of letters, digits, `.`, `_`, `-`, not starting with `.` or `-`. */
export const resourceNameSegment = z
  .string()
  .max(260, "a resource name has at most 260 characters")
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, "a resource name has only letters, digits, '.', '_' and '-'")
  .refine((name) => !name.includes(".."), "a resource name cannot contain '..'")
  .meta({ description: "Name of the resource." });

export const operationIdSegment = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "an operation ID is a lower-case GUID")
  .meta({ description: "ID of a long-running operation." });

export const ruleIdSegment = ruleIdSchema.meta({ description: "Rule id (kebab-case)." });

/** The path parameters naming one connection. */
export const connectionPathSchema = z.strictObject({
  subscriptionId: subscriptionIdSegment,
  resourceGroup: resourceGroupSegment,
  serviceName: serviceNameSegment,
  connectionName: connectionNameSegment,
});
export type ConnectionPath = z.output<typeof connectionPathSchema>;

/** The path parameters naming one connection on a resource of any registered type. */
export const resourceConnectionPathSchema = z.strictObject({
  subscriptionId: subscriptionIdSegment.meta({ description: "Subscription ID (GUID) of the resource." }),
  resourceGroup: resourceGroupSegment.meta({ description: "Resource group of the resource." }),
  providerNamespace: providerNamespaceSegment,
  resourceType: resourceTypeSegment,
  resourceName: resourceNameSegment,
  connectionName: connectionNameSegment.meta({ description: "Name of the private endpoint connection on the resource." }),
});
export type ResourceConnectionPath = z.output<typeof resourceConnectionPathSchema>;
