import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { PlatformMonitoring } from '../constructs/monitoring/platform-monitoring';
import { ApiGatewayAccountLogging } from '../constructs/platform/api-gateway-account';
import { PlatformBackup } from '../constructs/platform/backup';
import { EdgeProtection } from '../constructs/platform/edge-protection';
import { OpsAlerts } from '../constructs/platform/ops-alerts';
import { PlatformKey } from '../constructs/platform/platform-key';
import { SharedRuntimePolicies } from '../constructs/platform/shared-runtime-policies';

/** Props of {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /**
   * E-mail addresses for the ops alarm topic.
   * @default - none
   */
  readonly opsEmails?: readonly string[];
  /**
   * Sum of the tenants' monthly budgets in USD, for the fleet dashboard's spend-vs-budget line.
   * @default - no budget line
   */
  readonly fleetMonthlyBudgetUsd?: number;
}

/**
 * What every tenant shares, deployed once per account and region: the platform key, the ops alarm topic,
 * the shared runtime policy, the WAF web ACL, the backup plan and the API Gateway account logging role.
 */
export class PlatformStack extends Stack {
  readonly opsTopic: sns.ITopic;
  readonly lambdaRuntimePolicy: iam.IManagedPolicy;
  readonly webAclArn: string;
  readonly backup: { readonly plan: backup.IBackupPlan; readonly role: iam.IRole };

  constructor(scope: Construct, id: string, props: PlatformStackProps = {}) {
    super(scope, id, props);
    const key = new PlatformKey(this, 'PlatformKey').key;
    this.opsTopic = new OpsAlerts(this, 'OpsAlerts', { key, emails: props.opsEmails }).topic;
    this.lambdaRuntimePolicy = new SharedRuntimePolicies(this, 'RuntimePolicies').lambdaRuntimePolicy;
    this.webAclArn = new EdgeProtection(this, 'Edge', { key }).webAclArn;
    const b = new PlatformBackup(this, 'Backup', { key });
    this.backup = { plan: b.plan, role: b.role };
    new ApiGatewayAccountLogging(this, 'ApiGatewayLogging');

    // --- monitoring (issue 5): fleet dashboard Switchboard-Fleet (SEARCH over TenantId) ---
    new PlatformMonitoring(this, 'Monitoring', { fleetMonthlyBudgetUsd: props.fleetMonthlyBudgetUsd });
    // --- end monitoring ---
  }
}
