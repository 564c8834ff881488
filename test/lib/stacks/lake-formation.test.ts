import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Template } from 'aws-cdk-lib/assertions';
import { LAKE_FORMATION_PERMISSIONS } from '../../../lib/constructs/lake-formation-grants.ts';
import { synthesize } from './stacks-fixture.ts';

interface Grant {
  readonly principal: unknown;
  readonly resource: string;
  readonly permissions: readonly string[];
}

/** Every AWS::LakeFormation::PrincipalPermissions of a template, in a form easy to compare. */
function grants(template: Template) {
  return Object.values(template.findResources('AWS::LakeFormation::PrincipalPermissions')).map(
    ({ Properties: p }): Grant => {
      const database = p.Resource.Database;
      const table = p.Resource.Table;
      assert.deepEqual(p.PermissionsWithGrantOption, [], 'nothing is granted with grant option');
      assert.deepEqual(p.Catalog, { Ref: 'AWS::AccountId' });
      return {
        principal: p.Principal.DataLakePrincipalIdentifier,
        resource: database
          ? `database ${database.Name}`
          : `tables ${table.DatabaseName}.${JSON.stringify(table.TableWildcard) === '{}' ? '*' : table.Name}`,
        permissions: [...p.Permissions].sort(),
      };
    },
  );
}

const analysts = ['arn:aws:iam::123456789012:role/analysts', 'arn:aws:iam::123456789012:user/auditor'];
const sorted = (values: readonly string[]) => [...values].sort();

describe('Lake Formation grants (aws.lakeFormation)', () => {
  it('creates no grant unless enabled', () => {
    const { pipeline, analytics, data } = synthesize();
    for (const template of [pipeline, analytics, data])
      template.resourceCountIs('AWS::LakeFormation::PrincipalPermissions', 0);
  });

  const enabled = synthesize({ aws: { lakeFormation: { enabled: true, analystPrincipals: analysts } } });

  it('lets the Glue jobs create, read, write and drop the tables of both databases', () => {
    const found = grants(enabled.pipeline);
    const glueRole = found[0]?.principal;
    assert.match(JSON.stringify(glueRole), /"Fn::GetAtt":\["GlueJobsRole[0-9A-F]+","Arn"\]/);
    assert.deepEqual(
      found.map((g) => ({ ...g, principal: JSON.stringify(g.principal) === JSON.stringify(glueRole) })),
      [
        {
          principal: true,
          resource: 'database fq_app_raw',
          permissions: ['ALTER', 'CREATE_TABLE', 'DESCRIBE'],
        },
        {
          principal: true,
          resource: 'tables fq_app_raw.*',
          permissions: ['ALTER', 'DELETE', 'DESCRIBE', 'DROP', 'INSERT', 'SELECT'],
        },
        {
          principal: true,
          resource: 'database fq_app_curated',
          permissions: ['ALTER', 'CREATE_TABLE', 'DESCRIBE'],
        },
        {
          principal: true,
          resource: 'tables fq_app_curated.*',
          permissions: ['ALTER', 'DELETE', 'DESCRIBE', 'DROP', 'INSERT', 'SELECT'],
        },
      ],
    );
    assert.deepEqual(sorted(LAKE_FORMATION_PERMISSIONS.pipeline.tables), found[1]?.permissions);
  });

  it('lets each analyst principal describe the curated database and select from every curated table, and nothing of raw', () => {
    const found = grants(enabled.analytics);
    assert.deepEqual(
      found,
      analysts.flatMap((arn) => [
        { principal: arn, resource: 'database fq_app_curated', permissions: ['DESCRIBE'] },
        // TableWildcard: silver and gold, data_quality_issues included, and tables the model adds later.
        { principal: arn, resource: 'tables fq_app_curated.*', permissions: ['DESCRIBE', 'SELECT'] },
      ]),
    );
  });

  it('names each analyst grant after its principal, so reordering the list replaces nothing', () => {
    const ids = (principals: string[]) =>
      Object.keys(
        synthesize({
          aws: { lakeFormation: { enabled: true, analystPrincipals: principals } },
        }).analytics.findResources('AWS::LakeFormation::PrincipalPermissions'),
      ).sort();
    assert.deepEqual(ids([...analysts].reverse()), ids(analysts));
  });

  it('grants only the Glue jobs when enabled without analyst principals', () => {
    const { pipeline, analytics } = synthesize({ aws: { lakeFormation: { enabled: true } } });
    pipeline.resourceCountIs('AWS::LakeFormation::PrincipalPermissions', 4);
    analytics.resourceCountIs('AWS::LakeFormation::PrincipalPermissions', 0);
  });
});
