import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance/acknowledge';

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
 * The AWS Backup vault, plan and service role shared by every tenant. Tenant stacks add their own
 * `BackupSelection` (it must live beside the table for the compliance rules to see it).
 */
export class PlatformBackup extends Construct {
  readonly plan: backup.IBackupPlan;
  readonly role: iam.IRole;

  constructor(scope: Construct, id: string, props: PlatformBackupProps) {
    super(scope, id);
    const vault = new backup.BackupVault(this, 'Vault', {
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
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'Switchboard: AWS Backup service role shared by every tenant backup selection',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForBackup')],
    });
    acknowledge(
      role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      'AWS Backup service role policy maintained by AWS for the service it names; one role shared by all tenants. A hand-written copy would need tag:GetResources and dynamodb:ListBackups on Resource * (two IAM5 findings per tenant).',
    );
    // The vault key's policy names its users; AWS Backup encrypts recovery points through this role.
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'BackupRoleUsesVaultKey',
        principals: [role],
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*', 'kms:DescribeKey'],
        resources: ['*'],
      }),
    );
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'BackupRoleCreatesGrantsForAwsResources',
        principals: [role],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
    this.plan = plan;
    this.role = role;
  }
}
