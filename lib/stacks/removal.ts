import { RemovalPolicy } from 'aws-cdk-lib';
import type { AwsConfig } from '../config/index.ts';

/** RETAIN unless the configuration asks for DESTROY, which validation allows only for dev. */
export function removalPolicyOf(aws: AwsConfig): RemovalPolicy {
  return aws.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
