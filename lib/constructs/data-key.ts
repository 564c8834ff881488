import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface DataKeyProps {
  /** Alias without the `alias/` prefix. */
  readonly aliasName: string;
  /** @default RemovalPolicy.RETAIN - the key outlives its stack, so retained data stays readable */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * CloudWatch alarms whose names start with this publish to an SNS topic
   * encrypted with the key. Alarms live in a stack deployed after this one,
   * so they are named rather than referenced.
   * @default - no CloudWatch alarm may use the key
   */
  readonly alarmNamePrefix?: string;
}

/**
 * The customer-managed key that encrypts the warehouse, the run state, the
 * secret, Glue's logs and bookmarks, query results and alarm messages.
 * Rotated yearly by KMS.
 */
export class DataKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: DataKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      alias: props.aliasName,
      description: `ledgerlake data key (${props.aliasName})`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // Every statement for a service principal names its source, so no other account's
    // or resource's use of the service can reach the key (confused deputy).
    // Glue's security configuration encrypts its CloudWatch log groups (all under /aws-glue/) with this key;
    // CloudWatch Logs names the log group in the encryption context, which is its source condition.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsGlueLogs',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws-glue/*`,
          },
        },
      }),
    );
    // CloudWatch alarms publish to the KMS-encrypted alarm topic: only the pipeline's, of this account.
    if (props.alarmNamePrefix !== undefined) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AlarmsPublishToEncryptedTopic',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: {
              'aws:SourceArn': stack.formatArn({
                service: 'cloudwatch',
                resource: 'alarm',
                resourceName: `${props.alarmNamePrefix}*`,
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            },
          },
        }),
      );
    }
  }
}
