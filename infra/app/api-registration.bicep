// The Entra ID app registration that identifies the Portcullis API: callers get v2.0 access tokens whose audience
// is this app's client ID and whose `roles` claim carries one of the three app roles below.
extension microsoftGraphV1

@description('Alternate key of the app registration; redeploying with the same value updates the same app.')
param uniqueName string

@description('Display name of the app registration in Entra ID.')
param displayName string

@description('Principals (service principals of ticketing integrations, users or groups) to grant an API app role, for example the service principal of the ServiceNow integration with the Portcullis.Approver role.')
param roleGrants roleGrant[] = []

@export()
@description('One grant of an API app role to a principal.')
type roleGrant = {
  @description('Object ID of the service principal, user or group receiving the role.')
  principalId: string
  @description('The app role to grant.')
  role: 'Portcullis.Reader' | 'Portcullis.Approver' | 'Portcullis.Admin'
}

var appRoles = [
  {
    value: 'Portcullis.Reader'
    displayName: 'Portcullis reader'
    description: 'Read connections, decisions, rules and operations.'
  }
  {
    value: 'Portcullis.Approver'
    displayName: 'Portcullis approver'
    description: 'Approve or reject pending private endpoint connections against a ticket.'
  }
  {
    value: 'Portcullis.Admin'
    displayName: 'Portcullis administrator'
    description: 'Manage rules, run what-if and revoke approved connections.'
  }
]

resource api 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  api: {
    // v2.0 tokens: issuer https://login.microsoftonline.com/<tenant>/v2.0, audience = the client ID.
    requestedAccessTokenVersion: 2
  }
  appRoles: [
    for role in appRoles: {
      id: guid(uniqueName, role.value)
      value: role.value
      displayName: role.displayName
      description: role.description
      allowedMemberTypes: [
        'Application'
        'User'
      ]
      isEnabled: true
    }
  ]
}

resource apiServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: api.appId
  // Only principals granted one of the roles can get a token for the API at all.
  appRoleAssignmentRequired: true
}

resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for grant in roleGrants: {
    resourceId: apiServicePrincipal.id
    principalId: grant.principalId
    appRoleId: guid(uniqueName, grant.role)
  }
]

@description('Client ID of the API app registration (the audience of its tokens).')
output appId string = api.appId
@description('Object ID of the API\'s service principal.')
output servicePrincipalId string = apiServicePrincipal.id
