import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance/acknowledge';
import { deploymentUniqueSuffix } from '../unique-names';

/**
 * The tag that puts a DynamoDB table into the platform backup plan. One tag-based selection serves every
 * tenant: AWS Backup limits the resource assignments (selections) of a plan, so one selection per tenant
 * would stop the fleet growing (AWS Backup quotas:
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/aws-backup-limits.html).
 */
export const LEDGER_BACKUP_TAG = { key: 'switchboard:backup', value: 'ledger' } as const;

/** Props of {@link PlatformBackup}. */
export interface PlatformBackupProps {
  /** Key encrypting the vault. */
  readonly key: kms.IKey;
  /**
   * Days monthly backups are kept (daily ones are kept 35 days).
   * @default 365
   */
  readonly monthlyRetentionDays?: number;
}

/**
 * The AWS Backup vault, plan, service role and the one selection shared by every tenant: DynamoDB tables of
 * this account and region tagged {@link LEDGER_BACKUP_TAG}. Tenant stacks only tag their ledger. cdk-nag's
 * DynamoDBInBackupPlan does not recognise a tag-based selection in another stack; the Switchboard rule
 * `LedgerInBackupSelection` checks this selection instead.
 */
export class PlatformBackup extends Construct {
  readonly plan: backup.IBackupPlan;
  readonly role: iam.IRole;

  constructor(scope: Construct, id: string, props: PlatformBackupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const vault = new backup.BackupVault(this, 'Vault', {
      // New with every stack: the retained vault of a deleted platform stack keeps its name.
      backupVaultName: `switchboard-${deploymentUniqueSuffix()}`,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const plan = new backup.BackupPlan(this, 'Plan', { backupVault: vault });
    plan.addRule(
      new backup.BackupPlanRule({
        ruleName: 'Daily35d',
        scheduleExpression: events.Schedule.cron({ hour: '3', minute: '0' }),
        deleteAfter: Duration.days(35),
      }),
    );
    plan.addRule(
      new backup.BackupPlanRule({
        ruleName: 'Monthly',
        scheduleExpression: events.Schedule.cron({ day: '1', hour: '4', minute: '0' }),
        deleteAfter: Duration.days(props.monthlyRetentionDays ?? 365),
      }),
    );
    const role = new iam.Role(this, 'Role', {
      // Confused-deputy guard: AWS Backup may assume the role only on behalf of this account. (AWS Backup documents
      // no aws:SourceArn for its service role, so the account is the narrowest source to name.)
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Switchboard: AWS Backup service role of the tenant ledger selection',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForBackup')],
    });
    acknowledge(
      role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      'AWS Backup service role policy maintained by AWS for the service it names; one role shared by all tenants. A hand-written copy would need tag:GetResources and dynamodb:ListBackups on Resource * (two IAM5 findings per tenant).',
    );
    // The vault key's policy names its users; AWS Backup encrypts recovery points through this role, and only
    // through AWS Backup (kms:ViaService): the role's credentials cannot decrypt with the key directly.
    const viaBackup = { 'kms:ViaService': `backup.${stack.region}.amazonaws.com` };
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'BackupRoleUsesVaultKey',
        principals: [role],
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: viaBackup },
      }),
    );
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'BackupRoleCreatesGrantsForAwsResources',
        principals: [role],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { StringEquals: viaBackup, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
    // Selected by tag: Resources and Conditions are ANDed (ListOfTags would be ORed with Resources).
    new backup.CfnBackupSelection(this, 'Ledgers', {
      backupPlanId: plan.backupPlanId,
      backupSelection: {
        selectionName: 'switchboard-tenant-ledgers',
        iamRoleArn: role.roleArn,
        resources: [`arn:${stack.partition}:dynamodb:${stack.region}:${stack.account}:table/*`],
        conditions: {
          StringEquals: [
            { ConditionKey: `aws:ResourceTag/${LEDGER_BACKUP_TAG.key}`, ConditionValue: LEDGER_BACKUP_TAG.value },
          ],
        },
      },
    });
    this.plan = plan;
    this.role = role;
  }
}
