import * as athena from 'aws-cdk-lib/aws-athena';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { TableModel } from '../model/index.ts';
import { accountantQueries } from '../queries/accountant-queries.ts';

export interface QueryWorkgroupProps {
  readonly workGroupName: string;
  readonly model: TableModel;
  readonly resultsBucket: s3.IBucket;
  readonly key: kms.IKey;
  /** Athena cancels a query once it has scanned this many bytes (at least 10 MB). */
  readonly bytesScannedCutoffPerQuery: number;
}

/**
 * The analysts' Athena workgroup: engine version 3, settings enforced on
 * every query, results encrypted with the data key, a per-query scan cutoff,
 * and the accountant's named queries.
 */
export class QueryWorkgroup extends Construct {
  readonly workGroupName: string;
  readonly workGroup: athena.CfnWorkGroup;
  readonly namedQueries: readonly athena.CfnNamedQuery[];

  constructor(scope: Construct, id: string, props: QueryWorkgroupProps) {
    super(scope, id);
    if (
      !Number.isInteger(props.bytesScannedCutoffPerQuery) ||
      props.bytesScannedCutoffPerQuery < 10_000_000
    ) {
      throw new Error(
        `bytesScannedCutoffPerQuery must be an integer >= 10000000 (Athena's minimum), got ${props.bytesScannedCutoffPerQuery}`,
      );
    }
    this.workGroupName = props.workGroupName;
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroupName,
      description: 'ledgerlake curated tables (silver and gold)',
      state: 'ENABLED',
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${props.resultsBucket.bucketName}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
        },
      },
    });
    this.namedQueries = accountantQueries(props.model).map((query, i) => {
      const named = new athena.CfnNamedQuery(this, `Query${i}`, {
        name: query.name,
        description: query.description,
        database: props.model.databases.curated,
        queryString: query.sql,
        workGroup: this.workGroup.ref,
      });
      return named;
    });
  }
}
