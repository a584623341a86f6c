import { Stack } from 'aws-cdk-lib';
import { keyAdministrationStatement, logsServiceStatement } from '../../../lib/constructs/key-policies';
import { actionCovers, asArray, flatten, testApp } from '../template-utils';

describe('key policies', () => {
  it('keyAdministrationStatement gives the account root administration and deletion, but no cryptographic use', () => {
    const stack = new Stack(testApp(), 'Admin');
    const json = stack.resolve(keyAdministrationStatement().toStatementJson()) as {
      Action: string[];
      Principal: { AWS: unknown };
    };
    expect(flatten(json.Principal.AWS)).toBe('arn:<AWS::Partition>:iam::<AWS::AccountId>:root');
    expect(json.Action).toEqual(expect.arrayContaining(['kms:ScheduleKeyDeletion', 'kms:Put*', 'kms:Disable*']));
    const crypto = [
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'kms:GenerateDataKeyWithoutPlaintext',
      'kms:ReEncryptFrom',
      'kms:CreateGrant',
    ];
    for (const c of crypto) expect(asArray(json.Action).filter((a) => actionCovers(a, c))).toEqual([]);
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
});
