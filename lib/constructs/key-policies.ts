/**
 * Key policy statements shared by the platform key and every tenant key.
 *
 * The shape follows AWS's guidance for customer managed keys of service-integrated resources: administration
 * only for named principals, cryptographic use by the account only *through* the services that encrypt with
 * the key (`kms:ViaService`), grants only for AWS resources (`kms:GrantIsForAWSResource`), and direct use only
 * for the roles named in the key policy.
 */
import { DefaultStackSynthesizer, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';

/** Where the statements below come from (cited in the deploy-readiness rules and the README). */
export const KEY_POLICY_SOURCES = {
  dynamodb: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html',
  backup: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html',
  bedrock: 'https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-kms.html',
  grants:
    'https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource',
  lockout: 'https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#prevent-unmanageable-key',
  controlTower: 'https://docs.aws.amazon.com/controltower/latest/controlreference/kms-rules.html',
  /** The aws:SourceAccount / aws:SourceArn guard CloudWatch Logs documents for delivery.logs.amazonaws.com on a key. */
  logDelivery: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html',
  /** Why AWS Backup's role may use the vault key only through AWS Backup. */
  backupViaService:
    'https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service',
} as const;

/** Services that encrypt a resource with a customer managed key on the caller's behalf (Bedrock: guardrails). */
export type KeyIntegratedService = 'dynamodb' | 'backup' | 'bedrock';

/** Administrative key actions: no Encrypt, Decrypt, GenerateDataKey or CreateGrant. */
const ADMIN_ACTIONS = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RotateKeyOnDemand',
];

/**
 * The principals that may administer Switchboard keys, as ARNs for an `aws:PrincipalArn` condition:
 * - the CloudFormation execution role of the CDK bootstrap (`cdk-…-cfn-exec-role-…`), which CloudFormation runs
 *   as: it creates the key, so KMS's lockout check requires it to be able to change the policy, and every later
 *   deploy updates the policy through it. Whoever may deploy through the bootstrap roles may therefore change key
 *   policies: restrict who may assume the bootstrap's deploy role (`cdk bootstrap --trust`, IAM);
 * - the roles named in the platform configuration (`keyAdminRoles`);
 * - the account's root user: break-glass, for when the roles above are gone (sign in as root, fix the policy).
 */
function keyAdministratorArns(scope: IConstruct, adminRoles: readonly string[]): string[] {
  const stack = Stack.of(scope);
  return [
    cloudFormationExecutionRoleArn(scope),
    ...roleArns(scope, adminRoles),
    `arn:${stack.partition}:iam::${stack.account}:root`,
  ];
}

/** The CloudFormation execution role of the CDK bootstrap (what CloudFormation runs as), as an ARN. */
export function cloudFormationExecutionRoleArn(scope: IConstruct): string {
  const stack = Stack.of(scope);
  if (!(stack.synthesizer instanceof DefaultStackSynthesizer)) {
    // Without the CloudFormation execution role in the policy, KMS's lockout check refuses to create the key.
    throw new Error(
      `${stack.stackName}: key administration names the CloudFormation execution role of the CDK bootstrap; use the DefaultStackSynthesizer (another synthesizer has no such role to name)`,
    );
  }
  // `${AWS::Partition}`-style placeholders: resolved by Fn::Sub.
  return Fn.sub(stack.synthesizer.cloudFormationExecutionRoleArn);
}

/** ARNs of IAM roles of the stack's account, by name with optional path (`security/KeyAdmins`). */
export function roleArns(scope: IConstruct, names: readonly string[]): string[] {
  const stack = Stack.of(scope);
  return names.map((name) => `arn:${stack.partition}:iam::${stack.account}:role/${name}`);
}

/**
 * Named principals (`aws:PrincipalArn`, no wildcard) may use the key through Secrets Manager, for the secrets
 * whose ARN matches `secretArnPattern` only: Secrets Manager encrypts and decrypts a secret with the caller's
 * permissions (`kms:GenerateDataKey` to store a value, `kms:Decrypt` to read it) under the encryption context
 * `SecretARN`. Nobody else in the account may use the key through Secrets Manager. Source:
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html#security-encryption-authz
 */
export function secretsManagerStatement(
  scope: IConstruct,
  sid: string,
  principalArns: readonly string[],
  secretArnPattern: string,
): iam.PolicyStatement {
  const stack = Stack.of(scope);
  return new iam.PolicyStatement({
    sid,
    principals: [new iam.AccountRootPrincipal()],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
    resources: ['*'],
    conditions: {
      StringEquals: {
        'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com`,
        'kms:CallerAccount': stack.account,
      },
      StringLike: { 'kms:EncryptionContext:SecretARN': secretArnPattern },
      ArnEquals: { 'aws:PrincipalArn': [...principalArns] },
    },
  });
}

/**
 * Key administration (including `kms:PutKeyPolicy`) for the key administrators only: the account root is the
 * principal (so the administrators' IAM policies must allow it too) and `aws:PrincipalArn` names who. Without
 * that condition any principal given `kms:PutKeyPolicy` by IAM could rewrite the policy and use the key.
 */
export function keyAdministrationStatement(scope: IConstruct, adminRoles: readonly string[] = []): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'KeyAdministrationByNamedAdmins',
    principals: [new iam.AccountRootPrincipal()],
    actions: ADMIN_ACTIONS,
    resources: ['*'],
    conditions: { ArnEquals: { 'aws:PrincipalArn': keyAdministratorArns(scope, adminRoles) } },
  });
}

/**
 * The account's principals may use the key only through `service` (DynamoDB for a table, AWS Backup for a
 * vault): they need the service's permissions on the resource and KMS permissions in IAM, and then the
 * service encrypts and decrypts for them and creates the grants it needs for the resource. Direct use
 * (`kms:Decrypt` from the CLI) is not covered. CloudFormation creating the table or vault relies on this.
 */
export function serviceIntegrationStatements(scope: IConstruct, service: KeyIntegratedService): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const name = ({ dynamodb: 'DynamoDb', backup: 'Backup', bedrock: 'Bedrock' } as const)[service];
  const via = { 'kms:ViaService': `${service}.${stack.region}.amazonaws.com`, 'kms:CallerAccount': stack.account };
  const statements = [
    new iam.PolicyStatement({
      sid: `${name}UsesKeyForAccount`,
      principals: [new iam.AccountRootPrincipal()],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringEquals: via },
    }),
    new iam.PolicyStatement({
      sid: `${name}CreatesGrantsForAwsResources`,
      principals: [new iam.AccountRootPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { StringEquals: via, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
  ];
  if (service === 'dynamodb') {
    // DynamoDB reads the key's metadata itself (documented in the DynamoDB encryption usage notes).
    statements.push(
      new iam.PolicyStatement({
        sid: 'DynamoDbReadsKeyMetadata',
        principals: [new iam.ServicePrincipal('dynamodb.amazonaws.com')],
        actions: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
        resources: ['*'],
      }),
    );
  }
  return statements;
}

/** CloudWatch Logs may use the key for log groups of this account and region only. */
export function logsServiceStatement(scope: IConstruct): iam.PolicyStatement {
  const stack = Stack.of(scope);
  return new iam.PolicyStatement({
    sid: 'CloudWatchLogsForThisAccount',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
      },
    },
  });
}

/**
 * CloudWatch alarms may use the key to publish to topics it encrypts (an alarm action on a KMS-encrypted SNS
 * topic fails silently without this), for alarms of this account only. Only `kms:Decrypt` and
 * `kms:GenerateDataKey*`, as the SNS documentation for AWS service event sources prescribes; the topic policy
 * still decides who may publish.
 */
export function cloudWatchAlarmsStatement(scope: IConstruct): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'AllowCloudWatchAlarmsToUseKey',
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
  });
}

/** The service principal of CloudWatch Logs' vended log delivery (Step Functions logs are delivered by it). */
const LOG_DELIVERY_SERVICE = 'delivery.logs.amazonaws.com';

/**
 * The confused-deputy guard CloudWatch Logs documents for `delivery.logs.amazonaws.com` in a key policy: deliveries
 * of this account (`aws:SourceAccount`) whose source is a log delivery of this account and region
 * (`aws:SourceArn` `arn:…:logs:<region>:<account>:*`). {@link KEY_POLICY_SOURCES.logDelivery}
 */
function logDeliverySourceConditions(scope: IConstruct): Record<string, Record<string, unknown>> {
  const stack = Stack.of(scope);
  return {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:*` },
  };
}

/**
 * `key` as a construct that adds its own log-delivery statement should see it (a Step Functions state machine
 * with encrypted logs adds `kms:Decrypt*` for {@link LOG_DELIVERY_SERVICE} without any condition): every statement
 * it adds for that service gets {@link logDeliverySourceConditions}; everything else passes through unchanged.
 */
export function withLogDeliveryGuard(key: kms.IKey): kms.IKey {
  const guard = (statement: iam.PolicyStatement) => {
    const forDelivery = statement.principals.some(
      (p) => p instanceof iam.ServicePrincipal && p.service === LOG_DELIVERY_SERVICE,
    );
    if (forDelivery) statement.addConditions(logDeliverySourceConditions(key));
    return statement;
  };
  return new Proxy(key, {
    get(target, prop) {
      if (prop === 'addToResourcePolicy') {
        return (statement: iam.PolicyStatement, allowNoOp?: boolean) =>
          target.addToResourcePolicy(guard(statement), allowNoOp);
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
