import { createHash } from 'node:crypto';
import { Stack } from 'aws-cdk-lib';
import * as lakeformation from 'aws-cdk-lib/aws-lakeformation';
import { Construct } from 'constructs';
import type { GlueDatabase } from './glue-database.ts';

export interface LakeFormationPermissions {
  /** On the database itself. */
  readonly database: readonly string[];
  /** On every table of the database, present and future (TableWildcard). */
  readonly tables: readonly string[];
}

/** What each kind of principal needs in Lake Formation on top of its IAM policy. */
export const LAKE_FORMATION_PERMISSIONS = {
  /**
   * The Glue jobs: create the Iceberg tables, commit new metadata (ALTER),
   * read, append, MERGE (INSERT and DELETE), expire snapshots and drop.
   */
  pipeline: {
    database: ['CREATE_TABLE', 'ALTER', 'DESCRIBE'],
    tables: ['SELECT', 'INSERT', 'DELETE', 'ALTER', 'DESCRIBE', 'DROP'],
  },
  /** Analysts: query the curated tables (data_quality_issues included), change nothing. */
  analyst: { database: ['DESCRIBE'], tables: ['SELECT', 'DESCRIBE'] },
} as const satisfies Record<string, LakeFormationPermissions>;

/**
 * Lake Formation grants (AWS::LakeFormation::PrincipalPermissions) on
 * ledgerlake's Glue databases, for accounts where Lake Formation governs the
 * Data Catalog. Data locations are not registered: S3 access stays with the
 * IAM policies, which already limit each principal to its prefixes.
 */
export class LakeFormationGrants extends Construct {
  /**
   * Grants `principalArn` (an IAM role or user) `permissions` on `database`
   * and all its tables. `principalId` names the grant's resources: keep it
   * stable for the principal, because a replaced grant is created before the
   * old one is revoked, and the revoke takes back the permissions both share.
   */
  grant(
    principalId: string,
    principalArn: string,
    database: GlueDatabase,
    permissions: LakeFormationPermissions,
  ): void {
    const account = Stack.of(this).account;
    const common = { catalog: account, principal: { dataLakePrincipalIdentifier: principalArn } };
    const id = `${principalId}-${database.databaseName}`;
    new lakeformation.CfnPrincipalPermissions(this, `${id}-database`, {
      ...common,
      resource: { database: { catalogId: account, name: database.databaseName } },
      permissions: [...permissions.database],
      permissionsWithGrantOption: [],
    });
    new lakeformation.CfnPrincipalPermissions(this, `${id}-tables`, {
      ...common,
      resource: { table: { catalogId: account, databaseName: database.databaseName, tableWildcard: {} } },
      permissions: [...permissions.tables],
      permissionsWithGrantOption: [],
    });
  }

  /** A stable id for a principal given by ARN (its position in a list may change). */
  static principalId(principalArn: string): string {
    return `Principal${createHash('sha256').update(principalArn).digest('hex').slice(0, 12)}`;
  }
}
