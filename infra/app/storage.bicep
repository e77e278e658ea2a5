// One storage account for the Functions host (leases, keys, timer state), the Flex Consumption deployment package
// and Portcullis's own tables. Shared keys are off: every caller, the host included, comes in with Entra ID.

import { resourceTags } from '../shared.bicep'

@description('Name of the storage account (3-24 lowercase letters and digits, globally unique).')
param name string

@description('Region of the storage account.')
param location string

@description('Tags applied to the storage account.')
param tags resourceTags

@description('Replication SKU of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_LRS'

@description('Blob container the Flex Consumption plan deploys the app package from.')
param deploymentContainerName string

@description('Blob container Event Grid writes undeliverable events to.')
param deadLetterContainerName string

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    dnsEndpointType: 'Standard'
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled'
    supportsHttpsTrafficOnly: true
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

@description('Name of the storage account.')
output name string = account.name
@description('Resource ID of the storage account.')
output id string = account.id
@description('Blob endpoint of the account.')
output blobEndpoint string = account.properties.primaryEndpoints.blob
@description('Table endpoint of the account (PORTCULLIS_TABLES_ENDPOINT).')
output tableEndpoint string = account.properties.primaryEndpoints.table
@description('Container the Flex Consumption plan deploys the package from.')
output deploymentContainerName string = deploymentContainer.name
@description('Container Event Grid writes undeliverable events to.')
output deadLetterContainerName string = deadLetterContainer.name
