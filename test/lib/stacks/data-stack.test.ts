import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { resourceCounts, synthesize } from './stacks-fixture.ts';

const STATEFUL = [
  'AWS::KMS::Key',
  'AWS::S3::Bucket',
  'AWS::Glue::Database',
  'AWS::SecretsManager::Secret',
  'AWS::DynamoDB::Table',
];

describe('data stack', () => {
  const { data } = synthesize();

  it('creates the key, three buckets, two Glue databases, the secret and the run-state table', () => {
    assert.deepEqual(resourceCounts(data), {
      'AWS::KMS::Key': 1,
      'AWS::KMS::Alias': 1,
      'AWS::S3::Bucket': 3,
      'AWS::S3::BucketPolicy': 3,
      'AWS::Glue::Database': 2,
      'AWS::SecretsManager::Secret': 1,
      'AWS::DynamoDB::Table': 1,
    });
  });

  it('rotates the customer-managed key and lets CloudWatch Logs use it only for this account', () => {
    data.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CloudWatchLogsEncryptsGlueLogs',
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  it('encrypts the warehouse with the key and a bucket key, blocks public access and logs access', () => {
    data.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'warehouse/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'expire-staging',
            Prefix: 'staging/',
            ExpirationInDays: 14,
            Status: 'Enabled',
          }),
        ]),
      },
    });
  });

  it('refuses every request that is not TLS on each bucket', () => {
    const policies = data.findResources('AWS::S3::BucketPolicy');
    assert.equal(Object.keys(policies).length, 3);
    for (const policy of Object.values(policies)) {
      const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
      assert.ok(
        statements.some(
          (s) =>
            s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
        ),
        'a bucket policy lacks the TLS-only deny',
      );
    }
  });

  it('names the Glue databases from the table model, located under raw/ and curated/', () => {
    for (const [name, prefix] of [
      ['fq_app_raw', 'raw/fq_app/'],
      ['fq_app_curated', 'curated/fq_app/'],
    ]) {
      data.hasResourceProperties('AWS::Glue::Database', {
        DatabaseInput: {
          Name: name,
          LocationUri: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`/${prefix}`])] }),
        },
      });
    }
  });

  it('creates the Atlas secret empty: no value and no generated password in the template', () => {
    const secrets = Object.values(data.findResources('AWS::SecretsManager::Secret'));
    assert.equal(secrets.length, 1);
    const properties = secrets[0]?.Properties;
    assert.equal(properties.Name, 'ledgerlake/fq_app/mongodb-uri');
    assert.equal(properties.SecretString, undefined);
    assert.equal(properties.GenerateSecretString, undefined);
    assert.ok(properties.KmsKeyId, 'the secret is encrypted with the data key');
  });

  it('keeps run state in a KMS-encrypted table with point-in-time recovery and deletion protection', () => {
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('retains every stateful resource by default', () => {
    for (const type of STATEFUL) {
      for (const [id, resource] of Object.entries(data.findResources(type))) {
        assert.equal(resource.DeletionPolicy, 'Retain', `${id} (${type}) is not retained`);
      }
    }
  });

  it('destroys stateful resources only when a dev configuration says so', () => {
    const { data: dev } = synthesize({
      aws: { stage: 'dev', removalPolicy: 'destroy', atlasSecret: 'import' },
    });
    for (const type of STATEFUL.filter((t) => t !== 'AWS::SecretsManager::Secret')) {
      for (const [id, resource] of Object.entries(dev.findResources(type))) {
        assert.equal(resource.DeletionPolicy, 'Delete', `${id} (${type}) is not destroyed`);
      }
    }
    // An imported secret is not part of the stack at all.
    dev.resourceCountIs('AWS::SecretsManager::Secret', 0);
    dev.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });
});
