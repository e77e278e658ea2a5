targetScope = 'subscription'

// What Portcullis needs inside each subscription it watches (every subscription holding a governed API Management
// instance, and every consumer subscription whose private endpoints connect to one):
//   - read access to private endpoints and their NICs there (a custom role with just those two actions);
//   - the Microsoft.Resources.Subscriptions system topic and its event subscription to privateEndpointEvents,
//     dead-lettering to the Portcullis storage account.
// main.bicep deploys this for every subscription it is given. It is also an entry point of its own, for a
// subscription added later or run by another team:  az deployment sub create --subscription <id> --location <region>
//   --template-file infra/subscription-wiring.bicep --parameters ...  (see docs/deploy.md).

@description('Name of the Portcullis deployment (PORTCULLIS_DEPLOYMENT_NAME output of main.bicep); names and tags derive from it.')
param deploymentName string

@description('Region of the resource group that holds the system topic.')
param location string

@description('Principal (object) ID of the Portcullis managed identity (PORTCULLIS_IDENTITY_PRINCIPAL_ID output).')
param principalId string

@description('Resource ID of the Portcullis Function App (PORTCULLIS_FUNCTION_APP_ID output).')
param functionAppResourceId string

@description('Resource ID of the storage account that receives undeliverable events (PORTCULLIS_DEADLETTER_STORAGE_ACCOUNT_ID output).')
param deadLetterStorageAccountResourceId string

@description('Blob container for undeliverable events (PORTCULLIS_DEADLETTER_CONTAINER output).')
param deadLetterContainerName string

@description('Grant the system topic write access to the dead-letter container. Needs rights on that storage account: set false when its owner grants the role instead.')
param grantDeadLetterAccess bool = true

@description('Create the event subscription. Event Grid accepts it only once privateEndpointEvents is deployed, so the first provision of main.bicep passes false.')
param eventSubscriptionEnabled bool = true

@description('Resource group for the system topic in this subscription; created if missing. Empty: rg-<deploymentName>-events.')
param systemTopicResourceGroupName string = ''

@description('Name of the Microsoft.Resources.Subscriptions system topic. A subscription can have only one: when it already has one, give its name and resource group. Empty: a new name.')
param systemTopicName string = ''

@description('Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Minutes Event Grid keeps retrying an event before dead-lettering it.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

@description('Tags applied to the resource group and the system topic.')
param tags object = {}

var abbrs = loadJsonContent('abbreviations.json')
var topicGroupName = empty(systemTopicResourceGroupName) ? '${abbrs.resourcesResourceGroups}${deploymentName}-events' : systemTopicResourceGroupName
var topicName = empty(systemTopicName) ? '${abbrs.eventGridSystemTopics}${deploymentName}' : systemTopicName
var deadLetterAccountIdSegments = split(deadLetterStorageAccountResourceId, '/')

// Reading consumer endpoints where granted (DOMAIN.md, Permissions).
var endpointReadActions = [
  'Microsoft.Network/privateEndpoints/read'
  'Microsoft.Network/networkInterfaces/read'
  'Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read'
]

resource topicGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: topicGroupName
  location: location
  tags: tags
}

// Defined per subscription (assignable only here), so the team owning this subscription can deploy this file
// without rights anywhere else and see exactly what Portcullis may do in it.
resource endpointReader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, deploymentName, 'portcullis-private-endpoint-reader')
  properties: {
    roleName: 'Portcullis private endpoint reader (${deploymentName}, ${subscription().subscriptionId})'
    description: 'Reads private endpoints and their network interfaces so Portcullis can decide on connections to API Management.'
    type: 'CustomRole'
    assignableScopes: [
      subscription().id
    ]
    permissions: [
      {
        actions: endpointReadActions
        notActions: []
      }
    ]
  }
}

resource endpointReadAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, endpointReader.id)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: endpointReader.id
  }
}

module systemTopic 'app/system-topic.bicep' = {
  name: 'portcullis-system-topic-${uniqueString(deploymentName, subscription().id)}'
  scope: topicGroup
  params: {
    name: topicName
    tags: tags
  }
}

module deadLetterAccess 'app/dead-letter-access.bicep' = if (grantDeadLetterAccess) {
  name: 'portcullis-dead-letter-${uniqueString(deploymentName, subscription().id)}'
  scope: resourceGroup(deadLetterAccountIdSegments[2], deadLetterAccountIdSegments[4])
  params: {
    storageAccountName: last(deadLetterAccountIdSegments)
    containerName: deadLetterContainerName
    topicPrincipalId: systemTopic.outputs.principalId
  }
}

module eventSubscription 'app/event-subscription.bicep' = if (eventSubscriptionEnabled) {
  name: 'portcullis-event-subscription-${uniqueString(deploymentName, subscription().id)}'
  scope: topicGroup
  params: {
    systemTopicName: systemTopic.outputs.name
    name: take('${abbrs.eventGridEventSubscriptions}${deploymentName}', 64)
    functionAppResourceId: functionAppResourceId
    deadLetterStorageAccountResourceId: deadLetterStorageAccountResourceId
    deadLetterContainerName: deadLetterContainerName
    maxDeliveryAttempts: maxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
  }
  dependsOn: [
    deadLetterAccess
  ]
}

output systemTopicResourceGroupName string = topicGroup.name
output systemTopicName string = systemTopic.outputs.name
output endpointReaderRoleDefinitionId string = endpointReader.id
