targetScope = 'subscription'

import { eventGridNamePart, resourceTags } from 'shared.bicep'

// What Portcullis needs inside each subscription it watches (every subscription holding a governed resource, and
// every consumer subscription whose private endpoints connect to one):
//   - read access to private endpoints, their NICs and their private DNS zone groups there (a custom role with just
//     those actions);
//   - the Microsoft.Resources.Subscriptions system topic (a new one, or the subscription's existing one referenced
//     with `existing`, never re-PUT) and its event subscription to privateEndpointEvents, dead-lettering to the
//     Portcullis storage account.
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

@description('With systemTopicName: the resource group of the existing system topic. Without it: the resource group to create the new topic in (created or updated, in `location`). Empty: rg-<deploymentName>-events.')
param systemTopicResourceGroupName string = ''

@description('Name of the existing Microsoft.Resources.Subscriptions system topic of this subscription (a subscription can have only one). It is referenced, not redeployed: its region, identity and tags stay as they are, and its system-assigned identity must be on (it writes dead letters). Empty: create a new topic.')
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
param tags resourceTags = {}

@description('ARM resource types Portcullis governs (main.bicep passes its managedResourceTypes): the event filter lets through their provider-side connection operations. Keep it equal to the deployment\'s PORTCULLIS_MANAGED_RESOURCE_TYPES.')
@minLength(1)
param managedResourceTypes string[] = [
  'Microsoft.ApiManagement/service'
]

var abbrs = loadJsonContent('abbreviations.json')
// Event Grid names allow letters, digits and hyphens only; a deployment name given by hand may hold more.
var eventGridName = eventGridNamePart(deploymentName)
var reuseSystemTopic = !empty(systemTopicName)
var topicGroupName = empty(systemTopicResourceGroupName) ? '${abbrs.resourcesResourceGroups}${eventGridName}-events' : systemTopicResourceGroupName
var topicName = reuseSystemTopic ? systemTopicName : '${abbrs.eventGridSystemTopics}${eventGridName}'
var deadLetterAccountIdSegments = split(deadLetterStorageAccountResourceId, '/')

// The operations the event subscription delivers (private-link-providers.json, generated from the provider
// registry): consumer endpoint writes and deletes, and each governed type's provider-side connection operations.
var privateLinkProviders = loadJsonContent('app/private-link-providers.json')
var handledOperationNames = union(
  privateLinkProviders.endpointEventOperations,
  flatten(map(
    managedResourceTypes,
    t =>
      contains(privateLinkProviders.providers, toLower(t))
        ? privateLinkProviders.providers[toLower(t)].connectionEventOperations
        : fail('managedResourceTypes: \'${t}\' is not a registered Private Link provider; registered: ${join(privateLinkProviders.resourceTypes, ', ')}')
  ))
)

// Reading consumer endpoints where granted (DOMAIN.md, Permissions). A zone group is a child resource with its own
// read action, not covered by privateEndpoints/read.
var endpointReadActions = [
  'Microsoft.Network/privateEndpoints/read'
  'Microsoft.Network/networkInterfaces/read'
  'Microsoft.Network/privateEndpoints/privateDnsZoneGroups/read'
]

// Only for a new topic: an existing topic's resource group may be in another region and is not ours to redeploy.
resource topicGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = if (!reuseSystemTopic) {
  name: topicGroupName
  location: location
  tags: tags
}

resource existingSystemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = if (reuseSystemTopic) {
  name: topicName
  scope: resourceGroup(topicGroupName)
}

// Defined per subscription (assignable only here), so the team owning this subscription can deploy this file
// without rights anywhere else and see exactly what Portcullis may do in it.
resource endpointReader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, deploymentName, 'portcullis-private-endpoint-reader')
  properties: {
    roleName: 'Portcullis private endpoint reader (${deploymentName}, ${subscription().subscriptionId})'
    description: 'Reads private endpoints, their network interfaces and private DNS zone groups so Portcullis can decide on connections to the resources it governs and audit their DNS.'
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

module systemTopic 'app/system-topic.bicep' = if (!reuseSystemTopic) {
  name: 'portcullis-system-topic-${uniqueString(deploymentName, subscription().id)}'
  scope: resourceGroup(topicGroupName)
  params: {
    name: topicName
    tags: tags
  }
  dependsOn: [
    topicGroup
  ]
}

var topicPrincipalId = reuseSystemTopic ? existingSystemTopic!.identity.principalId : systemTopic!.outputs.principalId

module deadLetterAccess 'app/dead-letter-access.bicep' = if (grantDeadLetterAccess) {
  name: 'portcullis-dead-letter-${uniqueString(deploymentName, subscription().id)}'
  scope: resourceGroup(deadLetterAccountIdSegments[2], deadLetterAccountIdSegments[4])
  params: {
    storageAccountName: last(deadLetterAccountIdSegments)
    containerName: deadLetterContainerName
    topicPrincipalId: topicPrincipalId
  }
}

module eventSubscription 'app/event-subscription.bicep' = if (eventSubscriptionEnabled) {
  name: 'portcullis-event-subscription-${uniqueString(deploymentName, subscription().id)}'
  scope: resourceGroup(topicGroupName)
  params: {
    systemTopicName: topicName
    name: take('${abbrs.eventGridEventSubscriptions}${eventGridName}', 64)
    functionAppResourceId: functionAppResourceId
    deadLetterStorageAccountResourceId: deadLetterStorageAccountResourceId
    deadLetterContainerName: deadLetterContainerName
    maxDeliveryAttempts: maxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    operationNames: handledOperationNames
  }
  dependsOn: [
    systemTopic
    deadLetterAccess
  ]
}

@description('Resource group of the system topic.')
output systemTopicResourceGroupName string = topicGroupName
@description('Name of the system topic the event subscription hangs off.')
output systemTopicName string = topicName
@description('Resource ID of the private endpoint reader role definition of this subscription.')
output endpointReaderRoleDefinitionId string = endpointReader.id
