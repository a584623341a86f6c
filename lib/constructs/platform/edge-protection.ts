import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { WAF_DEFAULTS } from '../../config/platform-config';
import { deploymentUniqueSuffix } from '../unique-names';

/** Props of {@link EdgeProtection}. */
export interface EdgeProtectionProps {
  /** Key encrypting the WAF log group. */
  readonly key: kms.IKey;
  /**
   * Requests per 5 minutes from one client (IP address and API key together) before WAF blocks it. Every
   * tenant's API throttle must fit under it (checked at synth), so WAF never blocks what a usage plan allows.
   * @default WAF_DEFAULTS.requestsPer5MinPerClient
   */
  readonly requestsPer5MinPerClient?: number;
  /**
   * Requests per 5 minutes from one IP address, whatever API key it sends: a client sending a random key with
   * every request would otherwise open a new per-client bucket each time.
   * @default WAF_DEFAULTS.requestsPer5MinPerIp
   */
  readonly requestsPer5MinPerIp?: number;
  /**
   * Requests per 5 minutes from one IP address without an API key (review routes, probes).
   * @default WAF_DEFAULTS.unauthenticatedRequestsPer5MinPerIp
   */
  readonly unauthenticatedRequestsPer5MinPerIp?: number;
  /**
   * Days WAF logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The API key header tenants send (WAF rate key, redacted in WAF logs). */
const API_KEY_HEADER = 'x-api-key';

/**
 * Rules of AWS managed rule groups that inspect the request body and are set to count instead of block:
 * an LLM API's bodies are prompts and answers, which legitimately exceed 8 KB (`SizeRestrictions_BODY`) and
 * contain code, markup, paths, URLs and exploit strings as text (`CrossSiteScripting_BODY`, `GenericLFI_BODY`,
 * `GenericRFI_BODY`, `EC2MetaDataSSRF_BODY`, `Log4JRCE_BODY`, `JavaDeserializationRCE_BODY`). The handlers
 * never interpret body text as markup, paths or URLs, and run on Node.js (no Log4j, no Java deserialization).
 * Counted matches stay visible in WAF metrics and logs. Rule names: AWS WAF developer guide, "Baseline rule
 * groups" (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html).
 */
const COUNTED_BODY_RULES: Readonly<Record<string, readonly string[]>> = {
  AWSManagedRulesCommonRuleSet: [
    'SizeRestrictions_BODY',
    'CrossSiteScripting_BODY',
    'GenericLFI_BODY',
    'GenericRFI_BODY',
    'EC2MetaDataSSRF_BODY',
  ],
  AWSManagedRulesKnownBadInputsRuleSet: ['Log4JRCE_BODY', 'JavaDeserializationRCE_BODY'],
};

/**
 * One regional WAF web ACL shared by every tenant API: AWS managed rule groups (with the body rules that do
 * not fit an LLM API counted, see {@link COUNTED_BODY_RULES}), a rate rule per client (IP address and API
 * key, consistent with the tenants' throttles), one per IP address whatever key it sends, and a stricter one per
 * IP address for requests without an API key, with logging to a KMS-encrypted log group. Each tenant stack associates its own stage with it.
 *
 * Body size is not limited here: WAF inspects at most the first 64 KB of a body, while prompts may be far
 * larger. API Gateway refuses bodies over 10 MB and the handler over `API_LIMITS.maxBodyBytes` (413).
 */
export class EdgeProtection extends Construct {
  readonly webAclArn: string;
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: EdgeProtectionProps) {
    super(scope, id);
    const managed = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ruleActionOverrides: COUNTED_BODY_RULES[name]?.map((rule) => ({ name: rule, actionToUse: { count: {} } })),
        },
      },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
    });
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const acl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'Switchboard tenant APIs: AWS managed rules with body rules counted, rate limits per client',
      visibilityConfig: visibility('SwitchboardWebAcl'),
      rules: [
        managed('AWSManagedRulesAmazonIpReputationList', 10),
        managed('AWSManagedRulesCommonRuleSet', 20),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 30),
        {
          name: 'RatePerClient',
          priority: 40,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: props.requestsPer5MinPerClient ?? WAF_DEFAULTS.requestsPer5MinPerClient,
              evaluationWindowSec: 300,
              aggregateKeyType: 'CUSTOM_KEYS',
              customKeys: [
                { ip: {} },
                { header: { name: API_KEY_HEADER, textTransformations: [{ priority: 0, type: 'NONE' }] } },
              ],
            },
          },
          visibilityConfig: visibility('RatePerClient'),
        },
        {
          name: 'RatePerIp',
          priority: 45,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: props.requestsPer5MinPerIp ?? WAF_DEFAULTS.requestsPer5MinPerIp,
              evaluationWindowSec: 300,
              aggregateKeyType: 'IP',
            },
          },
          visibilityConfig: visibility('RatePerIp'),
        },
        {
          name: 'RateWithoutApiKeyPerIp',
          priority: 50,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: props.unauthenticatedRequestsPer5MinPerIp ?? WAF_DEFAULTS.unauthenticatedRequestsPer5MinPerIp,
              evaluationWindowSec: 300,
              aggregateKeyType: 'IP',
              // Requests whose x-api-key header is missing or empty.
              scopeDownStatement: {
                notStatement: {
                  statement: {
                    sizeConstraintStatement: {
                      fieldToMatch: { singleHeader: { Name: API_KEY_HEADER } },
                      comparisonOperator: 'GT',
                      size: 0,
                      textTransformations: [{ priority: 0, type: 'NONE' }],
                    },
                  },
                },
              },
            },
          },
          visibilityConfig: visibility('RateWithoutApiKeyPerIp'),
        },
      ],
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      // WAF requires the aws-waf-logs- prefix; the suffix is new with every stack, so a redeploy after a
      // delete does not collide with the retained group.
      logGroupName: `aws-waf-logs-switchboard-${deploymentUniqueSuffix()}`,
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
      redactedFields: [{ singleHeader: { Name: API_KEY_HEADER } }],
    });
    this.webAcl = acl;
    this.webAclArn = acl.attrArn;
  }
}
