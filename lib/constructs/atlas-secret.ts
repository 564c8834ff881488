import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface AtlasSecretProps {
  /** Secrets Manager name; the functions read the MongoDB URI from it at run time. */
  readonly secretName: string;
  /** Create an empty secret to be filled in after deploying, or use an existing one. @default true */
  readonly create?: boolean;
  /** Encrypts a created secret. @default - the account's aws/secretsmanager key (imported secrets keep theirs) */
  readonly key?: kms.IKey;
  /** @default RemovalPolicy.RETAIN - the connection string survives stack deletion */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The secret holding the MongoDB Atlas connection URI. A created secret has no
 * value (no version) until someone puts one, so the URI never passes through
 * CDK or a CloudFormation template.
 */
export class AtlasSecret extends Construct {
  readonly secret: secretsmanager.ISecret;
  readonly created: boolean;

  constructor(scope: Construct, id: string, props: AtlasSecretProps) {
    super(scope, id);
    this.created = props.create ?? true;
    if (!this.created) {
      this.secret = secretsmanager.Secret.fromSecretNameV2(this, 'Imported', props.secretName);
      return;
    }
    // The L2 Secret generates a random value when given none; the L1 resource creates an empty secret.
    const secret = new secretsmanager.CfnSecret(this, 'Secret', {
      name: props.secretName,
      description: 'MongoDB Atlas connection URI for ledgerlake: put the URI, or JSON {"uri": "..."}',
      ...(props.key === undefined ? {} : { kmsKeyId: props.key.keyArn }),
    });
    secret.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "The value is a MongoDB Atlas connection URI; its password is rotated in Atlas by the database's owners, which a Secrets Manager rotation Lambda cannot do.",
    });
    // No encryptionKey here: a grant would then edit the key policy in this stack and make it
    // depend on the readers' stack. Readers get kms:Decrypt on the key through their own grants.
    this.secret = secretsmanager.Secret.fromSecretAttributes(this, 'Created', {
      secretCompleteArn: secret.ref,
    });
  }
}
