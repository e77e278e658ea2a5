// Log Analytics workspace and a workspace-based Application Insights component that accepts telemetry only from
// Entra ID callers (local authentication off), so the connection string is an address, not a secret.

import { resourceTags } from '../shared.bicep'

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Region of the monitoring resources.')
param location string

@description('Tags applied to the monitoring resources.')
param tags resourceTags

@description('Days the workspace keeps logs.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    retentionInDays: retentionInDays
    sku: {
      name: 'PerGB2018'
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
    WorkspaceResourceId: workspace.id
  }
}

@description('Name of the Application Insights component.')
output applicationInsightsName string = applicationInsights.name
@description('Connection string of the component (an address: local authentication is off).')
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
@description('Resource ID of the Log Analytics workspace.')
output logAnalyticsWorkspaceId string = workspace.id
