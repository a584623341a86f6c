import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LEDGER_KEYS } from '../../../lambda/shared/ledger-schema';
import { REVIEW_GSI } from '../../../lambda/shared/review-schema';
import { keyAdministrationStatement, logsServiceStatement } from '../key-policies';

/** Props of {@link TenantData}. */
export interface TenantDataProps {
  /** Tenant id (alias and descriptions). */
  readonly tenantId: string;
  /**
   * Backup plan the ledger joins, with the role AWS Backup uses.
   * @default - no AWS Backup selection (point-in-time recovery only)
   */
  readonly backup?: { readonly plan: backup.IBackupPlan; readonly role: iam.IRole };
}

/** DynamoDB actions the inference path needs on the ledger (no scans, no deletes). */
const LEDGER_READ_WRITE = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'];
/** KMS actions a role needs to use the tenant key through DynamoDB, SNS and Logs. */
const KEY_USE = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];

/**
 * A tenant's data plane: its customer-managed KMS key and its ledger table.
 *
 * The key policy gives the account root key administration only, no cryptographic use: only principals
 * granted through {@link grantKeyUse} (this tenant's roles) and CloudWatch Logs for this account's log
 * groups can use the key. Key and table are retained when the stack is deleted.
 */
export class TenantData extends Construct {
  readonly key: kms.IKey;
  readonly table: dynamodb.ITable;
  private readonly keyImpl: kms.Key;

  constructor(scope: Construct, id: string, props: TenantDataProps) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      description: `Switchboard tenant ${props.tenantId}: ledger, logs, topics`,
      alias: `alias/switchboard/tenant/${props.tenantId}`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({ statements: [keyAdministrationStatement(), logsServiceStatement(this)] }),
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
    if (props.backup) {
      new backup.BackupSelection(this, 'Backup', {
        backupPlan: props.backup.plan,
        resources: [backup.BackupResource.fromDynamoDbTable(table)],
        role: props.backup.role,
        allowRestores: false,
      });
    }
    this.keyImpl = key;
    // The shared backup role lives in the platform stack; the key policy alone authorizes it (adding to its
    // IAM policy from here would make the platform stack depend on this one).
    if (props.backup) this.allowKeyUseInKeyPolicy(props.backup.role);
    this.key = key;
    this.table = table;
  }

  /** Lets `grantee` read and write ledger items (no scans, no deletes) and use the key for it. */
  grantLedgerReadWrite(grantee: iam.IGrantable): iam.Grant {
    this.grantKeyUse(grantee);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: LEDGER_READ_WRITE,
      resourceArns: [this.table.tableArn, `${this.table.tableArn}/index/${REVIEW_GSI.name}`],
    });
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

  private allowKeyUseInKeyPolicy(grantee: iam.IGrantable): void {
    this.keyImpl.addToResourcePolicy(
      new iam.PolicyStatement({ principals: [grantee.grantPrincipal], actions: KEY_USE, resources: ['*'] }),
    );
  }
}
