// cloudwatchdog change events for Azure (README "Change events"). Deploy at subscription scope, once per subscription
// the daemon scans:
//   az deployment sub create --location westeurope --template-file deploy/azure/events.bicep \
//     --parameters queueAccountName=<globally unique name> daemonPrincipalId=<object id of the daemon's identity>
// It creates a resource group with a storage account and a queue, an Event Grid system topic on the subscription
// (Microsoft.Resources.Subscriptions), and an event subscription that delivers the successful writes and deletes of
// storage accounts and blob containers to the queue (each event as base64-encoded JSON, as Event Grid writes to a
// Storage Queue). Then: providers.azure.events = {queue_account_url: <queueAccountUrl output>, queue: <queueName>}.
// Several subscriptions may deliver to one queue: deploy the queue once and only the topic and event subscription
// (deployQueue=false, queueAccountId=<its id>) in the others.
targetScope = 'subscription'

@description('Resource group for the queue (created when deployQueue is true)')
param resourceGroupName string = 'cloudwatchdog-events'
param location string = deployment().location
@description('Storage account holding the queue: 3-24 lowercase letters and digits, globally unique')
param queueAccountName string
param queueName string = 'cloudwatchdog-events'
@description('Create the queue here (false: only the topic and event subscription, delivering to queueAccountId)')
param deployQueue bool = true
@description('With deployQueue false: the resource id of the storage account that holds the queue')
param queueAccountId string = ''
@description('Object id of the identity the daemon runs as: gets Storage Queue Data Message Processor on the queue')
param daemonPrincipalId string = ''

// Holds the topic, and the queue when deployQueue is true.
resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
}

module queue 'events-queue.bicep' = if (deployQueue) {
  name: 'cloudwatchdog-events-queue'
  scope: group
  params: {
    location: location
    accountName: queueAccountName
    queueName: queueName
    daemonPrincipalId: daemonPrincipalId
  }
}

// Known from the parameters alone (a module's scope must be).
var destinationAccountId = deployQueue
  ? resourceId(subscription().subscriptionId, resourceGroupName, 'Microsoft.Storage/storageAccounts', queueAccountName)
  : queueAccountId
var destination = split(destinationAccountId, '/')

module subscriptionTopic 'events-topic.bicep' = {
  name: 'cloudwatchdog-events-topic'
  scope: group
  params: {
    subscriptionId: subscription().subscriptionId
    destinationAccountId: destinationAccountId
    queueName: queueName
  }
  dependsOn: [queue]
}

// The topic's identity may send to the queue (Storage Queue Data Message Sender on the queue's storage account).
module sender 'events-sender.bicep' = {
  name: 'cloudwatchdog-events-sender'
  scope: resourceGroup(destination[2], destination[4])
  params: {
    accountName: last(destination)
    principalId: subscriptionTopic.outputs.principalId
  }
}

output queueAccountUrl string = deployQueue ? queue.outputs.queueEndpoint : ''
output queueName string = queueName
output topicName string = subscriptionTopic.outputs.topicName
