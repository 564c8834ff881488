import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The run-state table as the pipeline expects it: one string hash key `pk`. */
export async function createRunStateTable(dynamo: DynamoDBClient, tableName: string): Promise<void> {
  await dynamo.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}
