import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { PlatformConfig } from '../config/platform-config';
import { AlarmTopic } from '../constructs/monitoring/alarm-topic';
import { PlatformMonitoring } from '../constructs/monitoring/platform-monitoring';
import { ApiGatewayAccountLogging } from '../constructs/platform/api-gateway-account';
import { PlatformBackup } from '../constructs/platform/backup';
import { EdgeProtection } from '../constructs/platform/edge-protection';
import { PlanGuardrails } from '../constructs/platform/plan-guardrails';
import { PlatformKey } from '../constructs/platform/platform-key';
import { SharedRuntimePolicies } from '../constructs/platform/shared-runtime-policies';
import { ReviewerDirectory } from '../constructs/review/reviewer-directory';

/** Props of {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /** The platform configuration (`cdk.json` → `context.switchboard`). */
  readonly config: PlatformConfig;
  /**
   * Sum of the tenants' monthly budgets in USD, for the fleet dashboard's spend-vs-budget line.
   * @default - no budget line
   */
  readonly fleetMonthlyBudgetUsd?: number;
}

/**
 * What every tenant shares, deployed once per account and region: the platform key, the ops alarm topic,
 * the shared runtime policies (tracing; state machine log delivery), the WAF web ACL, the backup plan, the plans'
 * guardrails and, when configured, the API Gateway account logging role.
 */
export class PlatformStack extends Stack {
  readonly config: PlatformConfig;
  readonly opsTopic: sns.ITopic;
  /** X-Ray tracing: for every tenant function and state machine role. */
  readonly tracingPolicy: iam.IManagedPolicy;
  /** Vended log delivery: for tenant state machine roles only (never a function role). */
  readonly stateMachineLogDeliveryPolicy: iam.IManagedPolicy;
  readonly webAclArn: string;
  readonly backup: { readonly plan: backup.IBackupPlan; readonly role: iam.IRole };
  /** The plans' shared guardrails and the key of every guardrail. */
  readonly guardrails: PlanGuardrails;
  /** The reviewers' user pool: the review consoles' sign-in (one group per tenant, in the tenant's stack). */
  readonly reviewers: ReviewerDirectory;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    this.config = props.config;
    const key = new PlatformKey(this, 'PlatformKey', { adminRoles: props.config.keyAdminRoles }).key;
    this.opsTopic = new AlarmTopic(this, 'OpsAlerts', {
      displayName: 'Switchboard platform operations alerts',
      key,
      emails: props.config.opsEmails,
    }).topic;
    const runtime = new SharedRuntimePolicies(this, 'RuntimePolicies');
    this.tracingPolicy = runtime.tracingPolicy;
    this.stateMachineLogDeliveryPolicy = runtime.stateMachineLogDeliveryPolicy;
    this.webAclArn = new EdgeProtection(this, 'Edge', { key, ...props.config.waf }).webAclArn;
    const b = new PlatformBackup(this, 'Backup', { key });
    this.backup = { plan: b.plan, role: b.role };
    if (props.config.apiGatewayAccountRole === 'manage') new ApiGatewayAccountLogging(this, 'ApiGatewayLogging');
    this.guardrails = new PlanGuardrails(this, 'Guardrails', { adminRoles: props.config.keyAdminRoles });
    this.reviewers = new ReviewerDirectory(this, 'Reviewers', {
      ...(props.config.reviewerSignInDomainPrefix ? { domainPrefix: props.config.reviewerSignInDomainPrefix } : {}),
    });
    new CfnOutput(this, 'ReviewersUserPoolId', {
      value: this.reviewers.userPool.userPoolId,
      description:
        'Reviewer accounts: aws cognito-idp admin-create-user / admin-add-user-to-group --group-name tenant-<id>',
    });

    // The fleet dashboard Switchboard-Fleet (SEARCH over TenantId).
    new PlatformMonitoring(this, 'Monitoring', {
      fleetMonthlyBudgetUsd: props.fleetMonthlyBudgetUsd,
      poolCells: props.config.poolCells,
    });
  }
}
