// The Flex Consumption plan and the Function App. The host reaches its storage and Application Insights with the
// user-assigned identity; no connection string or key is stored anywhere.

import { resourceTags } from '../shared.bicep'

@description('Application settings: string values by setting name.')
type appSettingValues = {
  @description('A setting value.')
  *: string
}

@description('Name of the Function App (also its default host name).')
param name string

@description('Name of the Flex Consumption (FC1) plan.')
param planName string

@description('Region of the plan and the app.')
param location string

@description('Tags applied to the plan and the app.')
param tags resourceTags

@description('azd service name the app is tagged with, so `azd deploy` finds it.')
param serviceName string = 'api'

@description('Resource ID of the user-assigned managed identity the app runs as.')
param identityId string

@description('Client ID of the user-assigned managed identity the app runs as.')
param identityClientId string

@description('Name of the storage account for host state and the deployment package.')
param storageAccountName string

@description('Blob container the plan deploys the app package from.')
param deploymentContainerName string

@description('Application Insights connection string (an address only: the component accepts Entra ID callers alone).')
param applicationInsightsConnectionString string

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Application settings for Portcullis itself (the PORTCULLIS_* settings).')
param appSettings appSettingValues

// Identity-based connections for the host: the account name plus the identity to use, never a key.
var hostSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // DefaultAzureCredential picks the user-assigned identity by this client ID.
  AZURE_CLIENT_ID: identityClientId
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
    siteConfig: {
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      appSettings: [
        for setting in items(union(appSettings, hostSettings)): {
          name: setting.key
          value: setting.value
        }
      ]
    }
  }
}

// Deployments go through Entra ID (azd, OneDeploy); publishing with basic-auth credentials stays off.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('Name of the Function App.')
output name string = site.name
@description('Resource ID of the Function App.')
output id string = site.id
@description('Default host name of the Function App.')
output defaultHostName string = site.properties.defaultHostName
