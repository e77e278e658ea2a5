targetScope = 'subscription'

// Custom roles holding exactly the ARM actions Portcullis calls on the estate it governs (DOMAIN.md, Permissions).
// The only write it always needs is approving or rejecting a connection; the other writes exist in the role
// definition only while the matching remediation is switched on, so switching it off also takes the right away.

@description('Name of this Portcullis deployment; role names include it because they must be unique in the tenant.')
param deploymentName string

@description('Scopes (/subscriptions/<id>) where the API Management role may be assigned: every subscription holding a governed instance.')
param apimAssignableScopes string[]

@description('Scopes (/subscriptions/<id>) where the private DNS role may be assigned: every subscription holding an audited zone.')
param dnsAssignableScopes string[]

@description('Let Portcullis disable public network access on governed instances (adds Microsoft.ApiManagement/service/write).')
param remediatePublicNetworkAccess bool = false

@description('Let Portcullis repair A records in the audited private DNS zones (adds Microsoft.Network/privateDnsZones/A/write and A/delete).')
param remediateDnsRecords bool = false

// Manual approval path: read the instance and its connections, approve or reject a Pending one, and poll the 202
// of that approval: APIM's Location points at .../service/{name}/operationresults/{id}, whose GET is authorized as
// its own action ("Gets current status of long running operation" in Microsoft's permissions reference).
var connectionApprovalActions = [
  'Microsoft.ApiManagement/service/read'
  'Microsoft.ApiManagement/service/privateEndpointConnections/read'
  'Microsoft.ApiManagement/service/privateEndpointConnections/write'
  'Microsoft.ApiManagement/service/operationresults/read'
]
var publicAccessRemediationActions = remediatePublicNetworkAccess ? ['Microsoft.ApiManagement/service/write'] : []

// DNS audit: compare the A records of privatelink.azure-api.net with the endpoints' private IPs.
var dnsAuditActions = [
  'Microsoft.Network/privateDnsZones/read'
  'Microsoft.Network/privateDnsZones/A/read'
  'Microsoft.Network/privateDnsZones/virtualNetworkLinks/read'
]
// DNS remediation writes drifted A records and deletes the ones no endpoint backs any more.
var dnsRemediationActions = remediateDnsRecords
  ? ['Microsoft.Network/privateDnsZones/A/write', 'Microsoft.Network/privateDnsZones/A/delete']
  : []

resource apimConnectionApprover 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, deploymentName, 'portcullis-apim-connection-approver')
  properties: {
    roleName: 'Portcullis APIM connection approver (${deploymentName})'
    description: 'Reads API Management instances and approves or rejects their private endpoint connections; with public-access remediation on, also updates the instance.'
    type: 'CustomRole'
    assignableScopes: apimAssignableScopes
    permissions: [
      {
        actions: concat(connectionApprovalActions, publicAccessRemediationActions)
        notActions: []
      }
    ]
  }
}

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

@description('Name (GUID) of the API Management role definition.')
output apimRoleDefinitionName string = apimConnectionApprover.name
@description('Name (GUID) of the private DNS role definition.')
output dnsRoleDefinitionName string = privateDnsAuditor.name
