/** Key policy statements shared by the platform key and every tenant key. */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Key administration for the account root, without cryptographic use: nobody can encrypt or decrypt
 * with the key unless the key policy names them.
 */
export function keyAdministrationStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'KeyAdministrationByAccount',
    principals: [new iam.AccountRootPrincipal()],
    actions: [
      // Not kms:Create*: that includes kms:CreateGrant, with which a principal could grant itself key use.
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
    ],
    resources: ['*'],
  });
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
 * topic fails silently without this). Only `kms:Decrypt` and `kms:GenerateDataKey*`, as the SNS documentation
 * for AWS service event sources prescribes; the topic policy still decides who may publish.
 */
export function cloudWatchAlarmsStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'AllowCloudWatchAlarmsToUseKey',
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
  });
}
