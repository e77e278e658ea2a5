// Subscribes the privateEndpointEvents function to the system topic of one subscription, filtered to exactly the
// events the engine acts on for the governed types (src/domain/decisions/arm-events.ts HANDLED_EVENT_TYPES; the
// operation names come from private-link-providers.json, generated from the provider registry; tests keep them
// equal), so no event is delivered, paid for and then ignored. Events are hints: a lost one is
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

@description('ARM operation names (data.operationName) to deliver: consumer endpoint writes and deletes and the governed types\' provider-side connection operations (subscription-wiring.bicep builds the list).')
@minLength(1)
param operationNames string[]

// The Event Grid trigger registered by src/functions (the one function that takes ARM events).
var eventFunctionName = 'privateEndpointEvents'
var functionAppIdSegments = split(functionAppResourceId, '/')

// Microsoft.Resources events the engine acts on (HANDLED_EVENT_TYPES).
var handledEventTypes = [
  'Microsoft.Resources.ResourceWriteSuccess'
  'Microsoft.Resources.ResourceDeleteSuccess'
]

// Event Grid's advanced filtering limits (azure-docs, articles/event-grid/event-filtering.md, "Limitations"): 25
// advanced filters and 25 filter values across all the filters per event subscription, 512 characters per string
// value. This subscription has one filter, so its values are the whole budget: a list beyond it stops the deployment
// here with the reason, instead of an Event Grid error at the end of a long deployment, or a truncated filter.
var maxFilterValues = 25
var maxFilterValueLength = 512
var filterValues = length(operationNames) > maxFilterValues
  ? fail('The Event Grid filter would list ${length(operationNames)} operation names; Event Grid allows ${maxFilterValues} values across the advanced filters of one event subscription. Govern fewer resource types per deployment.')
  : !empty(filter(operationNames, op => length(op) > maxFilterValueLength))
      ? fail('An operation name is longer than the ${maxFilterValueLength} characters Event Grid allows in a filter value.')
      : operationNames

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
          values: filterValues
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
