import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance/acknowledge';

/** Where the `Resource: *` of each shared policy comes from (cited in the acknowledgements and the README). */
const SHARED_POLICY_SOURCES = {
  /** X-Ray: no action of the trace upload and sampling set has a resource type. */
  xray: 'https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html',
  /** The permissions Step Functions documents for logging to CloudWatch Logs, on Resource "*". */
  stateMachineLogging: 'https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy',
  /** CreateLogDelivery and the other *LogDelivery actions are permission-only actions without a resource type. */
  logsActions: 'https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html',
} as const;

/**
 * Customer-managed policies holding the only statements that need `Resource: *` (their actions have no
 * resource-level permissions), so each wildcard is acknowledged once per account, and a `*` in a tenant's own
 * policy is never hidden by an acknowledgement.
 *
 * Two policies, because two kinds of role need different things: every tenant function and state machine traces
 * to X-Ray ({@link tracingPolicy}); only state machine roles set up their vended log delivery
 * ({@link stateMachineLogDeliveryPolicy}). The log delivery actions include `logs:PutResourcePolicy` and
 * changing or deleting any log delivery of the account, so a function role must never hold them.
 */
export class SharedRuntimePolicies extends Construct {
  /** X-Ray trace upload and sampling: for every tenant function and state machine role. */
  readonly tracingPolicy: iam.ManagedPolicy;
  /** CloudWatch Logs vended log delivery: for state machine roles only. */
  readonly stateMachineLogDeliveryPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.tracingPolicy = new iam.ManagedPolicy(this, 'TracingPolicy', {
      description: 'Switchboard: X-Ray tracing for tenant functions and state machines (actions without resources)',
      statements: [
        new iam.PolicyStatement({
          sid: 'XRayTraceUpload',
          actions: [
            'xray:PutTraceSegments',
            'xray:PutTelemetryRecords',
            'xray:GetSamplingRules',
            'xray:GetSamplingTargets',
          ],
          resources: ['*'],
        }),
      ],
    });
    this.stateMachineLogDeliveryPolicy = new iam.ManagedPolicy(this, 'StateMachineLogDeliveryPolicy', {
      description:
        'Switchboard: CloudWatch Logs delivery for tenant state machines only (actions without resources); never for functions',
      statements: [
        new iam.PolicyStatement({
          sid: 'StateMachineLogDelivery',
          actions: [
            'logs:CreateLogDelivery',
            'logs:GetLogDelivery',
            'logs:UpdateLogDelivery',
            'logs:DeleteLogDelivery',
            'logs:ListLogDeliveries',
            'logs:PutResourcePolicy',
            'logs:DescribeResourcePolicies',
            'logs:DescribeLogGroups',
          ],
          resources: ['*'],
        }),
      ],
    });

    acknowledge(
      this.tracingPolicy,
      'AwsSolutions-IAM5[Resource::*]',
      `X-Ray trace upload and sampling (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) have no resource types in the service authorization reference (${SHARED_POLICY_SOURCES.xray}), so they accept only "*"; this shared policy holds only those four actions.`,
    );
    acknowledge(
      this.stateMachineLogDeliveryPolicy,
      'AwsSolutions-IAM5[Resource::*]',
      `Step Functions documents exactly these CloudWatch Logs actions on Resource "*" for a state machine that logs (${SHARED_POLICY_SOURCES.stateMachineLogging}); CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery and ListLogDeliveries are permission-only actions without a resource type (${SHARED_POLICY_SOURCES.logsActions}). The policy is attached to the tenant state machine roles only, never to a function role (a template test holds every function role to that).`,
    );
  }
}
