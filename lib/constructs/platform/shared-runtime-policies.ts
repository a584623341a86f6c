import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance/acknowledge';

/**
 * Customer-managed policies holding the only statements that need `Resource: *` (their actions have no
 * resource-level permissions). Every tenant role attaches them, so the wildcard is acknowledged once per
 * account, and a `*` in a tenant's own policy is never hidden by an acknowledgement.
 */
export class SharedRuntimePolicies extends Construct {
  /** X-Ray trace upload for Lambda functions. */
  readonly lambdaRuntimePolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.lambdaRuntimePolicy = new iam.ManagedPolicy(this, 'LambdaRuntimePolicy', {
      description: 'Switchboard: X-Ray trace upload for tenant functions (actions without resource-level permissions)',
      statements: [
        new iam.PolicyStatement({
          sid: 'XRayTraceUpload',
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });

    acknowledge(
      this.lambdaRuntimePolicy,
      'AwsSolutions-IAM5[Resource::*]',
      'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions (AWS service authorization reference); this shared policy holds only those two actions.',
    );
  }
}
