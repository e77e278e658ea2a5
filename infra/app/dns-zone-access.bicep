// Assigns the Portcullis private DNS role at one audited zone (typically privatelink.azure-api.net in the hub).

@description('Name of the private DNS zone, in this resource group.')
param zoneName string

@description('Principal (object) ID of the Portcullis managed identity.')
param principalId string

@description('Name (GUID) of the Portcullis private DNS custom role definition.')
param roleDefinitionName string

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' existing = {
  name: zoneName
}

resource access 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(zone.id, principalId, roleDefinitionName)
  scope: zone
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionName)
  }
}
