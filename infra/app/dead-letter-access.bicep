// Lets one system topic write undeliverable events into the dead-letter container, and nowhere else.

@description('Name of the storage account holding the dead-letter container, in this resource group.')
param storageAccountName string

@description('Name of the dead-letter blob container.')
param containerName string

@description('Principal (object) ID of the system-assigned identity of the system topic.')
param topicPrincipalId string

// Built-in role definition ID (the same in every tenant; see learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var storageBlobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' existing = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' existing = {
  parent: blobService
  name: containerName
}

resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, topicPrincipalId, storageBlobDataContributorRoleId)
  scope: container
  properties: {
    principalId: topicPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributorRoleId)
  }
}
