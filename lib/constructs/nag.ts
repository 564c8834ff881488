import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on `scope` and everything under it, one
 * finding id each (cdk-nag v3 has no prefix matching), with the reason.
 */
export function acknowledge(scope: IConstruct, findings: Readonly<Record<string, string>>): void {
  for (const [id, reason] of Object.entries(findings)) Validations.of(scope).acknowledge({ id, reason });
}

/**
 * How cdk-nag writes a value inside a finding id: `<Logical.Arn>` for an
 * attribute, `<Logical>` for a Ref, the export name for an import.
 */
export function nagText(scope: IConstruct, value: string): string {
  const resolved: unknown = Stack.of(scope).resolve(value);
  if (typeof resolved === 'string') return resolved;
  const intrinsic = resolved as Record<string, unknown>;
  if (typeof intrinsic['Fn::ImportValue'] === 'string') return intrinsic['Fn::ImportValue'];
  if (typeof intrinsic.Ref === 'string') return `<${intrinsic.Ref}>`;
  const getAtt = intrinsic['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
  throw new Error(`cannot render ${JSON.stringify(resolved)} as cdk-nag does`);
}

/** `nagText` of a resource's attribute, e.g. `<FunctionsPlan4E462DC6.Arn>`. */
export function nagRef(resource: IConstruct, attribute = 'Arn'): string {
  const cfn = resource instanceof CfnElement ? resource : resource.node.defaultChild;
  if (!(cfn instanceof CfnElement)) throw new Error(`${resource.node.path} has no CloudFormation resource`);
  return `<${Stack.of(cfn).getLogicalId(cfn)}.${attribute}>`;
}

/** Reasons shared by the grants that CDK renders with wildcards. */
export const NAG_REASONS = {
  s3GrantActions:
    'Action groups of CDK bucket grants (grantRead/grantReadWrite); the statement is limited to objects under one prefix of the warehouse bucket.',
  kmsGrantActions:
    'kms:GenerateDataKey* and kms:ReEncrypt* come from CDK grants for SSE-KMS; the only resource is the data key.',
  prefixObjects:
    'Objects under this one prefix: object keys are created per run and per table, so they cannot be listed.',
  xray: 'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
} as const;

/**
 * The wildcard actions of CDK's S3 read-write grant on an SSE-KMS bucket,
 * acknowledged wherever a role gets that grant (each is one finding id).
 */
export const BUCKET_GRANT_ACTIONS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => [
      `AwsSolutions-IAM5[Action::${action}]`,
      NAG_REASONS.s3GrantActions,
    ]),
  ),
  ...Object.fromEntries(
    ['kms:ReEncrypt*', 'kms:GenerateDataKey*'].map((action) => [
      `AwsSolutions-IAM5[Action::${action}]`,
      NAG_REASONS.kmsGrantActions,
    ]),
  ),
};
