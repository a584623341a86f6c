import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** Props of {@link EdgeProtection}. */
export interface EdgeProtectionProps {
  /** Key encrypting the WAF log group. */
  readonly key: kms.IKey;
  /**
   * Requests per 5 minutes from one IP before WAF blocks it (across all tenant APIs).
   * @default 2000
   */
  readonly ipRateLimitPer5Min?: number;
  /**
   * Days WAF logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One regional WAF web ACL shared by every tenant API (AWS managed rule groups plus a per-IP rate rule),
 * with logging to a KMS-encrypted log group. Each tenant stack associates its own stage with it.
 */
export class EdgeProtection extends Construct {
  readonly webAclArn: string;

  constructor(scope: Construct, id: string, props: EdgeProtectionProps) {
    super(scope, id);
    const managed = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
    });
    const acl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'Switchboard tenant APIs: AWS managed rules and a per-IP rate limit',
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        metricName: 'SwitchboardWebAcl',
        sampledRequestsEnabled: true,
      },
      rules: [
        managed('AWSManagedRulesAmazonIpReputationList', 10),
        managed('AWSManagedRulesCommonRuleSet', 20),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 30),
        {
          name: 'PerIpRateLimit',
          priority: 40,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.ipRateLimitPer5Min ?? 2000, aggregateKeyType: 'IP' } },
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            metricName: 'PerIpRateLimit',
            sampledRequestsEnabled: true,
          },
        },
      ],
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      // WAF requires the aws-waf-logs- prefix.
      logGroupName: 'aws-waf-logs-switchboard',
      encryptionKey: props.key,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: acl.attrArn,
      // WAF wants the log group ARN without the ':*' suffix that GetAtt Arn carries.
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: logGroup.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: [{ singleHeader: { Name: 'x-api-key' } }],
    });
    this.webAclArn = acl.attrArn;
  }
}
