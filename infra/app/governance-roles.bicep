targetScope = 'subscription'

// Custom roles holding exactly the ARM actions Portcullis calls on the estate it governs (DOMAIN.md, Permissions),
// one set per governed resource type, read from private-link-providers.json (generated from the provider registry,
// src/domain/providers/registry.ts, by infra/scripts/generate-provider-infra.ts): nothing type-specific is written here.
// The only write a role always holds is approving or rejecting a connection; the public-access write exists in a role
// definition only while that remediation is switched on, so switching it off also takes the right away.
//
// One role per type rather than one for all: a role assigned at a Key Vault then grants Key Vault actions only, and a
// reviewer reads on each resource exactly what Portcullis may do there. Assigning stays simple: a resource gets the
// role of its own type (connectionApproverRoleNames is keyed by lowercase type).

@description('Name of this Portcullis deployment; role names include it because they must be unique in the tenant.')
param deploymentName string

@description('The governed ARM resource types, in the registry\'s spelling (main.bicep has validated them).')
@minLength(1)
param governedResourceTypes string[]

@description('Scopes (/subscriptions/<id>) where the connection roles may be assigned: every subscription holding a governed resource, and every managed subscription.')
param connectionAssignableScopes string[]

@description('Scopes (/subscriptions/<id>) where the private DNS role may be assigned: every subscription holding an audited zone.')
param dnsAssignableScopes string[]

@description('Let Portcullis disable public network access on governed resources (adds `{type}/write` for each governed type that has publicNetworkAccess).')
param remediatePublicNetworkAccess bool = false

@description('Let Portcullis repair A records in the audited private DNS zones (adds Microsoft.Network/privateDnsZones/A/write and A/delete).')
param remediateDnsRecords bool = false

@description('Role definition names (GUIDs) by lowercase resource type.')
type roleNamesByType = {
  @description('The role definition name of one type.')
  *: string
}

var providers = loadJsonContent('private-link-providers.json').providers

// Types whose long-running approvals are polled at a subscription-level URL ({namespace}/locations/...): a role at the
// resource does not reach it, so those actions form a second, read-only role assigned at subscriptions (the
// subscription of each governed resource of the type, and each managed subscription). Each role then holds only
// actions that take effect where it is assigned.
var typesPolledAtSubscription = filter(governedResourceTypes, t => !empty(providers[toLower(t)].subscriptionScopedActions))

// DNS audit: compare the A records of the types' privatelink.* zones with the endpoints' private IPs.
var dnsAuditActions = [
  'Microsoft.Network/privateDnsZones/read'
  'Microsoft.Network/privateDnsZones/A/read'
  'Microsoft.Network/privateDnsZones/virtualNetworkLinks/read'
]
// DNS remediation writes drifted A records and deletes the ones no endpoint backs any more.
var dnsRemediationActions = remediateDnsRecords
  ? ['Microsoft.Network/privateDnsZones/A/write', 'Microsoft.Network/privateDnsZones/A/delete']
  : []

// API Management's GUID seed is the one its role had before other types were governed ('apim'), so existing
// deployments update that role in place.
func connectionApproverRoleName(subscriptionId string, deploymentName string, roleKey string) string =>
  guid(subscriptionId, deploymentName, 'portcullis-${roleKey}-connection-approver')

func operationStatusReaderRoleName(subscriptionId string, deploymentName string, roleKey string) string =>
  guid(subscriptionId, deploymentName, 'portcullis-${roleKey}-operation-status-reader')

// Read the resource and its connections, approve or reject a Pending one, and poll that approval's long-running
// operation where the poll is under the resource (e.g. APIM's Location points at .../service/{name}/operationresults/{id},
// authorized as its own action).
resource connectionApprovers 'Microsoft.Authorization/roleDefinitions@2022-04-01' = [
  for resourceType in governedResourceTypes: {
    name: connectionApproverRoleName(subscription().id, deploymentName, providers[toLower(resourceType)].roleKey)
    properties: {
      roleName: 'Portcullis ${providers[toLower(resourceType)].roleLabel} connection approver (${deploymentName})'
      description: 'Reads ${providers[toLower(resourceType)].displayName} resources (${resourceType}) and approves or rejects their private endpoint connections; with public-access remediation on, also updates the resource.'
      type: 'CustomRole'
      assignableScopes: connectionAssignableScopes
      permissions: [
        {
          actions: union(
            providers[toLower(resourceType)].readActions,
            filter(
              providers[toLower(resourceType)].decideActions,
              a => !contains(providers[toLower(resourceType)].subscriptionScopedActions, a)
            ),
            remediatePublicNetworkAccess ? providers[toLower(resourceType)].publicAccessRemediationActions : []
          )
          notActions: []
        }
      ]
    }
  }
]

resource operationStatusReaders 'Microsoft.Authorization/roleDefinitions@2022-04-01' = [
  for resourceType in typesPolledAtSubscription: {
    name: operationStatusReaderRoleName(subscription().id, deploymentName, providers[toLower(resourceType)].roleKey)
    properties: {
      roleName: 'Portcullis ${providers[toLower(resourceType)].roleLabel} operation status reader (${deploymentName})'
      description: 'Reads the status of ${resourceType} long-running operations, which ARM serves at the subscription (/providers/{namespace}/locations/...), so Portcullis can follow the approvals it makes on governed resources there.'
      type: 'CustomRole'
      assignableScopes: connectionAssignableScopes
      permissions: [
        {
          actions: providers[toLower(resourceType)].subscriptionScopedActions
          notActions: []
        }
      ]
    }
  }
]

resource privateDnsAuditor 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, deploymentName, 'portcullis-private-dns-auditor')
  properties: {
    roleName: 'Portcullis private DNS auditor (${deploymentName})'
    description: 'Reads private DNS zones, their A records and virtual network links; with DNS remediation on, also writes and deletes A records.'
    type: 'CustomRole'
    assignableScopes: dnsAssignableScopes
    permissions: [
      {
        actions: concat(dnsAuditActions, dnsRemediationActions)
        notActions: []
      }
    ]
  }
}

// The names are computed as the definitions above compute them: a nested deployment's outputs are read only once all
// its resources are deployed, so an assignment that reads them still follows the definition it names.
@description('Name (GUID) of the connection approver role definition of each governed type, by lowercase type.')
output connectionApproverRoleNames roleNamesByType = toObject(
  governedResourceTypes,
  t => toLower(t),
  t => connectionApproverRoleName(subscription().id, deploymentName, providers[toLower(t)].roleKey)
)
@description('Name (GUID) of the operation status reader role definition of each governed type polled at the subscription, by lowercase type.')
output operationStatusReaderRoleNames roleNamesByType = toObject(
  typesPolledAtSubscription,
  t => toLower(t),
  t => operationStatusReaderRoleName(subscription().id, deploymentName, providers[toLower(t)].roleKey)
)
@description('Name (GUID) of the private DNS role definition.')
output dnsRoleDefinitionName string = privateDnsAuditor.name
