// The queue side of events.bicep: a storage account (no public blob access, TLS 1.2, no shared keys: the daemon reads
// with its Entra ID identity) with one queue, and the daemon's right to receive and delete its messages.
param location string
param accountName string
param queueName string
param daemonPrincipalId string

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: accountName
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: queueName
}

// Storage Queue Data Message Processor: peek, receive and delete messages.
var messageProcessor = '8a0f0c08-91a1-4084-bc3d-661d67233fed'

resource daemonCanProcess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(daemonPrincipalId)) {
  scope: queue
  name: guid(queue.id, daemonPrincipalId, messageProcessor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', messageProcessor)
    principalId: daemonPrincipalId
  }
}

output accountId string = account.id
output queueEndpoint string = account.properties.primaryEndpoints.queue
