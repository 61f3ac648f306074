// The Event Grid side of events.bicep: a system topic on the subscription (its Azure Resource Manager events) and an
// event subscription delivering the successful writes and deletes of storage accounts and blob containers to the
// queue. The topic's managed identity sends the messages (Storage Queue Data Message Sender on the queue's account).
param subscriptionId string
param destinationAccountId string
param queueName string

resource topic 'Microsoft.EventGrid/systemTopics@2024-06-01-preview' = {
  name: 'cloudwatchdog-subscription-changes'
  location: 'global'
  identity: { type: 'SystemAssigned' }
  properties: {
    source: '/subscriptions/${subscriptionId}'
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource storageChanges 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2024-06-01-preview' = {
  parent: topic
  name: 'storage-sharing-changes'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    deliveryWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      destination: {
        endpointType: 'StorageQueue'
        properties: {
          resourceId: destinationAccountId
          queueName: queueName
          queueMessageTimeToLiveInSeconds: 604800
        }
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
        'Microsoft.Resources.ResourceDeleteSuccess'
      ]
      advancedFilters: [
        {
          operatorType: 'StringContains'
          key: 'data.operationName'
          values: [
            'Microsoft.Storage/storageAccounts/write'
            'Microsoft.Storage/storageAccounts/delete'
            'Microsoft.Storage/storageAccounts/blobServices/write'
            'Microsoft.Storage/storageAccounts/blobServices/containers/write'
            'Microsoft.Storage/storageAccounts/blobServices/containers/delete'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output topicName string = topic.name
output principalId string = topic.identity.principalId
