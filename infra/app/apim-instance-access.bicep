// Assigns the Portcullis API Management role at one governed instance (not its resource group or subscription).

@description('Name of the API Management instance, in this resource group.')
param serviceName string

@description('Principal (object) ID of the Portcullis managed identity.')
param principalId string

@description('Name (GUID) of the Portcullis API Management custom role definition.')
param roleDefinitionName string

resource service 'Microsoft.ApiManagement/service@2024-05-01' existing = {
  name: serviceName
}

resource access 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(service.id, principalId, roleDefinitionName)
  scope: service
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionName)
  }
}
