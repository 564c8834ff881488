import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { resourceCounts, synthesize } from './stacks-fixture.ts';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };

describe('analytics stack', () => {
  const { analytics } = synthesize();

  it('creates the workgroup, the eleven named queries and the analyst policy', () => {
    assert.deepEqual(resourceCounts(analytics), {
      'AWS::Athena::WorkGroup': 1,
      'AWS::Athena::NamedQuery': 11,
      'AWS::IAM::ManagedPolicy': 1,
    });
  });

  it('enforces engine v3, KMS-encrypted results and the bytes-scanned cutoff from config', () => {
    analytics.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'fq-app-dev-analysts',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        BytesScannedCutoffPerQuery: 10_737_418_240,
        ResultConfiguration: {
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() },
          OutputLocation: Match.anyValue(),
        },
      },
    });
  });

  it('names the accountant queries against the curated tables, one of them time travel', () => {
    const queries = Object.values(analytics.findResources('AWS::Athena::NamedQuery')).map(
      (q) => q.Properties,
    );
    const byName = new Map(queries.map((q) => [q.Name as string, q.QueryString as string]));
    assert.match(
      byName.get('Trial balance as of a period') ?? '',
      /FROM "fq_app_curated"\."trial_balance_gold" b\s+JOIN chosen c ON b\.period = c\.period/,
    );
    assert.match(byName.get('Income statement') ?? '', /"fq_app_curated"\."income_statement_gold"/);
    assert.match(byName.get('Balance sheet') ?? '', /"fq_app_curated"\."balance_sheet_gold"/);
    assert.match(byName.get('Close progress') ?? '', /FROM "fq_app_curated"\."close_progress_gold"/);
    assert.match(
      byName.get('Unbalanced journal entries') ?? '',
      /FROM "fq_app_curated"\."journal_entries_gold"\s+WHERE is_balanced = false/,
    );
    assert.match(
      byName.get('Open close tasks by due date') ?? '',
      /FROM "fq_app_curated"\."close_tasks_silver"\s+WHERE status <> 'Complete'\s+ORDER BY due_date/,
    );
    assert.match(byName.get('Trial balance as of yesterday (time travel)') ?? '', /FOR TIMESTAMP AS OF/);
    assert.match(
      byName.get('Open data-quality issues') ?? '',
      /SELECT code,[\s\S]*FROM "fq_app_curated"\."data_quality_issues"\s+ORDER BY issues_with_code DESC/,
    );
    for (const q of queries) assert.equal(q.Database, 'fq_app_curated');
  });

  it('lets analysts read curated but denies raw and staging, in S3 and in the catalog', () => {
    const policy = Object.values(analytics.findResources('AWS::IAM::ManagedPolicy'))[0];
    const statements = policy?.Properties.PolicyDocument.Statement as Statement[];
    const text = (s: Statement) => JSON.stringify(s.Resource);
    const allows = statements.filter((s) => s.Effect === 'Allow');
    const denies = statements.filter((s) => s.Effect === 'Deny');
    assert.ok(
      allows.some((s) => text(s).includes('/curated/fq_app/*')),
      'curated objects are readable',
    );
    for (const hidden of ['/raw/fq_app/', '/staging/fq_app/', 'fq_app_raw']) {
      assert.ok(!allows.some((s) => text(s).includes(hidden)), `an Allow names ${hidden}`);
      assert.ok(
        denies.some((s) => text(s).includes(hidden)),
        `no explicit Deny names ${hidden}`,
      );
    }
    const s3Deny = denies.find((s) => text(s).includes('/raw/fq_app/'));
    assert.ok([s3Deny?.Action].flat().includes('s3:GetObject'));
    const listing = allows.find((s) => s.Sid === 'ListCuratedPrefixOnly') as unknown as {
      Condition: { StringLike: { 's3:prefix': string[] } };
    };
    assert.deepEqual(listing.Condition.StringLike['s3:prefix'], ['curated/fq_app/', 'curated/fq_app/*']);
  });
});
