// Optional Event Grid custom topic Portcullis publishes its decisions to (CloudEvents 1.0). Publishing is by
// Entra ID only: local (key) auth is off and the app holds the data-sender role on this topic alone.

import { resourceTags } from '../shared.bicep'

@description('Name of the custom topic.')
param name string

@description('Region of the custom topic.')
param location string

@description('Tags applied to the custom topic.')
param tags resourceTags

@description('Principal (object) ID of the managed identity of the app, which publishes to the topic.')
param publisherPrincipalId string

// Built-in role definition ID (the same in every tenant; see learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var eventGridDataSenderRoleId = 'd5a91429-5739-47e2-a06b-3470a27159e7' // EventGrid Data Sender

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    disableLocalAuth: true
    inputSchema: 'CloudEventSchemaV1_0'
    minimumTlsVersionAllowed: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource publisherAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, publisherPrincipalId, eventGridDataSenderRoleId)
  scope: topic
  properties: {
    principalId: publisherPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridDataSenderRoleId)
  }
}

@description('Endpoint Portcullis publishes its CloudEvents to.')
output endpoint string = topic.properties.endpoint
@description('Resource ID of the custom topic.')
output id string = topic.id
