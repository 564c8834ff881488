import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { Decimal128, MongoClient, MongoNetworkError } from 'mongodb';
import { ferretdbUri, motoClientConfig, motoEndpoint, uniqueName } from './services.ts';

describe('test services', () => {
  describe('moto', () => {
    let aws: ReturnType<typeof motoClientConfig>;

    before(async () => {
      aws = motoClientConfig(await motoEndpoint());
    });

    it('refuses a second S3 put of the same key with If-None-Match: * (412)', async () => {
      const s3 = new S3Client(aws);
      const bucket = uniqueName('smoke');
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const put = (body: string) =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'lease.json', Body: body, IfNoneMatch: '*' }));

      await put('first');
      const refused = await put('second').then(
        () => undefined,
        (error: unknown) => error,
      );

      assert.ok(refused instanceof S3ServiceException, `expected an S3 error, got ${String(refused)}`);
      assert.equal(refused.$metadata.httpStatusCode, 412);
      assert.equal(refused.name, 'PreconditionFailed');
      const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'lease.json' }));
      assert.equal(await kept.Body?.transformToString(), 'first');
    });

    it('refuses a second DynamoDB put with attribute_not_exists(pk)', async () => {
      const dynamo = new DynamoDBClient(aws);
      const table = uniqueName('smoke');
      await dynamo.send(
        new CreateTableCommand({
          TableName: table,
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const put = () =>
        dynamo.send(
          new PutItemCommand({
            TableName: table,
            Item: { pk: { S: 'lease' } },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );

      await put();

      await assert.rejects(put(), ConditionalCheckFailedException);
    });

    it('returns the value of a created secret', async () => {
      const secrets = new SecretsManagerClient(aws);
      const name = `ledgerlake/${uniqueName('smoke')}`;

      await secrets.send(new CreateSecretCommand({ Name: name, SecretString: '{"uri":"mongodb://x"}' }));
      const value = await secrets.send(new GetSecretValueCommand({ SecretId: name }));

      assert.equal(value.SecretString, '{"uri":"mongodb://x"}');
    });
  });

  describe('FerretDB', () => {
    let client: MongoClient;

    before(async () => {
      client = await new MongoClient(await ferretdbUri(), { serverSelectionTimeoutMS: 5_000 }).connect();
    });

    after(async () => {
      await client?.close();
    });

    it('answers ping', async () => {
      assert.equal((await client.db('admin').command({ ping: 1 })).ok, 1);
    });

    it('finds inserted documents sorted by _id', async () => {
      const collection = client
        .db(uniqueName('smoke').replaceAll('-', '_'))
        .collection<{ _id: number; amount: string }>('entries');
      await collection.insertMany([
        { _id: 3, amount: 'c' },
        { _id: 1, amount: 'a' },
        { _id: 2, amount: 'b' },
      ]);

      const found = await collection.find().sort({ _id: 1 }).toArray();

      assert.deepEqual(found, [
        { _id: 1, amount: 'a' },
        { _id: 2, amount: 'b' },
        { _id: 3, amount: 'c' },
      ]);
    });

    // FerretDB 1.x has no Decimal128 type: it drops the connection instead of answering with an error.
    // Tests of exact money need the embedded server; this one tells when a FerretDB upgrade lifts the limit.
    it('cannot store Decimal128 (FerretDB 1.x limit)', async () => {
      const own = await new MongoClient(await ferretdbUri(), { retryWrites: false }).connect();
      try {
        const collection = own.db(uniqueName('smoke').replaceAll('-', '_')).collection('money');

        await assert.rejects(
          collection.insertOne({ amount: Decimal128.fromString('10.25') }),
          MongoNetworkError,
        );
      } finally {
        await own.close();
      }
    });
  });
});
