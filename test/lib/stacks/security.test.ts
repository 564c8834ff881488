import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Template } from 'aws-cdk-lib/assertions';
import { synthesize } from './stacks-fixture.ts';

interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The resource policies a service can be let in by, and where each keeps its document. */
const RESOURCE_POLICIES: Record<string, string> = {
  'AWS::KMS::Key': 'KeyPolicy',
  'AWS::SNS::TopicPolicy': 'PolicyDocument',
  'AWS::S3::BucketPolicy': 'PolicyDocument',
};

/**
 * Condition keys that tie a service's request to our own resource. CloudWatch
 * Logs names the log group in the encryption context (the condition its
 * documentation gives for key policies) instead of aws:SourceArn.
 */
const SOURCE_KEYS = ['aws:SourceArn', 'kms:EncryptionContext:aws:logs:arn'];

function servicePrincipalStatements(template: Template): { where: string; statement: Statement }[] {
  const found: { where: string; statement: Statement }[] = [];
  for (const [id, resource] of Object.entries(template.toJSON().Resources as Resources)) {
    const documentKey = RESOURCE_POLICIES[resource.Type];
    if (documentKey === undefined) continue;
    const document = resource.Properties[documentKey] as { Statement: Statement[] };
    for (const statement of document.Statement) {
      const principal = statement.Principal as { Service?: unknown } | undefined;
      if (statement.Effect === 'Allow' && typeof principal === 'object' && principal.Service !== undefined)
        found.push({ where: `${id} ${statement.Sid ?? JSON.stringify(principal.Service)}`, statement });
    }
  }
  return found;
}

const conditionKeys = (statement: Statement) =>
  Object.values(statement.Condition ?? {}).flatMap((operator) => Object.keys(operator));

describe('resource policies and scoped access', () => {
  const configs = {
    default: synthesize(),
    'VPC, alarm email and Lake Formation': synthesize({
      aws: {
        alarms: { email: 'ops@example.com', freshnessHours: 3 },
        network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] },
        lakeFormation: { enabled: true, analystPrincipals: ['arn:aws:iam::123456789012:role/analysts'] },
      },
    }),
  };

  for (const [name, synthesized] of Object.entries(configs)) {
    it(`gives no service principal a key, topic or bucket statement without a source condition (${name})`, () => {
      const statements = (['data', 'pipeline', 'analytics'] as const).flatMap((stack) =>
        servicePrincipalStatements(synthesized[stack]).map((s) => ({ ...s, where: `${stack} ${s.where}` })),
      );
      assert.ok(statements.length >= 5, 'the scan sees the key, topic and access-log statements');
      const unconditioned = statements
        .filter(({ statement }) => !conditionKeys(statement).some((key) => SOURCE_KEYS.includes(key)))
        .map(({ where }) => where);
      assert.deepEqual(unconditioned, []);
      for (const { where, statement } of statements) {
        const keys = conditionKeys(statement);
        if (keys.includes('aws:SourceArn'))
          assert.ok(
            keys.includes('aws:SourceAccount'),
            `${where} has aws:SourceArn without aws:SourceAccount`,
          );
      }
    });
  }

  it('lets CloudWatch use the data key and publish to the topic only for the pipeline alarms', () => {
    const { data, pipeline } = configs.default;
    const keyStatements = Object.values(data.findResources('AWS::KMS::Key'))[0]?.Properties.KeyPolicy
      .Statement as Statement[];
    const topicStatements = Object.values(pipeline.findResources('AWS::SNS::TopicPolicy'))[0]?.Properties
      .PolicyDocument.Statement as Statement[];
    for (const statements of [keyStatements, topicStatements]) {
      const services = statements.flatMap((s) =>
        [(s.Principal as { Service?: unknown })?.Service ?? []].flat(),
      );
      assert.ok(
        !JSON.stringify(services).includes('events.amazonaws.com'),
        'no EventBridge target publishes',
      );
      const cloudwatch = statements.find((s) =>
        JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'),
      );
      assert.match(JSON.stringify(cloudwatch?.Condition?.ArnLike), /:alarm:fq-app-dev-\*"/);
    }
    // What the key and topic allow must match what the pipeline stack names.
    for (const alarm of Object.values(pipeline.findResources('AWS::CloudWatch::Alarm')))
      assert.match(alarm.Properties.AlarmName, /^fq-app-dev-/);
  });

  it('lets the state machine read only the run files under staging/<app>/_runs/', () => {
    const { pipeline } = configs.default;
    const reads = Object.values(pipeline.toJSON().Resources as Resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('IngestStateMachine'),
      )
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => [s.Action].flat().some((a) => /^s3:(GetObject|\*)/.test(a)));
    assert.ok(reads.length > 0, 'the distributed Map reads its chunk list');
    const resources = reads.flatMap((s) => [s.Resource].flat());
    for (const resource of resources) {
      const parts = (resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join']?.[1];
      assert.deepEqual(
        parts?.at(-1),
        '/staging/fq_app/_runs/*',
        `state machine may read ${JSON.stringify(resource)}`,
      );
    }
  });
});
