import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  POOL_ENCRYPTION_CONTEXT_VALUE,
  POOL_LEADING_KEYS_PATTERN,
  TENANT_ENCRYPTION_CONTEXT_KEY,
  TENANT_SESSION_TAG,
} from '../../../lambda/shared/pool-keys';
import { REVIEW_GSI } from '../../../lambda/shared/review-schema';
import { ManagedPolicyRole } from '../iam/managed-policy-role';
import { TrustStatementsPrincipal } from '../iam/trust';

/** Props of {@link PoolTenantAccess}. */
export interface PoolTenantAccessProps {
  /** The cell's pooled ledger table (every partition key starts `T#<tenantId>#`: lambda/shared/pool-keys.ts). */
  readonly table: dynamodb.ITable;
  /** The cell's pool key (tenant data is encrypted under encryption context `tenant = <tenantId>`). */
  readonly key: kms.IKey;
  /** The pooled function's role: it may assume the access role (with the tenant tag). */
  readonly pooledFunctionRole: iam.IRole;
  /**
   * ARN of a role of another stack that may also assume the access role with the tenant tag (the control plane's,
   * which purges an offboarded tenant's items through a session tagged with that tenant). Named in a condition on
   * `aws:PrincipalArn` with the account as principal, not as the principal itself: IAM checks a principal exists
   * when the trust is written, and the control plane is deployed after the cells; the ARN is built from the role's
   * fixed name, so the cell has no reference to the control plane stack.
   * @default - only the pooled function's role
   */
  readonly controlPlaneRoleArn?: string;
  /** Cell name, for descriptions (`pool-1`). */
  readonly cellId: string;
}

/** A session must carry the tenant tag, and no other tag. */
const TENANT_TAG_ONLY = {
  Null: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: 'false' },
  'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_SESSION_TAG] },
};

/** The item actions a tenant session may make on its own items (no Scan: a Scan has no leading key to check). */
export const POOL_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/** The key actions a tenant session may make under its own encryption context. */
export const POOL_KEY_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'] as const;

/**
 * The tenant-access role of a pool cell: attribute-based access control on the session tag
 * `switchboard:tenant`. The pooled function assumes it per tenant with that tag (lambda/shared/tenant-credentials.ts),
 * and the role reaches
 * - the pooled table only for items whose partition key starts `T#<tag>#` (`dynamodb:LeadingKeys`, every key of
 *   a batch; a request without leading keys is refused), on the table and, for Queries, its review index;
 * - the pool key only when the encryption context is exactly `{ tenant: <tag> }`.
 * A session without the tag resolves the policy variable to nothing and reaches nothing. Its trust allows only the
 * pooled function's role, with `sts:TagSession`, and only when the request sets `switchboard:tenant` and no other
 * tag. The pooled function's own role gets nothing here but {@link grantAssume}.
 */
export class PoolTenantAccess extends Construct {
  /** The tenant-access role. */
  readonly role: iam.IRole;
  private readonly managed: ManagedPolicyRole;

  constructor(scope: Construct, id: string, props: PoolTenantAccessProps) {
    super(scope, id);
    const fnRole = new iam.ArnPrincipal(props.pooledFunctionRole.roleArn);
    const tenantTagOnly = TENANT_TAG_ONLY;
    const trust = [
      new iam.PolicyStatement({
        sid: 'PooledFunctionWithTenantTag',
        principals: [fnRole],
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        conditions: tenantTagOnly,
      }),
    ];
    if (props.controlPlaneRoleArn) {
      trust.push(
        new iam.PolicyStatement({
          sid: 'ControlPlaneWithTenantTag',
          principals: [new iam.AccountRootPrincipal()],
          actions: ['sts:AssumeRole', 'sts:TagSession'],
          conditions: { ...tenantTagOnly, ArnEquals: { 'aws:PrincipalArn': props.controlPlaneRoleArn } },
        }),
      );
    }
    this.managed = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new TrustStatementsPrincipal(fnRole, trust),
      description: `Switchboard ${props.cellId}: a pooled tenant's session (ABAC on ${TENANT_SESSION_TAG})`,
    });
    this.role = this.managed.role;
    this.managed.addStatements(
      new iam.PolicyStatement({
        sid: 'OwnTenantItems',
        actions: [...POOL_TABLE_ACTIONS],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [POOL_LEADING_KEYS_PATTERN] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      new iam.PolicyStatement({
        // The review index: its partitions carry the tenant's prefix too (`T#<tenant>#REVIEWS#pending`), so a Query
        // names the tenant's own partition as its leading key. Queries only: the index is never written directly.
        sid: 'OwnTenantReviewIndex',
        actions: ['dynamodb:Query'],
        resources: [`${props.table.tableArn}/index/${REVIEW_GSI.name}`],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [POOL_LEADING_KEYS_PATTERN] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      new iam.PolicyStatement({
        sid: 'OwnTenantEncryptionContext',
        actions: [...POOL_KEY_ACTIONS],
        resources: [props.key.keyArn],
        conditions: {
          StringEquals: { [`kms:EncryptionContext:${TENANT_ENCRYPTION_CONTEXT_KEY}`]: POOL_ENCRYPTION_CONTEXT_VALUE },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [TENANT_ENCRYPTION_CONTEXT_KEY] },
        },
      }),
    );
    // DynamoDB uses the key for the caller of a table encrypted with it (the key policy lets the account's
    // principals do that through DynamoDB only): for the cell's ledger, and nothing else.
    this.managed.addStatements(
      new iam.PolicyStatement({
        sid: 'LedgerKeyThroughDynamoDb',
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [props.key.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com`,
            'kms:EncryptionContext:aws:dynamodb:tableName': props.table.tableName,
          },
        },
      }),
    );
    // The key policy must allow it too (it gives no direct use to the account): the same actions, the same
    // encryption-context conditions, for this role only.
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'TenantSessionsUnderOwnEncryptionContext',
        principals: [new iam.ArnPrincipal(this.role.roleArn)],
        actions: [...POOL_KEY_ACTIONS],
        resources: ['*'],
        conditions: {
          StringEquals: { [`kms:EncryptionContext:${TENANT_ENCRYPTION_CONTEXT_KEY}`]: POOL_ENCRYPTION_CONTEXT_VALUE },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [TENANT_ENCRYPTION_CONTEXT_KEY] },
        },
      }),
    );
  }

  /**
   * Lets another function of the cell (the review steps and review API) take tenant sessions too: the same trust
   * as the pooled function's (the tenant tag and no other), and the grant to assume the role.
   */
  allowSessionsFor(fn: iam.IGrantable, roleArn: string, sid: string): void {
    const role = this.managed.role as iam.Role;
    role.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ArnPrincipal(roleArn)],
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        conditions: TENANT_TAG_ONLY,
      }),
    );
    this.grantAssume(fn);
  }

  /** Lets `grantee` (the pooled function) assume the role with a session tag: sts:AssumeRole and sts:TagSession. */
  grantAssume(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      resourceArns: [this.role.roleArn],
    });
  }
}
