targetScope = 'subscription'

// Portcullis on Azure Functions Flex Consumption, deployed by `azd up`:
//   - the app, its user-assigned identity, its storage (tables + host state, Entra ID only) and its monitoring;
//   - the least-privilege roles that identity holds on the estate it governs (one connection approver role per
//     governed resource type, private endpoints in watched subscriptions, hub private DNS zones);
//   - the Entra ID app registration that callers of the API get tokens for;
//   - the Event Grid wiring from every watched subscription to the privateEndpointEvents function.
// Every permission is listed, with its reason, in docs/deploy.md.

import { roleGrant } from 'app/api-registration.bicep'
import { eventGridNamePart, systemTopicReference } from 'shared.bicep'

// ---------------------------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the unique suffix of every resource name.')
param environmentName string

@minLength(1)
@description('Region of the resource group and of every regional resource; Flex Consumption must be offered there.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Name of the resource group to create. Empty: rg-<environmentName>.')
param resourceGroupName string = ''

// ---------------------------------------------------------------------------------------------------------------
// What Portcullis governs (PORTCULLIS_* settings)
// ---------------------------------------------------------------------------------------------------------------

@description('`dry-run` evaluates and records decisions without writing to ARM; `enforce` approves and rejects. Start with dry-run.')
@allowed([
  'dry-run'
  'enforce'
])
param mode string = 'dry-run'

@description('What happens to a connection no rule matches: leave it for a human (`manual`) or `reject` it.')
@allowed([
  'manual'
  'reject'
])
param defaultAction string = 'manual'

@description('ARM resource types Portcullis governs (PORTCULLIS_MANAGED_RESOURCE_TYPES), each a registered Private Link provider (infra/app/private-link-providers.json lists them; any casing). The custom roles and the event filter cover exactly these types. Default: API Management only, as the app.')
@minLength(1)
param managedResourceTypes string[] = [
  'Microsoft.ApiManagement/service'
]

@description('Resource IDs of the resources Portcullis governs, of any governed type (PORTCULLIS_MANAGED_RESOURCES). Set this and/or managedSubscriptionIds.')
param managedResourceIds string[] = []

@description('Deprecated: use managedResourceIds. Resource IDs of API Management instances; still honoured, merged into managedResourceIds.')
param managedInstanceIds string[] = []

@description('Subscription IDs in which Portcullis governs every resource of the governed types. Set this and/or managedResourceIds.')
param managedSubscriptionIds string[] = []

@description('Subscription IDs whose private endpoints connect to the governed resources (consumers). Portcullis reads endpoints and receives events there.')
param consumerSubscriptionIds string[] = []

@description('Resource IDs of the private DNS zones (the governed types\' privatelink.* zones, usually in the hub) the audit compares with endpoint IPs.')
param dnsZoneIds string[] = []

@description('Resource IDs of governed instances allowed to keep public network access (the audit does not flag them).')
param publicAccessExemptInstanceIds string[] = []

@description('Let Portcullis disable public network access on governed resources that have an approved private endpoint. Adds `{type}/write` of each governed type that has publicNetworkAccess to its role.')
param remediatePublicNetworkAccess bool = false

@description('Let Portcullis repair drifted A records in the audited private DNS zones. Adds Microsoft.Network/privateDnsZones/A/write and A/delete to its role.')
param remediateDnsRecords bool = false

@description('Six-field NCRONTAB schedule of the sweep that decides Pending connections.')
param reconcileSchedule string = '0 */5 * * * *'

@description('Six-field NCRONTAB schedule of the compliance audit.')
param auditSchedule string = '0 0 6 * * *'

@description('Prefix of the Portcullis table names (letters and digits, starting with a letter).')
@minLength(1)
@maxLength(40)
param tablePrefix string = 'portcullis'

@description('Upper bound on concurrent ARM calls per workflow run.')
@minValue(1)
@maxValue(64)
param armConcurrency int = 8

@description('Where the sweep and the audit find connections, endpoints and NICs: arm-listing (per subscription and resource) or resource-graph (a few paged Azure Resource Graph queries for the whole scope; needs no extra role: Resource Graph returns what the roles below may read). See docs/inventory.md.')
@allowed([
  'arm-listing'
  'resource-graph'
])
param inventory string = 'arm-listing'

@description('Regular expression ticket references must match. Empty: the built-in default (ServiceNow CHG/RITM/INC numbers and Jira keys).')
param ticketPattern string = ''

// ---------------------------------------------------------------------------------------------------------------
// Identity of the API
// ---------------------------------------------------------------------------------------------------------------

@description('Client ID of an existing Entra ID app registration for the API. Empty: create one with the Microsoft Graph Bicep extension (needs the right to create applications).')
param existingApiAppId string = ''

@description('Alternate key of the created app registration. Empty: portcullis-api-<deployment name>.')
param apiAppUniqueName string = ''

@description('API app roles to grant when the app registration is created here, e.g. Portcullis.Approver to the service principal of a ticketing integration.')
param apiRoleGrants roleGrant[] = []

// ---------------------------------------------------------------------------------------------------------------
// Events and notifications
// ---------------------------------------------------------------------------------------------------------------

@description('Create the Event Grid subscriptions to privateEndpointEvents. Event Grid accepts them only once the function is deployed: the postdeploy hook turns this on after the first deployment.')
param eventSubscriptionsEnabled bool = false

@description('Delivery attempts before Event Grid dead-letters an event.')
@minValue(1)
@maxValue(30)
param eventMaxDeliveryAttempts int = 30

@description('Minutes Event Grid keeps retrying an event before dead-lettering it.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

@description('Blob container for events Event Grid could not deliver.')
param deadLetterContainerName string = 'eventgrid-deadletter'

@description('Watched subscriptions that already have a Microsoft.Resources.Subscriptions system topic (only one is allowed per subscription), keyed by lowercase subscription ID: { "<id>": { "resourceGroupName": "...", "name": "..." } }. Those topics are referenced, not redeployed; their system-assigned identity must be on.')
param existingSystemTopics {
  @description('The existing system topic of the subscription with this (lowercase) ID.')
  *: systemTopicReference
} = {}

@description('Create an Event Grid custom topic for Portcullis notifications (CloudEvents) and point the app at it.')
param notificationsTopicEnabled bool = false

// ---------------------------------------------------------------------------------------------------------------
// Hosting
// ---------------------------------------------------------------------------------------------------------------

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

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
// Seeds Event Grid names (system topics, event subscriptions), which allow letters, digits and hyphens only.
var deploymentName = '${eventGridNamePart(take(environmentName, 24))}-${resourceToken}'
var tags = {
  'azd-env-name': environmentName
}

// The provider registry as infra reads it (generated from src/domain/providers/registry.ts).
var privateLinkProviders = loadJsonContent('app/private-link-providers.json')

// The governed types in the registry's spelling, each checked against the registry: an unknown type stops the
// deployment with the registered ones named, rather than deploying roles for a type no code can decide.
var governedResourceTypes = union(
  map(
    managedResourceTypes,
    t =>
      contains(privateLinkProviders.providers, toLower(t))
        ? privateLinkProviders.providers[toLower(t)].resourceType
        : fail('managedResourceTypes: \'${t}\' is not a registered Private Link provider; registered: ${join(privateLinkProviders.resourceTypes, ', ')}')
  ),
  []
)
var governedTypeKeys = map(governedResourceTypes, t => toLower(t))

// Governed resources (managedInstanceIds is the deprecated name of managedResourceIds), each a top-level resource ID
// of a governed type: /subscriptions/{s}/resourceGroups/{g}/providers/{namespace}/{type}/{name}.
// Each resource once, whatever its casing in either list (two assignments of one role at one scope would collide).
var managedResourceIdsGiven = concat(managedResourceIds, managedInstanceIds)
var managedResourceIdsLower = map(managedResourceIdsGiven, id => toLower(id))
var managedResources = map(
  filter(managedResourceIdsGiven, (id, i) => indexOf(managedResourceIdsLower, toLower(id)) == i),
  id =>
    // Nested conditions rather than ||: the segments are read only once the ID is known to have them.
    (length(split(id, '/')) == 9 ? !startsWith(toLower(id), '/subscriptions/') || toLower(split(id, '/')[5]) != 'providers' : true)
      ? fail('managedResourceIds: \'${id}\' is not a resource ID of the form /subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name}')
      : contains(governedTypeKeys, toLower('${split(id, '/')[6]}/${split(id, '/')[7]}'))
          ? {
              id: id
              subscriptionId: toLower(split(id, '/')[2])
              resourceGroupName: split(id, '/')[4]
              name: split(id, '/')[8]
              resourceType: privateLinkProviders.providers[toLower('${split(id, '/')[6]}/${split(id, '/')[7]}')].resourceType
            }
          : fail('managedResourceIds: \'${id}\' is a ${split(id, '/')[6]}/${split(id, '/')[7]}, which is not in managedResourceTypes (${join(governedResourceTypes, ', ')})')
)

// Subscriptions Portcullis watches: where governed resources live, and where consumer endpoints live.
var managedResourceSubscriptionIds = map(managedResources, r => r.subscriptionId)
var managedSubscriptionIdsLower = map(managedSubscriptionIds, id => toLower(id))
var consumerSubscriptionIdsLower = map(consumerSubscriptionIds, id => toLower(id))
var watchedSubscriptionIds = union(managedResourceSubscriptionIds, managedSubscriptionIdsLower, consumerSubscriptionIdsLower)
var connectionRoleSubscriptionIds = union(managedResourceSubscriptionIds, managedSubscriptionIdsLower)
var connectionRoleScopes = union([subscription().id], map(connectionRoleSubscriptionIds, id => '/subscriptions/${id}'))
var dnsRoleScopes = union([subscription().id], map(dnsZoneIds, id => '/subscriptions/${toLower(split(id, '/')[2])}'))

// Where each role is assigned: the approver role of a resource's type at that resource; in a managed subscription,
// the approver role of every governed type; and, for a type whose approvals are polled at a subscription-level URL,
// its operation status reader at the subscription of each governed resource of that type and at each managed
// subscription.
var managedSubscriptionGrants = flatten(map(managedSubscriptionIdsLower, s => map(governedResourceTypes, t => { subscriptionId: s, resourceType: t })))
var operationStatusGrants = filter(
  union(map(managedResources, r => { subscriptionId: r.subscriptionId, resourceType: r.resourceType }), managedSubscriptionGrants),
  g => !empty(privateLinkProviders.providers[toLower(g.resourceType)].subscriptionScopedActions)
)

// The Entra ID issuer of v2.0 tokens for this tenant, and ARM of this cloud (both without guessing the cloud).
var authIssuer = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
var resourceManager = environment().resourceManager
var armEndpoint = endsWith(resourceManager, '/') ? take(resourceManager, length(resourceManager) - 1) : resourceManager

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package-${resourceToken}'
    deadLetterContainerName: deadLetterContainerName
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module appAccess 'app/app-access.bicep' = {
  name: 'app-access'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module notificationsTopic 'app/notifications-topic.bicep' = if (notificationsTopicEnabled) {
  name: 'notifications-topic'
  scope: rg
  params: {
    name: '${abbrs.eventGridDomainsTopics}${resourceToken}'
    location: location
    tags: tags
    publisherPrincipalId: identity.outputs.principalId
  }
}

module apiRegistration 'app/api-registration.bicep' = if (empty(existingApiAppId)) {
  name: 'api-registration'
  scope: rg
  params: {
    uniqueName: !empty(apiAppUniqueName) ? apiAppUniqueName : 'portcullis-api-${deploymentName}'
    displayName: 'Portcullis API (${environmentName})'
    roleGrants: apiRoleGrants
  }
}

// The module exists exactly when existingApiAppId is empty, so its output is read only then.
var apiAppId = empty(existingApiAppId) ? apiRegistration!.outputs.appId : existingApiAppId

// Remediations the audit may apply (PORTCULLIS_REMEDIATE), driven by the same switches as the write actions in
// the custom roles, so the app is never told to do what it has no right to do.
var publicAccessRemediation = remediatePublicNetworkAccess ? ['public-network-access'] : []
var dnsRecordRemediation = remediateDnsRecords ? ['dns-record'] : []

// Settings the app always gets; src/config.ts is the schema (a test checks every required one is here).
var portcullisSettings = {
  PORTCULLIS_MODE: mode
  PORTCULLIS_DEFAULT_ACTION: defaultAction
  PORTCULLIS_MANAGED_RESOURCE_TYPES: join(governedResourceTypes, ',')
  PORTCULLIS_MANAGED_RESOURCES: join(map(managedResources, r => r.id), ',')
  PORTCULLIS_MANAGED_SUBSCRIPTIONS: join(managedSubscriptionIds, ',')
  PORTCULLIS_RECONCILE_SCHEDULE: reconcileSchedule
  PORTCULLIS_AUDIT_SCHEDULE: auditSchedule
  PORTCULLIS_TABLES_ENDPOINT: storage.outputs.tableEndpoint
  PORTCULLIS_TABLE_PREFIX: tablePrefix
  PORTCULLIS_ARM_ENDPOINT: armEndpoint
  PORTCULLIS_ARM_CREDENTIAL: 'default'
  PORTCULLIS_ARM_CONCURRENCY: string(armConcurrency)
  PORTCULLIS_INVENTORY: inventory
  PORTCULLIS_AUTH_ISSUER: authIssuer
  PORTCULLIS_AUTH_AUDIENCE: apiAppId
  PORTCULLIS_DNS_ZONE_IDS: join(dnsZoneIds, ',')
  PORTCULLIS_PUBLIC_ACCESS_EXEMPT: join(publicAccessExemptInstanceIds, ',')
  PORTCULLIS_REMEDIATE: join(concat(publicAccessRemediation, dnsRecordRemediation), ',')
}

// Settings set only when their feature is used (the schema treats them as optional).
var ticketPatternSetting = empty(ticketPattern) ? {} : { PORTCULLIS_TICKET_PATTERN: ticketPattern }
var notificationsSetting = notificationsTopicEnabled ? { PORTCULLIS_EVENTGRID_TOPIC_ENDPOINT: notificationsTopic!.outputs.endpoint } : {}
var portcullisOptionalSettings = union(ticketPatternSetting, notificationsSetting)

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: '${abbrs.webSitesFunctions}${resourceToken}'
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    appSettings: union(portcullisSettings, portcullisOptionalSettings)
  }
  // The host reads its storage with the identity from its first start.
  dependsOn: [
    appAccess
  ]
}

// ---------------------------------------------------------------------------------------------------------------
// Least-privilege access to the governed estate
// ---------------------------------------------------------------------------------------------------------------

module governanceRoles 'app/governance-roles.bicep' = {
  name: 'portcullis-governance-roles-${resourceToken}'
  params: {
    deploymentName: deploymentName
    governedResourceTypes: governedResourceTypes
    connectionAssignableScopes: connectionRoleScopes
    dnsAssignableScopes: dnsRoleScopes
    remediatePublicNetworkAccess: remediatePublicNetworkAccess
    remediateDnsRecords: remediateDnsRecords
  }
}

module managedResourceAccess 'app/resource-role-assignment.json' = [
  for resource in managedResources: {
    name: 'portcullis-resource-access-${uniqueString(deploymentName, resource.id)}'
    scope: resourceGroup(resource.subscriptionId, resource.resourceGroupName)
    params: {
      resourceType: resource.resourceType
      resourceName: resource.name
      principalId: identity.outputs.principalId
      roleDefinitionName: governanceRoles.outputs.connectionApproverRoleNames[toLower(resource.resourceType)]
    }
  }
]

module operationStatusAccess 'app/subscription-access.bicep' = [
  for grant in operationStatusGrants: {
    name: 'portcullis-status-access-${uniqueString(deploymentName, grant.subscriptionId, grant.resourceType)}'
    scope: subscription(grant.subscriptionId)
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionName: governanceRoles.outputs.operationStatusReaderRoleNames[toLower(grant.resourceType)]
    }
  }
]

module managedSubscriptionAccess 'app/subscription-access.bicep' = [
  for grant in managedSubscriptionGrants: {
    name: 'portcullis-subscription-access-${uniqueString(deploymentName, grant.subscriptionId, grant.resourceType)}'
    scope: subscription(grant.subscriptionId)
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionName: governanceRoles.outputs.connectionApproverRoleNames[toLower(grant.resourceType)]
    }
  }
]

module dnsZoneAccess 'app/dns-zone-access.bicep' = [
  for zoneId in dnsZoneIds: {
    name: 'portcullis-dns-access-${uniqueString(deploymentName, zoneId)}'
    scope: resourceGroup(split(zoneId, '/')[2], split(zoneId, '/')[4])
    params: {
      zoneName: last(split(zoneId, '/'))
      principalId: identity.outputs.principalId
      roleDefinitionName: governanceRoles.outputs.dnsRoleDefinitionName
    }
  }
]

// Endpoint read access and Event Grid wiring in every watched subscription (subscription-wiring.bicep).
module subscriptionWiring 'subscription-wiring.bicep' = [
  for subscriptionId in watchedSubscriptionIds: {
    name: 'portcullis-wiring-${uniqueString(deploymentName, subscriptionId)}'
    scope: subscription(subscriptionId)
    params: {
      deploymentName: deploymentName
      location: location
      principalId: identity.outputs.principalId
      functionAppResourceId: functionApp.outputs.id
      deadLetterStorageAccountResourceId: storage.outputs.id
      deadLetterContainerName: storage.outputs.deadLetterContainerName
      eventSubscriptionEnabled: eventSubscriptionsEnabled
      maxDeliveryAttempts: eventMaxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
      systemTopicResourceGroupName: existingSystemTopics[?subscriptionId].?resourceGroupName ?? ''
      systemTopicName: existingSystemTopics[?subscriptionId].?name ?? ''
      tags: tags
      managedResourceTypes: governedResourceTypes
    }
  }
]

// ---------------------------------------------------------------------------------------------------------------
// Outputs (azd stores them in the environment; docs/deploy.md uses them)
// ---------------------------------------------------------------------------------------------------------------

@description('Region of the deployment (azd reads it back).')
output AZURE_LOCATION string = location
@description('Tenant the app and its API registration live in.')
output AZURE_TENANT_ID string = tenant().tenantId
@description('Resource group of the app.')
output AZURE_RESOURCE_GROUP string = rg.name
@description('Name of the Function App azd deploys to.')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
@description('Name of this deployment; subscription-wiring.bicep takes it as deploymentName.')
output PORTCULLIS_DEPLOYMENT_NAME string = deploymentName
@description('Base URL of the Portcullis HTTP API.')
output PORTCULLIS_API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
@description('Client ID of the API app registration (the audience of its tokens).')
output PORTCULLIS_API_APP_ID string = apiAppId
@description('Scope a caller requests a token for.')
output PORTCULLIS_API_TOKEN_SCOPE string = '${apiAppId}/.default'
@description('Issuer of the tokens the API accepts.')
output PORTCULLIS_API_TOKEN_ISSUER string = authIssuer
@description('Principal ID of the app identity (subscription-wiring.bicep principalId).')
output PORTCULLIS_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
@description('Client ID of the app identity.')
output PORTCULLIS_IDENTITY_CLIENT_ID string = identity.outputs.clientId
@description('Resource ID of the Function App (subscription-wiring.bicep functionAppResourceId).')
output PORTCULLIS_FUNCTION_APP_ID string = functionApp.outputs.id
@description('Storage account of the dead-letter container (subscription-wiring.bicep).')
output PORTCULLIS_DEADLETTER_STORAGE_ACCOUNT_ID string = storage.outputs.id
@description('Dead-letter blob container (subscription-wiring.bicep).')
output PORTCULLIS_DEADLETTER_CONTAINER string = storage.outputs.deadLetterContainerName
@description('Subscriptions wired to the event path, lowercase.')
output PORTCULLIS_WATCHED_SUBSCRIPTION_IDS string[] = watchedSubscriptionIds
@description('Endpoint of the notifications topic, or empty when it is off.')
output PORTCULLIS_NOTIFICATIONS_TOPIC_ENDPOINT string = notificationsTopicEnabled ? notificationsTopic!.outputs.endpoint : ''
