import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeInPacks, acknowledgeInRegulatedPacks } from '../../compliance/acknowledge';
import { HANDLER_RUNTIME, type HandlerName, handlerCode } from '../bundling';
import { ManagedPolicyRole } from '../iam/managed-policy-role';

/** Props of {@link TenantFunction}. */
export interface TenantFunctionProps {
  readonly tenantId: string;
  /** Which bundle under `lambda/` runs. */
  readonly handler: HandlerName;
  /** One line on what the function does (description, role description). */
  readonly purpose: string;
  /** The tenant key (log group, dead-letter topic). */
  readonly key: kms.IKey;
  /** Shared customer-managed policies to attach (X-Ray). */
  readonly sharedPolicies: readonly iam.IManagedPolicy[];
  readonly environment: Record<string, string>;
  /**
   * What the function calls, as a phrase ("Bedrock Runtime and DynamoDB"): the reason it needs no VPC, as
   * the compliance report states it.
   */
  readonly calls: string;
  /**
   * Reserved concurrency. Every reservation comes out of the account's concurrency quota (1,000 by default, of
   * which 100 must stay unreserved), so the capacity model counts it; reserve only where a plan needs a
   * guaranteed share.
   * @default - unreserved (the API usage plan's throttle bounds the traffic)
   */
  readonly reservedConcurrency?: number;
  /** @default 512 */
  readonly memoryMb?: number;
  /** @default Duration.seconds(29) */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A tenant's Lambda function as every Switchboard function is built: the shared esbuild bundle of its
 * handler, Node.js 24 on arm64, X-Ray, its own role whose permissions live in a customer-managed policy,
 * a KMS-encrypted log group, a KMS-encrypted dead-letter topic, reserved concurrency where asked. Permissions beyond
 * its logs and dead letters are added by the owner (`addStatements`, or grants on `grantPrincipal`).
 */
export class TenantFunction extends Construct implements iam.IGrantable {
  readonly fn: lambda.Function;
  readonly logGroup: logs.ILogGroup;
  readonly grantPrincipal: iam.IPrincipal;
  protected readonly role: ManagedPolicyRole;

  constructor(scope: Construct, id: string, props: TenantFunctionProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(29);
    if (props.reservedConcurrency !== undefined && props.reservedConcurrency < 1) {
      throw new Error(`${this.node.path}: reservedConcurrency: ${props.reservedConcurrency} must be at least 1`);
    }
    this.role = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Switchboard ${props.tenantId}: ${props.purpose}`,
      sharedPolicies: props.sharedPolicies,
    });
    this.grantPrincipal = this.role.grantPrincipal;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.key,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const dlq = new sns.Topic(this, 'DeadLetters', {
      displayName: `Switchboard ${props.tenantId} ${props.handler} dead letters`,
      masterKey: props.key,
      enforceSSL: true,
    });
    const fn = new lambda.Function(this, 'Function', {
      description: `Switchboard ${props.tenantId}: ${props.purpose}`,
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: handlerCode(props.handler),
      memorySize: props.memoryMb ?? 512,
      timeout,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrency,
      role: this.role.boundRole,
      logGroup,
      deadLetterTopic: dlq,
      environment: { ...props.environment, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    fn.node.addDependency(this.role.policy);
    // What the bound role cannot receive automatically, written out: logs and dead letters.
    this.role.addStatements(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
      new iam.PolicyStatement({ sid: 'PublishDeadLetters', actions: ['sns:Publish'], resources: [dlq.topicArn] }),
    );
    acknowledgeInRegulatedPacks(
      fn,
      'LambdaInsideVPC',
      `The function calls ${props.calls}, over TLS, and reaches no VPC resource: a VPC would add a NAT gateway or interface endpoints and no private resource to protect.`,
    );
    if (props.reservedConcurrency === undefined) {
      acknowledgeInPacks(
        fn,
        ['HIPAA.Security', 'NIST.800.53.R5'],
        'LambdaConcurrency',
        "Unreserved on purpose: every reservation is taken from the account's concurrency quota (1,000 by default, 100 of which must stay unreserved; new accounts have less), so reserving for every tenant function would cap the fleet at a few dozen tenants. The tenant API's usage plan throttle bounds this function's traffic; plans that need a guaranteed share reserve it (lambda.reservedConcurrency), and the capacity model counts what is reserved.",
      );
    }
    this.fn = fn;
    this.logGroup = logGroup;
  }

  /** The ARN of the function's role (for key policy conditions). */
  get roleArn(): string {
    return this.role.role.roleArn;
  }

  /** Adds statements to the function's own managed policy. */
  addStatements(...statements: iam.PolicyStatement[]): void {
    this.role.addStatements(...statements);
  }
}
