import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { synthesize } from './stacks-fixture.ts';

/** Unacknowledged AwsSolutions findings under `stack`, as `rule at path` lines. */
function findings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
}

describe('cdk-nag AwsSolutions', () => {
  const defaults = synthesize();
  const custom = synthesize({
    aws: {
      removalPolicy: 'destroy',
      atlasSecret: 'import',
      alarms: { email: 'ops@example.com', freshnessHours: 3 },
      network: {
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      },
      lakeFormation: { enabled: true, analystPrincipals: ['arn:aws:iam::123456789012:role/analysts'] },
    },
  });

  for (const name of ['data', 'pipeline', 'analytics'] as const) {
    it(`finds nothing unacknowledged in the ${name} stack`, () => {
      assert.deepEqual(findings(defaults.stacks[name]), []);
    });
    it(`finds nothing unacknowledged in the ${name} stack with VPC, email, import, destroy and Lake Formation`, () => {
      assert.deepEqual(findings(custom.stacks[name]), []);
    });
  }

  it('does report a finding, so an empty report means something', () => {
    const stack = new Stack(new App(), 'Control');
    new s3.Bucket(stack, 'Plain');
    assert.ok(
      findings(stack).some((f) => f.startsWith('AwsSolutions-S1 ')),
      'an unlogged bucket is reported',
    );
  });

  it('every acknowledgement gives a reason', () => {
    for (const stack of Object.values(defaults.stacks)) {
      for (const construct of stack.node.findAll()) {
        for (const entry of construct.node.metadata) {
          if (entry.type !== 'aws:cdk:acknowledged-rules') continue;
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
            assert.ok(
              reason.length >= 40,
              `${id} at ${construct.node.path} has too short a reason: ${reason}`,
            );
          }
        }
      }
    }
  });
});
