/**
 * Least privilege in infra/: the custom roles hold exactly the ARM actions of the permissions list in
 * ../shared/design/DOMAIN.md, write actions beyond approval exist only behind their remediation switch, and the
 * built-in data roles are the narrow ones the docs justify.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import {
  type BicepFile,
  paramDeclarations,
  propertyValue,
  readBicep,
  readBicepFiles,
  REPO_ROOT,
  resourceDeclarations,
  stringLiterals,
  variableExpression,
} from "./bicep.ts";

/**
 * The permissions list of DOMAIN.md ("Permissions (least privilege, from the seed article's table)"), spelled out:
 * manual approval path on the APIM side, reading consumer endpoints where granted, and the DNS audit.
 */
const DOMAIN_PERMISSIONS: readonly string[] = [
  "Microsoft.ApiManagement/service/read",
  "Microsoft.ApiManagement/service/privateEndpointConnections/read",
  "Microsoft.ApiManagement/service/privateEndpointConnections/write",
  "Microsoft.ApiManagement/service/write",
  "Microsoft.Network/privateEndpoints/read",
  "Microsoft.Network/networkInterfaces/read",
  "Microsoft.Network/privateDnsZones/read",
  "Microsoft.Network/privateDnsZones/A/read",
  "Microsoft.Network/privateDnsZones/virtualNetworkLinks/read",
  "Microsoft.Network/privateDnsZones/A/write",
];

/** DOMAIN.md: these writes only "if public-access remediation is switched on" / "if DNS remediation is switched on". */
const REMEDIATION_ONLY: Readonly<Record<string, string>> = {
  "Microsoft.ApiManagement/service/write": "remediatePublicNetworkAccess",
  "Microsoft.Network/privateDnsZones/A/write": "remediateDnsRecords",
};

/** Built-in roles the templates may assign, by ID (learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
const ALLOWED_BUILT_IN_ROLES: Readonly<Record<string, string>> = {
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
  "d5a91429-5739-47e2-a06b-3470a27159e7": "EventGrid Data Sender",
};

const files = readBicepFiles();

interface CustomRole {
  readonly file: BicepFile;
  readonly symbol: string;
  readonly actionVariables: readonly string[];
  readonly body: string;
}

function customRoles(): CustomRole[] {
  return files.flatMap((file) =>
    resourceDeclarations(file)
      .filter((r) => r.type === "Microsoft.Authorization/roleDefinitions" && !r.existing)
      .map((r) => {
        const actionsExpression = /\bactions:\s*([^\n]+)/.exec(r.body)?.[1]?.trim() ?? "";
        assert.notEqual(actionsExpression, "", `${file.path} ${r.symbol}: no actions`);
        assert.doesNotMatch(actionsExpression, /'/, `${file.path} ${r.symbol}: actions come from named *Actions variables, not inline strings`);
        const identifiers = actionsExpression.replace(/\bconcat\b|[(),\s]/g, " ").trim().split(/\s+/);
        for (const identifier of identifiers) {
          assert.match(identifier, /^[a-z]\w*Actions$/, `${file.path} ${r.symbol}: ${identifier} is not an *Actions variable`);
        }
        return { file, symbol: r.symbol, actionVariables: identifiers, body: r.body };
      }),
  );
}

function actionsOf(role: CustomRole): string[] {
  return role.actionVariables.flatMap((name) => stringLiterals(variableExpression(role.file, name)));
}

describe("custom roles in infra/", () => {
  let roles: CustomRole[] = [];
  it("take their actions only from named *Actions variables, which the checks below read", () => {
    roles = customRoles();
  });

  it("exist: API Management approver, private DNS auditor and private endpoint reader", () => {
    assert.equal(roles.length, 3, roles.map((r) => `${r.file.path}#${r.symbol}`).join(", "));
  });

  it("hold only actions on the DOMAIN.md permissions list, and together all of them", () => {
    const granted = roles.flatMap(actionsOf);
    const offList = granted.filter((action) => !DOMAIN_PERMISSIONS.includes(action));
    assert.deepEqual(offList, [], `actions not on the DOMAIN.md list: ${offList.join(", ")}`);
    assert.deepEqual([...new Set(granted)].sort(), [...DOMAIN_PERMISSIONS].sort());
  });

  it("grant no wildcard, no data actions and no not-actions", () => {
    for (const role of roles) {
      assert.doesNotMatch(actionsOf(role).join(" "), /\*/);
      assert.ok(!/dataActions/.test(role.body), `${role.file.path} ${role.symbol} has dataActions`);
      assert.match(role.body, /notActions: \[\]/, `${role.file.path} ${role.symbol} excludes nothing it does not grant`);
    }
  });

  it("hold the remediation writes only behind their switch, which is off by default", () => {
    for (const [action, switchName] of Object.entries(REMEDIATION_ONLY)) {
      const holders = roles.flatMap((role) =>
        role.actionVariables
          .filter((name) => stringLiterals(variableExpression(role.file, name)).includes(action))
          .map((name) => ({ role, name })),
      );
      assert.ok(holders.length > 0, `${action} is reachable when ${switchName} is on`);
      for (const { role, name } of holders) {
        assert.equal(variableExpression(role.file, name), `${switchName} ? ['${action}'] : []`, `${role.file.path} var ${name}`);
        const param = paramDeclarations(role.file).find((p) => p.name === switchName);
        assert.ok(param, `${role.file.path} declares param ${switchName}`);
        assert.equal(param.declaration, `param ${switchName} bool = false`);
      }
    }
    const main = readBicep("infra/main.bicep");
    for (const switchName of Object.values(REMEDIATION_ONLY)) {
      assert.ok(paramDeclarations(main).some((p) => p.declaration === `param ${switchName} bool = false`), `main.bicep: ${switchName} off by default`);
      assert.match(main.code, new RegExp(`^\\s+${switchName}: ${switchName}$`, "m"), `main.bicep passes ${switchName} to the roles`);
    }
  });

  it("keep every other write out of the roles: the only unconditional write is approving or rejecting a connection", () => {
    const unconditional = roles.flatMap((role) =>
      role.actionVariables.filter((name) => variableExpression(role.file, name).startsWith("[")).flatMap((name) => stringLiterals(variableExpression(role.file, name))),
    );
    assert.deepEqual(
      unconditional.filter((a) => !a.endsWith("/read")),
      ["Microsoft.ApiManagement/service/privateEndpointConnections/write"],
    );
  });
});

describe("role assignments in infra/", () => {
  const assignments = files.flatMap((file) =>
    resourceDeclarations(file).filter((r) => r.type === "Microsoft.Authorization/roleAssignments"),
  );

  it("are all to service principals (managed identities), named deterministically", () => {
    assert.ok(assignments.length >= 8);
    for (const a of assignments) {
      assert.equal(propertyValue(a.body, "name")?.startsWith("guid("), true, `${a.file} ${a.symbol}: name is a guid()`);
      assert.match(a.body, /principalType: 'ServicePrincipal'/, `${a.file} ${a.symbol}`);
    }
  });

  it("use only the narrow built-in roles, never Owner, Contributor, Reader or a queue role", () => {
    for (const file of files) {
      for (const guid of file.code.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi) ?? []) {
        assert.ok(guid.toLowerCase() in ALLOWED_BUILT_IN_ROLES, `${file.path}: ${guid} is not an allowed built-in role`);
      }
    }
  });

  it("scope the API Management role to each governed instance, the DNS role to each zone, endpoint reads to a subscription", () => {
    const scopeOf = (path: string, symbol: string) => {
      const file = readBicep(path);
      const assignment = resourceDeclarations(file).find((r) => r.symbol === symbol);
      assert.ok(assignment, `${path}#${symbol}`);
      return { file, scope: propertyValue(assignment.body, "scope") };
    };
    const apim = scopeOf("infra/app/apim-instance-access.bicep", "access");
    assert.equal(apim.scope, "service");
    assert.ok(resourceDeclarations(apim.file).some((r) => r.symbol === "service" && r.type === "Microsoft.ApiManagement/service" && r.existing));
    const dns = scopeOf("infra/app/dns-zone-access.bicep", "access");
    assert.equal(dns.scope, "zone");
    assert.ok(resourceDeclarations(dns.file).some((r) => r.symbol === "zone" && r.type === "Microsoft.Network/privateDnsZones" && r.existing));
    const deadLetter = scopeOf("infra/app/dead-letter-access.bicep", "deadLetterWriter");
    assert.equal(deadLetter.scope, "container", "the system topic may write to the dead-letter container only");
  });

  it("are each explained in the permissions table of docs/deploy.md", () => {
    const docs = readFileSync(path.join(REPO_ROOT, "docs", "deploy.md"), "utf8");
    const table = docs.slice(docs.indexOf("## Permissions"));
    assert.ok(table.length > 0 && docs.includes("## Permissions"), "docs/deploy.md has a Permissions section");
    for (const role of Object.values(ALLOWED_BUILT_IN_ROLES)) assert.ok(table.includes(role), `permissions table names ${role}`);
    for (const role of ["Portcullis APIM connection approver", "Portcullis private DNS auditor", "Portcullis private endpoint reader"]) {
      assert.ok(table.includes(role), `permissions table names ${role}`);
    }
    for (const action of DOMAIN_PERMISSIONS) assert.ok(table.includes(action), `permissions table lists ${action}`);
  });
});
