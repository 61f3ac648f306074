// events.bicep: the Event Grid topic's managed identity may put messages on the queues of this storage account.
param accountName string
param principalId string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

// Storage Queue Data Message Sender.
var messageSender = 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'

resource topicCanSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, principalId, messageSender)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', messageSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
