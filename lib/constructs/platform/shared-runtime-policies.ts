import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance/acknowledge';

/**
 * Customer-managed policies holding the only statements that need `Resource: *` (their actions have no
 * resource-level permissions). Every tenant role attaches them, so the wildcard is acknowledged once per
 * account, and a `*` in a tenant's own policy is never hidden by an acknowledgement.
 */
export class SharedRuntimePolicies extends Construct {
  /** X-Ray tracing for functions and state machines, and state machine log delivery. */
  readonly lambdaRuntimePolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.lambdaRuntimePolicy = new iam.ManagedPolicy(this, 'LambdaRuntimePolicy', {
      description:
        'Switchboard: X-Ray tracing and state machine log delivery for tenant functions and workflows (actions without resource-level permissions)',
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
      this.lambdaRuntimePolicy,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray trace upload and sampling (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) and the CloudWatch Logs vended-delivery actions a logging state machine needs (logs:CreateLogDelivery and related) support no resource-level permissions (AWS service authorization reference); this shared policy holds only those actions.',
    );
  }
}
