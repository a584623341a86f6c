import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { modelResourceArns } from '../../../lambda/shared/catalog';
import { LEDGER_TABLE_ENV, TENANT_CONFIG_ENV, type TenantRuntimeConfig } from '../../../lambda/shared/tenant-runtime';
import { acknowledgeInRegulatedPacks } from '../../compliance/acknowledge';
import { handlerCode } from '../bundling';
import { ManagedPolicyRole } from '../iam/managed-policy-role';

/** Props of {@link InferenceFunction}. */
export interface InferenceFunctionProps {
  /** What the handler knows about its tenant (becomes the `TENANT_CONFIG` variable). */
  readonly runtimeConfig: TenantRuntimeConfig;
  /** The tenant's ledger table. */
  readonly table: dynamodb.ITable;
  /** The tenant key (log group, dead-letter topic). */
  readonly key: kms.IKey;
  /** Shared customer-managed policies to attach (X-Ray). */
  readonly sharedPolicies: readonly iam.IManagedPolicy[];
  /**
   * Reserved concurrency: caps the tenant's share of the account's concurrency.
   * @default 10
   */
  readonly reservedConcurrency?: number;
  /**
   * Memory in MB.
   * @default 1024
   */
  readonly memoryMb?: number;
  /**
   * Timeout (at most 29 s: the API Gateway integration timeout).
   * @default Duration.seconds(29)
   */
  readonly timeout?: Duration;
  /**
   * Log retention.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The tenant's inference function (tenant API handler), with its own role, KMS-encrypted log group and
 * dead-letter topic. The code is the shared esbuild bundle; only the environment differs per tenant.
 * It may invoke exactly the Bedrock models and inference profiles of the tenant's allowed tiers.
 */
export class InferenceFunction extends Construct implements iam.IGrantable {
  readonly fn: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
  readonly grantPrincipal: iam.IPrincipal;
  private readonly role: ManagedPolicyRole;

  constructor(scope: Construct, id: string, props: InferenceFunctionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(29);
    const problems: string[] = [];
    if (!timeout.isUnresolved() && timeout.toSeconds() > 29) {
      problems.push(`timeout: ${timeout.toSeconds()} s is above 29 s, the API Gateway integration limit`);
    }
    if (props.reservedConcurrency !== undefined && props.reservedConcurrency < 1) {
      problems.push(`reservedConcurrency: ${props.reservedConcurrency} must be at least 1`);
    }
    if (problems.length) throw new Error(`InferenceFunction ${this.node.path}: ${problems.join('; ')}`);

    this.role = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Switchboard ${props.runtimeConfig.tenantId}: inference function`,
      sharedPolicies: props.sharedPolicies,
    });
    this.grantPrincipal = this.role.grantPrincipal;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.key,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const dlq = new sns.Topic(this, 'DeadLetters', {
      displayName: `Switchboard ${props.runtimeConfig.tenantId} inference dead letters`,
      masterKey: props.key,
      enforceSSL: true,
    });

    const fn = new lambda.Function(this, 'Function', {
      description: `Switchboard ${props.runtimeConfig.tenantId}: tenant API (inference, requests, usage)`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: handlerCode('inference'),
      memorySize: props.memoryMb ?? 1024,
      timeout,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrency ?? 10,
      role: this.role.boundRole,
      logGroup,
      deadLetterTopic: dlq,
      environment: {
        [TENANT_CONFIG_ENV]: JSON.stringify(props.runtimeConfig),
        [LEDGER_TABLE_ENV]: props.table.tableName,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    fn.node.addDependency(this.role.policy);

    // What the bound role cannot receive automatically, written out: logs, dead letters, models.
    this.role.addStatements(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
      new iam.PolicyStatement({ sid: 'PublishDeadLetters', actions: ['sns:Publish'], resources: [dlq.topicArn] }),
    );
    const stack = Stack.of(this);
    const modelArns = [
      ...new Set(
        [
          ...Object.values(props.runtimeConfig.tierModels),
          ...Object.values(props.runtimeConfig.tierFallbacks).flat(),
        ].flatMap((m) =>
          modelResourceArns(m as string, { partition: stack.partition, region: stack.region, account: stack.account }),
        ),
      ),
    ].sort();
    this.role.addStatements(
      new iam.PolicyStatement({ sid: 'InvokeAllowedModels', actions: ['bedrock:InvokeModel'], resources: modelArns }),
    );

    acknowledgeInRegulatedPacks(
      fn,
      'LambdaInsideVPC',
      'The function calls only AWS public service endpoints (Bedrock Runtime, DynamoDB) over TLS with SigV4 and reaches no VPC resource; placing it in a VPC would add NAT or interface endpoints without reducing exposure.',
    );
    this.fn = fn;
    this.logGroup = logGroup;
  }
}
