import * as athena from 'aws-cdk-lib/aws-athena';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { TableModel } from '../model/index.ts';

export interface QueryWorkgroupProps {
  readonly workGroupName: string;
  readonly model: TableModel;
  readonly resultsBucket: s3.IBucket;
  readonly key: kms.IKey;
  /** Athena cancels a query once it has scanned this many bytes (at least 10 MB). */
  readonly bytesScannedCutoffPerQuery: number;
}

export interface NamedQuerySpec {
  readonly name: string;
  readonly description: string;
  readonly sql: string;
}

/**
 * The queries an accountant starts from, written against the curated tables
 * of the model (so a renamed table fails at synth, not in Athena).
 */
export function accountantQueries(model: TableModel): readonly NamedQuerySpec[] {
  const ref = (name: string) => {
    const table = model.table(name);
    return `"${table.database}"."${table.name}"`;
  };
  const lines = ref('journal_entries_silver');
  return [
    {
      name: 'Trial balance by period',
      description: 'Debits, credits and balance per account and month, from the journal lines',
      sql: `SELECT date_trunc('month', entry_date) AS period,
       account_id,
       account_name,
       account_type,
       SUM(debit) AS total_debit,
       SUM(credit) AS total_credit,
       SUM(debit) - SUM(credit) AS balance
FROM ${lines}
GROUP BY 1, 2, 3, 4
ORDER BY period, account_id;`,
    },
    {
      name: 'Unbalanced journal entries',
      description: 'Entries whose debits and credits differ, largest difference first',
      sql: `SELECT entry_id,
       entry_date,
       total_debit,
       total_credit,
       total_debit - total_credit AS difference
FROM ${ref('journal_entries_gold')}
WHERE is_balanced = false
ORDER BY abs(total_debit - total_credit) DESC, entry_id;`,
    },
    {
      name: 'Open close tasks by due date',
      description: 'Month-end close tasks not yet complete, soonest due first',
      sql: `SELECT task_id,
       name,
       assigned_to,
       status,
       due_date,
       date_diff('day', current_date, due_date) AS days_left
FROM ${ref('close_tasks_silver')}
WHERE status <> 'Complete'
ORDER BY due_date, task_id;`,
    },
    {
      name: 'Open data-quality issues',
      description:
        'Source documents with a ledger or data problem that is true now (unbalanced, unknown account, duplicate entry id, ...), most frequent code first; a fixed document leaves the list at the next run',
      sql: `SELECT code,
       count(*) OVER (PARTITION BY code) AS issues_with_code,
       source_collection,
       business_key,
       _id,
       entry_date,
       detail,
       ingest_ts
FROM ${ref('data_quality_issues')}
ORDER BY issues_with_code DESC, code, entry_date, business_key, _id;`,
    },
    {
      name: 'Trial balance as of yesterday (time travel)',
      description:
        'The same trial balance from the Iceberg snapshot current 24 hours ago; use FOR VERSION AS OF <snapshot id> for an exact snapshot',
      sql: `SELECT date_trunc('month', entry_date) AS period,
       account_id,
       SUM(debit) AS total_debit,
       SUM(credit) AS total_credit
FROM ${lines} FOR TIMESTAMP AS OF (current_timestamp - interval '1' day)
GROUP BY 1, 2
ORDER BY period, account_id;`,
    },
  ];
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
