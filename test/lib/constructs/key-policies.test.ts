import { Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { accountWideKeyUse } from '../../../lib/compliance/switchboard-checks';
import {
  cloudWatchAlarmsStatement,
  keyAdministrationStatement,
  logsServiceStatement,
  serviceIntegrationStatements,
} from '../../../lib/constructs/key-policies';
import { actionCovers, asArray, flatten, type StatementJson, testApp } from '../template-utils';

const resolved = (stack: Stack, st: { toStatementJson(): unknown }) =>
  stack.resolve(st.toStatementJson()) as StatementJson & { Condition?: Record<string, Record<string, unknown>> };

const CRYPTO = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:CreateGrant',
];

describe('key policies', () => {
  it('keyAdministrationStatement gives administration (PutKeyPolicy too) only to the deploy role, named admins and the root user', () => {
    const stack = new Stack(testApp(), 'Admin', { env: { account: '111122223333', region: 'us-east-1' } });
    const json = resolved(stack, keyAdministrationStatement(stack, ['security/KeyAdmins']));
    expect(flatten((json.Principal as { AWS: unknown }).AWS)).toBe('arn:<AWS::Partition>:iam::111122223333:root');
    expect(json.Action).toEqual(expect.arrayContaining(['kms:ScheduleKeyDeletion', 'kms:Put*', 'kms:Disable*']));
    for (const c of CRYPTO) expect(asArray(json.Action).filter((a) => actionCovers(a, c))).toEqual([]);
    const who = asArray(json.Condition?.ArnEquals?.['aws:PrincipalArn']).map((v) =>
      flatten((v as { 'Fn::Sub'?: unknown })['Fn::Sub'] ?? v),
    );
    expect(who).toEqual([
      // CloudFormation creates the key through the CDK deploy role, and updates its policy on every deploy.
      ['arn:$', '{AWS::Partition}:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-us-east-1'].join(''),
      'arn:<AWS::Partition>:iam::111122223333:role/security/KeyAdmins',
      'arn:<AWS::Partition>:iam::111122223333:root',
    ]);
  });

  it('serviceIntegrationStatements let the account use the key only through DynamoDB, grants only for AWS resources', () => {
    const stack = new Stack(testApp(), 'Ddb', { env: { account: '111122223333', region: 'eu-west-1' } });
    const [use, grant, describe] = serviceIntegrationStatements(stack, 'dynamodb').map((s) => resolved(stack, s));
    for (const st of [use!, grant!]) {
      expect(flatten((st.Principal as { AWS: unknown }).AWS)).toBe('arn:<AWS::Partition>:iam::111122223333:root');
      expect(st.Condition?.StringEquals).toEqual({
        'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com',
        'kms:CallerAccount': '111122223333',
      });
    }
    expect(asArray(use!.Action).some((a) => actionCovers(a, 'kms:CreateGrant'))).toBe(false);
    expect(grant!.Action).toBe('kms:CreateGrant');
    expect(grant!.Condition?.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
    expect(describe!.Principal).toEqual({ Service: 'dynamodb.amazonaws.com' });
    for (const c of CRYPTO) expect(asArray(describe!.Action).some((a) => actionCovers(a, c))).toBe(false);
  });

  it('serviceIntegrationStatements for AWS Backup name the backup endpoint of the stack region', () => {
    const stack = new Stack(testApp(), 'Bk', { env: { account: '111122223333', region: 'us-west-2' } });
    const statements = serviceIntegrationStatements(stack, 'backup').map((s) => resolved(stack, s));
    expect(statements).toHaveLength(2);
    for (const st of statements) {
      expect(st.Condition?.StringEquals?.['kms:ViaService']).toBe('backup.us-west-2.amazonaws.com');
    }
  });

  it('the Switchboard rule accepts every statement these helpers write', () => {
    const stack = new Stack(testApp(), 'Rule', { env: { account: '111122223333', region: 'us-east-1' } });
    const all = [
      keyAdministrationStatement(stack, ['KeyAdmins']),
      ...serviceIntegrationStatements(stack, 'dynamodb'),
      ...serviceIntegrationStatements(stack, 'backup'),
      logsServiceStatement(stack),
      cloudWatchAlarmsStatement(stack),
    ];
    for (const st of all)
      expect(accountWideKeyUse(resolved(stack, st) as unknown as Record<string, unknown>)).toBeUndefined();
  });

  it('the Switchboard rule catches direct use, wildcard services, open grants and an open PutKeyPolicy', () => {
    const root = { AWS: 'arn:aws:iam::111122223333:root' };
    const cases: Array<[string, Record<string, unknown>]> = [
      ['direct decrypt', { Effect: 'Allow', Principal: root, Action: 'kms:Decrypt' }],
      ['kms:* for everyone', { Effect: 'Allow', Principal: '*', Action: 'kms:*' }],
      ['action "*"', { Effect: 'Allow', Principal: root, Action: '*' }],
      [
        'a wildcard service',
        {
          Effect: 'Allow',
          Principal: root,
          Action: 'kms:Decrypt',
          Condition: { StringLike: { 'kms:ViaService': '*.amazonaws.com' } },
        },
      ],
      [
        'ViaService with a wildcard in StringEquals',
        {
          Effect: 'Allow',
          Principal: root,
          Action: 'kms:Decrypt',
          Condition: { StringEquals: { 'kms:ViaService': '*' } },
        },
      ],
      [
        'grants for anything through a service',
        {
          Effect: 'Allow',
          Principal: root,
          Action: 'kms:CreateGrant',
          Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } },
        },
      ],
      ['kms:Put* for the account', { Effect: 'Allow', Principal: root, Action: ['kms:Describe*', 'kms:Put*'] }],
      ['NotAction for the account', { Effect: 'Allow', Principal: root, NotAction: ['kms:PutKeyPolicy'] }],
      [
        'use through a service that encrypts anything the caller asks (SSM SecureString)',
        {
          Effect: 'Allow',
          Principal: root,
          Action: 'kms:Decrypt',
          Condition: { StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' } },
        },
      ],
      [
        'kms:PutKeyPolicy for any principal ARN',
        {
          Effect: 'Allow',
          Principal: root,
          Action: 'kms:PutKeyPolicy',
          Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:*' } },
        },
      ],
    ];
    for (const [name, st] of cases) expect([name, accountWideKeyUse(st)]).toEqual([name, expect.any(String)]);
  });

  it('logsServiceStatement limits CloudWatch Logs to log groups of the stack account and region', () => {
    const stack = new Stack(testApp(), 'S', { env: { account: '111122223333', region: 'ap-southeast-2' } });
    const json = stack.resolve(logsServiceStatement(stack).toStatementJson()) as {
      Principal: unknown;
      Condition: { ArnLike: Record<string, unknown> };
    };
    expect(json.Principal).toEqual({ Service: 'logs.ap-southeast-2.amazonaws.com' });
    expect(flatten(json.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn'])).toBe(
      'arn:<AWS::Partition>:logs:ap-southeast-2:111122223333:log-group:*',
    );
  });

  it("a key built with CDK's default policy is caught by the rule (the root statement allows kms:*)", () => {
    const stack = new Stack(testApp(), 'Default');
    const key = new kms.Key(stack, 'Key');
    const policy = stack.resolve((key.node.defaultChild as kms.CfnKey).keyPolicy) as { Statement: unknown[] };
    expect(policy.Statement.map((s) => accountWideKeyUse(s as Record<string, unknown>))).toContain(
      'gives the account cryptographic use not limited to the services that encrypt with the key (kms:ViaService: dynamodb, backup, bedrock)',
    );
  });
});
