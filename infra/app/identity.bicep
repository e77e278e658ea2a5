// The app's user-assigned managed identity: the only principal Portcullis runs as, in Azure and in every
// subscription it governs. User-assigned so its roles exist before the app does and survive a re-created app.

import { resourceTags } from '../shared.bicep'

@description('Name of the user-assigned managed identity.')
param name string

@description('Region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags resourceTags

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource ID of the identity.')
output id string = identity.id
@description('Principal (object) ID of the identity, the principal every role is assigned to.')
output principalId string = identity.properties.principalId
@description('Client ID of the identity (AZURE_CLIENT_ID of the app).')
output clientId string = identity.properties.clientId
