import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, type IConstruct } from 'constructs';
import { REGISTRY_TABLE_NAME } from '../../../lambda/shared/pool-runtime';
import {
  REGISTRY_BY_CELL_ATTRIBUTES,
  REGISTRY_PK_PREFIXES,
  REGISTRY_TABLE,
} from '../../../lambda/shared/registry-schema';
import { acknowledge } from '../../compliance/acknowledge';
import { keyAdministrationStatement, logsServiceStatement, serviceIntegrationStatements } from '../key-policies';
import { addToPlatformBackup } from '../tenant-data/tenant-data';

/** Props of {@link TenantRegistry}. */
export interface TenantRegistryProps {
  /**
   * The role of the platform's tag-based backup selection: the registry joins it like the ledgers.
   * @default - not in AWS Backup (point-in-time recovery only)
   */
  readonly backupRole?: iam.IRole;
  /**
   * IAM roles (name with optional path) that may administer the registry key besides the CDK deploy role and the
   * root user.
   * @default - none
   */
  readonly keyAdminRoles?: readonly string[];
}

/** The registry table's ARN in `scope`'s account and region, from its fixed name (no reference to its stack). */
export function registryTableArn(scope: IConstruct): string {
  return Stack.of(scope).formatArn({
    service: 'dynamodb',
    resource: 'table',
    resourceName: REGISTRY_TABLE_NAME,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * What a principal of another stack needs from the registry key to read the registry: `kms:Decrypt` through
 * DynamoDB, for the registry table only (`kms:EncryptionContext:aws:dynamodb:tableName`). The key is named by
 * its account and region (`key/*`): a pool cell has no reference to the control plane stack, and the conditions,
 * not the ARN, are what limit it to the registry.
 */
export function registryKeyReadStatement(scope: IConstruct): iam.PolicyStatement {
  const stack = Stack.of(scope);
  return new iam.PolicyStatement({
    sid: 'RegistryKeyThroughDynamoDb',
    actions: ['kms:Decrypt'],
    resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
    conditions: {
      StringEquals: {
        'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com`,
        'kms:EncryptionContext:aws:dynamodb:tableName': REGISTRY_TABLE_NAME,
      },
    },
  });
}

/**
 * What a pool cell's function needs to read a tenant's registry item (`TENANT#*` items only, GetItem): its
 * configuration and status (the handlers cache it per container).
 */
export function registryTenantItemsReadStatement(scope: IConstruct): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadTenantItems',
    actions: ['dynamodb:GetItem'],
    resources: [registryTableArn(scope)],
    conditions: {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${REGISTRY_PK_PREFIXES.tenant}*`] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    },
  });
}

/** The reason a reader of another stack names the registry key by `key/*` (see {@link registryKeyReadStatement}). */
export const REGISTRY_KEY_WILDCARD_REASON =
  'The registry key lives in the control plane stack, which is deployed after the pool cells and references them; a cell cannot name the key without a cycle. The statement allows only kms:Decrypt, only through DynamoDB (kms:ViaService) and only for the registry table (kms:EncryptionContext:aws:dynamodb:tableName), so no other key use is possible.';

/**
 * The tenant registry (lambda/shared/registry-schema.ts): one DynamoDB table with the `byKind` index, under its
 * fixed name {@link REGISTRY_TABLE_NAME} (the pool cells find it by name), encrypted with a customer-managed key of
 * its own, point-in-time recovery, deletion protection, retained, in the platform's backup selection.
 */
export class TenantRegistry extends Construct {
  readonly table: dynamodb.ITable;
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: TenantRegistryProps = {}) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      description: 'Switchboard tenant registry (tenants, hashed API keys, cells, audit trail) and control plane logs',
      alias: 'alias/switchboard/registry',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          keyAdministrationStatement(this, props.keyAdminRoles),
          ...serviceIntegrationStatements(this, 'dynamodb'),
          logsServiceStatement(this),
        ],
      }),
    });
    const s = dynamodb.AttributeType.STRING;
    const table = new dynamodb.Table(this, 'Table', {
      tableName: REGISTRY_TABLE_NAME,
      partitionKey: { name: REGISTRY_TABLE.partitionKey.name, type: s },
      sortKey: { name: REGISTRY_TABLE.sortKey.name, type: s },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const index = REGISTRY_TABLE.byKindIndex;
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: { name: index.partitionKey.name, type: s },
      sortKey: { name: index.sortKey.name, type: s },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    const byCell = REGISTRY_TABLE.byCellIndex;
    table.addGlobalSecondaryIndex({
      indexName: byCell.name,
      partitionKey: { name: byCell.partitionKey.name, type: s },
      sortKey: { name: byCell.sortKey.name, type: s },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...REGISTRY_BY_CELL_ATTRIBUTES],
    });
    if (props.backupRole) addToPlatformBackup(table, key, props.backupRole);
    acknowledge(
      table,
      'SwitchboardDeploy-RetainedWithoutFixedName',
      `The registry is found by its fixed name (${REGISTRY_TABLE_NAME}) by the pool cells, which are deployed before the control plane and must not reference it. It is one table per account and region, retained with deletion protection: after the control plane stack is deleted, the table is imported into the new stack (cdk import), never created again, so the fixed name cannot collide with a second copy.`,
    );
    this.table = table;
    this.key = key;
    this.keyImpl = key;
  }

  private readonly keyImpl: kms.Key;

  /**
   * Lets `grantee` (the control plane function's role) use the key through SNS only: Lambda publishes a failed
   * asynchronous event (a CloudFormation custom resource request) to its dead-letter topic with the function's role.
   */
  grantDeadLetterPublish(grantee: iam.IGrantable): iam.Grant {
    const actions = ['kms:GenerateDataKey', 'kms:Decrypt'];
    const conditions = { StringEquals: { 'kms:ViaService': `sns.${Stack.of(this).region}.amazonaws.com` } };
    this.keyImpl.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DeadLettersThroughSns',
        principals: [grantee.grantPrincipal],
        actions,
        resources: ['*'],
        conditions,
      }),
    );
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.keyImpl.keyArn], conditions });
  }

  /** Reads and conditional writes of every registry item (the control plane), with the key through DynamoDB. */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    const region = Stack.of(this).region;
    const data = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn, `${this.table.tableArn}/index/${REGISTRY_TABLE.byKindIndex.name}`],
    });
    const key = iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
    });
    return data.combine(key);
  }
}
