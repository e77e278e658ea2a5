// Subscribes the privateEndpointEvents function to the system topic of one subscription, filtered to exactly the
// events the engine acts on (src/domain/decisions/arm-events.ts: HANDLED_EVENT_TYPES and HANDLED_OPERATION_NAMES; a
// test keeps the two lists equal), so no event is delivered, paid for and then ignored. Events are hints: a lost one is
// caught by the reconcile sweep, so retries are bounded and what still fails is kept in the dead-letter container.

@description('Name of the existing system topic, in this resource group.')
param systemTopicName string

@description('Name of the event subscription.')
param name string

@description('Resource ID of the Portcullis Function App.')
param functionAppResourceId string

@description('Resource ID of the storage account that receives undeliverable events.')
param deadLetterStorageAccountResourceId string

@description('Blob container for undeliverable events.')
param deadLetterContainerName string

@description('Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Minutes Event Grid keeps retrying an event before dead-lettering it.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

// The Event Grid trigger registered by src/functions (the one function that takes ARM events).
var eventFunctionName = 'privateEndpointEvents'
var functionAppIdSegments = split(functionAppResourceId, '/')

// Microsoft.Resources events the engine acts on (HANDLED_EVENT_TYPES).
var handledEventTypes = [
  'Microsoft.Resources.ResourceWriteSuccess'
  'Microsoft.Resources.ResourceDeleteSuccess'
]

// ARM operations the engine acts on (HANDLED_OPERATION_NAMES): consumer endpoint writes and deletes, and the
// provider-side connection (proxy) writes and deletes on API Management.
var handledOperationNames = [
  'Microsoft.Network/privateEndpoints/write'
  'Microsoft.Network/privateEndpoints/delete'
  'Microsoft.ApiManagement/service/privateEndpointConnectionProxies/write'
  'Microsoft.ApiManagement/service/privateEndpointConnectionProxies/delete'
  'Microsoft.ApiManagement/service/privateEndpointConnections/write'
  'Microsoft.ApiManagement/service/privateEndpointConnections/delete'
]

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource eventSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: name
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: resourceId(
          functionAppIdSegments[2],
          functionAppIdSegments[4],
          'Microsoft.Web/sites/functions',
          last(functionAppIdSegments),
          eventFunctionName
        )
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: handledEventTypes
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: handledOperationNames
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageAccountResourceId
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

@description('Resource ID of the event subscription.')
output id string = eventSubscription.id
