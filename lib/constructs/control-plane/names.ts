/**
 * Names of control plane resources that pool cells must name without a CloudFormation reference to the control
 * plane stack (it is deployed after them and references them).
 */
import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The control plane function role's fixed name: IAM names are global to the account, so it carries the region. */
export function controlPlaneRoleName(region: string): string {
  return `switchboard-control-plane-${region}`;
}

/** The control plane function role's ARN in `scope`'s account and region. */
export function controlPlaneRoleArn(scope: IConstruct): string {
  const stack = Stack.of(scope);
  return `arn:${stack.partition}:iam::${stack.account}:role/${controlPlaneRoleName(stack.region)}`;
}
