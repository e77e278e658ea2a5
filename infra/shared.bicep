// Types and functions the templates share (imported with `import`; nothing here is deployed).

@export()
@description('Tags applied to a resource: string values by name.')
type resourceTags = {
  @description('A tag value.')
  *: string
}

@export()
@description('An existing Microsoft.Resources.Subscriptions system topic of one watched subscription.')
type systemTopicReference = {
  @description('Resource group of the system topic.')
  resourceGroupName: string
  @description('Name of the system topic.')
  name: string
}

@export()
@description('''Turns text into a piece of an Event Grid resource name. Event Grid names allow only letters, digits and
hyphens (system topics and event subscriptions), while azd environment names may also hold '_', '.', '(' and ')'
(azd: ^[a-zA-Z0-9-\(\)_\.]{1,64}$); each of those becomes '-', and the result is lowercase.''')
func eventGridNamePart(text string) string =>
  toLower(replace(replace(replace(replace(text, '_', '-'), '.', '-'), '(', '-'), ')', '-'))
