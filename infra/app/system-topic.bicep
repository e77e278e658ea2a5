// The Event Grid system topic for one Azure subscription (topic type Microsoft.Resources.Subscriptions): it emits
// Microsoft.Resources.* events for every ARM write in that subscription. Its system-assigned identity writes
// undeliverable events to the dead-letter container.

import { resourceTags } from '../shared.bicep'

@description('Name of the system topic. A subscription can have only one topic of this type; reuse its name if one exists.')
param name string

@description('Tags applied to the system topic.')
param tags resourceTags

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  // Subscription-level system topics are global.
  location: 'global'
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

@description('Name of the system topic.')
output name string = topic.name
@description('Principal ID of the topic\'s system-assigned identity (it writes dead letters).')
output principalId string = topic.identity.principalId
