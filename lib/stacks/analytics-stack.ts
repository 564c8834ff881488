import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { LedgerlakeConfig } from '../config/index.ts';
import { AnalystPolicy } from '../constructs/analyst-policy.ts';
import type { GlueDatabase } from '../constructs/glue-database.ts';
import { LAKE_FORMATION_PERMISSIONS, LakeFormationGrants } from '../constructs/lake-formation-grants.ts';
import { QueryWorkgroup } from '../constructs/query-workgroup.ts';
import { buildTableModel } from '../model/index.ts';

export interface AnalyticsStackProps extends StackProps {
  readonly config: LedgerlakeConfig;
  readonly key: kms.IKey;
  readonly bucket: s3.IBucket;
  readonly resultsBucket: s3.IBucket;
  readonly rawDatabase: GlueDatabase;
  readonly curatedDatabase: GlueDatabase;
}

/**
 * How people query the lakehouse: the Athena workgroup, named queries, the
 * analyst policy and, with `aws.lakeFormation`, the analysts' Lake Formation grants.
 */
export class AnalyticsStack extends Stack {
  readonly workgroup: QueryWorkgroup;
  readonly analystPolicy: AnalystPolicy;

  constructor(scope: Construct, id: string, props: AnalyticsStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.workgroup = new QueryWorkgroup(this, 'Workgroup', {
      workGroupName: `${config.app.replaceAll('_', '-')}-${config.aws.stage}-analysts`,
      model: buildTableModel(config),
      resultsBucket: props.resultsBucket,
      key: props.key,
      bytesScannedCutoffPerQuery: config.aws.athenaBytesScannedCutoff,
    });
    this.analystPolicy = new AnalystPolicy(this, 'Analysts', {
      app: config.app,
      bucket: props.bucket,
      resultsBucket: props.resultsBucket,
      key: props.key,
      curatedDatabase: props.curatedDatabase,
      rawDatabase: props.rawDatabase,
      workGroupName: this.workgroup.workGroupName,
    });
    const { enabled, analystPrincipals } = config.aws.lakeFormation;
    if (enabled && analystPrincipals.length > 0) {
      const lakeFormation = new LakeFormationGrants(this, 'LakeFormation');
      for (const arn of analystPrincipals) {
        lakeFormation.grant(
          LakeFormationGrants.principalId(arn),
          arn,
          props.curatedDatabase,
          LAKE_FORMATION_PERMISSIONS.analyst,
        );
      }
    }
  }
}
