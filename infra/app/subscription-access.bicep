targetScope = 'subscription'

// Assigns a Portcullis role at subscription scope: used only where a setting names a whole subscription
// (PORTCULLIS_MANAGED_SUBSCRIPTIONS governs every API Management instance in it).

@description('Principal (object) ID of the Portcullis managed identity.')
param principalId string

@description('Name (GUID) of the role definition to assign.')
param roleDefinitionName string

resource access 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleDefinitionName)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionName)
  }
}
