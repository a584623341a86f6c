import { Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LEDGER_WRITERS, type LedgerWriter } from '../../../lambda/shared/ledger-access';
import { LEDGER_KEYS } from '../../../lambda/shared/ledger-schema';
import { REVIEW_GSI } from '../../../lambda/shared/review-schema';
import { CRYPTO_SHRED_METADATA, KMS_PENDING_WINDOW_DAYS } from '../../../lambda/shared/silo-key';
import { acknowledgeInPacks } from '../../compliance/acknowledge';
import {
  cloudWatchAlarmsStatement,
  keyAdministrationStatement,
  logsServiceStatement,
  secretsManagerStatement,
  serviceIntegrationStatements,
} from '../key-policies';
import { LEDGER_BACKUP_TAG } from '../platform/backup';

/** Props of {@link TenantData}. */
export interface TenantDataProps {
  /** Tenant id (alias and descriptions). */
  readonly tenantId: string;
  /**
   * The role of the platform backup selection: the ledger is tagged into the platform's tag-based backup
   * selection ({@link LEDGER_BACKUP_TAG}) and the key lets this role use it through DynamoDB and AWS Backup.
   * @default - not in AWS Backup (point-in-time recovery only)
   */
  readonly backupRole?: iam.IRole;
  /**
   * IAM roles (name with optional path) that may administer the key besides the CDK deploy role and the root
   * user.
   * @default - none
   */
  readonly keyAdminRoles?: readonly string[];
  /**
   * Whose data it is, in the key's description and alias (`tenant acme`, `cell pool-1`): a pool cell's ledger
   * holds many tenants' data and must not take a tenant's alias.
   * @default - `tenant <tenantId>`
   */
  readonly owner?: { readonly kind: 'tenant' | 'cell'; readonly id: string };
  /**
   * Crypto-shredding: when the stack is deleted (a silo tenant offboarded), the key is scheduled for deletion with a
   * pending window of this many days (KMS allows 7–30: lambda/shared/silo-key.ts), after which the retained table,
   * its backups, logs and topics cannot be read. The table itself stays retained.
   * @default - the key is retained with the table (a pool cell's key: other tenants' data)
   */
  readonly shredKeyAfterDays?: number;
}

/** DynamoDB reads the tenant roles need on the ledger and its index (no scans). */
const LEDGER_READS = ['dynamodb:GetItem', 'dynamodb:Query'];
/** DynamoDB writes the tenant roles need, each limited to the items the role owns (no deletes, no batches). */
const LEDGER_WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
/**
 * How `dynamodb:LeadingKeys` limits writes: every partition key value of a write request must match one of the
 * role's prefixes (`ForAllValues`), and the key must be present (`Null` false: `ForAllValues` alone is true for a
 * request without it). BatchWriteItem is not granted at all; a TransactWriteItems is authorized item by item as
 * the PutItem or UpdateItem it contains. {@link LEADING_KEYS_SOURCE}
 */
export const LEADING_KEYS_SOURCE =
  'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html';
/** KMS actions a role needs to use the tenant key through DynamoDB, SNS and Logs. */
const KEY_USE = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];

/**
 * A tenant's data plane: its customer-managed KMS key and its ledger table.
 *
 * The key policy gives administration to named administrators only (the deploy role, `keyAdminRoles`, the root
 * user for break-glass); the account's principals may use the key only through DynamoDB (which is how
 * CloudFormation creates the table and how IAM-authorized principals read it); direct cryptographic use is
 * only for principals granted through {@link grantKeyUse} (this tenant's roles), CloudWatch Logs for this
 * account's log groups, and the backup role through DynamoDB and AWS Backup. Key and table are retained when
 * the stack is deleted.
 */
export class TenantData extends Construct {
  readonly key: kms.IKey;
  readonly table: dynamodb.ITable;
  private readonly keyImpl: kms.Key;
  private cloudWatchAlarmsAllowed = false;

  constructor(scope: Construct, id: string, props: TenantDataProps) {
    super(scope, id);
    const owner = props.owner ?? { kind: 'tenant', id: props.tenantId };
    const key = new kms.Key(this, 'Key', {
      description:
        owner.kind === 'tenant'
          ? `Switchboard tenant ${owner.id}: ledger, logs, topics`
          : `Switchboard ${owner.id}: pooled ledger (each tenant under its own encryption context)`,
      alias: `alias/switchboard/${owner.kind}/${owner.id}`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(props.shredKeyAfterDays ?? KMS_PENDING_WINDOW_DAYS.max),
      removalPolicy: props.shredKeyAfterDays === undefined ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      policy: new iam.PolicyDocument({
        statements: [
          keyAdministrationStatement(this, props.keyAdminRoles),
          logsServiceStatement(this),
          ...serviceIntegrationStatements(this, 'dynamodb'),
        ],
      }),
    });
    const table = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: LEDGER_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      timeToLiveAttribute: LEDGER_KEYS.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Sparse index: pending reviews oldest first, decided reviews in decision order (review-schema.ts).
    table.addGlobalSecondaryIndex({
      indexName: REVIEW_GSI.name,
      partitionKey: { name: REVIEW_GSI.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: REVIEW_GSI.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.keyImpl = key;
    if (props.shredKeyAfterDays !== undefined) {
      (key.node.defaultChild as kms.CfnKey).addMetadata(CRYPTO_SHRED_METADATA, {
        pendingWindowDays: props.shredKeyAfterDays,
      });
    }
    if (props.backupRole) addToPlatformBackup(table, key, props.backupRole);
    this.key = key;
    this.table = table;
  }

  /**
   * Lets `grantee` read ledger items and write the items `writer` owns ({@link LEDGER_WRITERS}, by partition key
   * prefix: `dynamodb:LeadingKeys`), and use the key for it. No scans, no deletes.
   *
   * Reads are not limited by prefix: a read cannot forge a decision, every role reads items of its own tenant
   * only, and the review roles list reviews through the index, where AWS does not document whether
   * `dynamodb:LeadingKeys` is the table's or the index's partition key (nothing local can evaluate it; a wrong
   * guess would silently break the review queue).
   */
  grantLedgerReadWrite(grantee: iam.IGrantable, writer: LedgerWriter): iam.Grant {
    this.grantKeyUse(grantee);
    const reads = iam.Grant.addToPrincipal({
      grantee,
      actions: LEDGER_READS,
      resourceArns: [this.table.tableArn, `${this.table.tableArn}/index/${REVIEW_GSI.name}`],
    });
    const writes = iam.Grant.addToPrincipal({
      grantee,
      actions: LEDGER_WRITES,
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': LEDGER_WRITERS[writer].map((p) => `${p}*`) },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
    return reads.combine(writes);
  }

  /**
   * Lets `grantee` use the tenant key for encryption and decryption: in its IAM policy and in the key
   * policy (which gives no cryptographic use to anyone else).
   */
  grantKeyUse(grantee: iam.IGrantable): iam.Grant {
    this.allowKeyUseInKeyPolicy(grantee);
    return iam.Grant.addToPrincipal({ grantee, actions: KEY_USE, resourceArns: [this.key.keyArn] });
  }

  /**
   * Lets only `principalArn` decrypt what was encrypted under `purpose` (an encryption context value):
   * an explicit deny in the key policy for every other principal, whatever their IAM policies say.
   */
  restrictDecryptByPurpose(contextKey: string, purpose: string, principalArn: string): void {
    this.keyImpl.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `OnlyOneRoleDecrypts${purpose.replace(/[^A-Za-z0-9]/g, '')}`,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: { [`kms:EncryptionContext:${contextKey}`]: purpose },
          ArnNotEquals: { 'aws:PrincipalArn': principalArn },
        },
      }),
    );
  }

  /**
   * Lets the named principals use the tenant key through Secrets Manager for the secrets whose ARN matches
   * `secretArnPattern` (see {@link secretsManagerStatement}); nobody else may use it through Secrets Manager.
   */
  allowSecretsManagerUse(sid: string, principalArns: readonly string[], secretArnPattern: string): void {
    this.keyImpl.addToResourcePolicy(secretsManagerStatement(this, sid, principalArns, secretArnPattern));
  }

  /**
   * Lets CloudWatch alarms of this account use the tenant key, to publish to an alarm topic it encrypts (the tenant
   * ops topic). Once, however often called.
   */
  allowCloudWatchAlarms(): void {
    if (this.cloudWatchAlarmsAllowed) return;
    this.cloudWatchAlarmsAllowed = true;
    this.keyImpl.addToResourcePolicy(cloudWatchAlarmsStatement(this));
  }

  private allowKeyUseInKeyPolicy(grantee: iam.IGrantable): void {
    this.keyImpl.addToResourcePolicy(
      new iam.PolicyStatement({ principals: [grantee.grantPrincipal], actions: KEY_USE, resources: ['*'] }),
    );
  }
}

/**
 * Puts a retained table into the platform's tag-based backup selection ({@link LEDGER_BACKUP_TAG}) and lets the
 * shared backup role use the table's key through DynamoDB and AWS Backup only. The backup role lives in the
 * platform stack: the key policy alone authorizes it (adding to its IAM policy from here would make the platform
 * stack depend on this one).
 */
export function addToPlatformBackup(table: dynamodb.Table, key: kms.Key, backupRole: iam.IRole): void {
  Tags.of(table).add(LEDGER_BACKUP_TAG.key, LEDGER_BACKUP_TAG.value);
  const region = Stack.of(table).region;
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'BackupRoleUsesKeyThroughBackupServices',
      principals: [backupRole],
      actions: KEY_USE,
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:ViaService': [`dynamodb.${region}.amazonaws.com`, `backup.${region}.amazonaws.com`] },
      },
    }),
  );
  acknowledgeInPacks(
    table,
    ['HIPAA.Security', 'NIST.800.53.R5'],
    'DynamoDBInBackupPlan',
    `The table is in the platform backup plan through its one tag-based selection (tag ${LEDGER_BACKUP_TAG.key}=${LEDGER_BACKUP_TAG.value}, one selection for every table because AWS Backup limits the selections of a plan); cdk-nag only recognises a selection in the table's own stack that names the table. The Switchboard pack's LedgerInBackupSelection rule checks the real selection.`,
  );
}
