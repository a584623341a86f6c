import { Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge, nagArnPrefix } from '../../compliance/acknowledge';

/** Log group name prefix API Gateway writes to: its own execution logs and our access logs share it. */
export const API_GATEWAY_LOG_GROUP_PREFIX = 'API-Gateway-';

/**
 * The account-wide API Gateway CloudWatch role (one per account and region, so it lives here and tenant
 * APIs set `cloudWatchRole: false`). Its policy is scoped to log groups named `API-Gateway-*`.
 */
export class ApiGatewayAccountLogging extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'Role', {
      // Confused-deputy guard that cannot break logging: API Gateway does not document that it sends
      // aws:SourceAccount when it assumes this role, and a StringEquals on an absent key would deny it (and fail the
      // AWS::ApiGateway::Account update). IfExists: when the key is sent, it must be this account.
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com', {
        conditions: { StringEqualsIfExists: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'Switchboard: API Gateway account role for execution and access logs',
    });
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      roles: [role],
      description: 'Switchboard: API Gateway writes execution and access logs to API-Gateway-* log groups',
      statements: [
        new iam.PolicyStatement({
          actions: [
            'logs:CreateLogGroup',
            'logs:CreateLogStream',
            'logs:DescribeLogStreams',
            'logs:PutLogEvents',
            'logs:GetLogEvents',
            'logs:FilterLogEvents',
          ],
          resources: [
            `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${API_GATEWAY_LOG_GROUP_PREFIX}*`,
          ],
        }),
        new iam.PolicyStatement({
          actions: ['logs:DescribeLogGroups'],
          resources: [`arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`],
        }),
      ],
    });
    const account = new apigw.CfnAccount(this, 'Account', { cloudWatchRoleArn: role.roleArn });
    account.node.addDependency(policy);
    for (const suffix of [`${API_GATEWAY_LOG_GROUP_PREFIX}*`, '*']) {
      acknowledge(
        policy,
        `AwsSolutions-IAM5[Resource::${nagArnPrefix(this, 'logs')}:log-group:${suffix}]`,
        suffix === '*'
          ? 'logs:DescribeLogGroups has no resource-level scoping narrower than the account log-group namespace; API Gateway calls it before writing.'
          : 'One API Gateway role per account and region serves every tenant API, and API Gateway picks execution log group names (API-Gateway-Execution-Logs_<apiId>/<stage>); the prefix is the narrowest possible scope.',
      );
    }
  }
}
