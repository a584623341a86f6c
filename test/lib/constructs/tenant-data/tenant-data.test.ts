import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ManagedPolicyRole } from '../../../../lib/constructs/iam/managed-policy-role';
import { TenantData } from '../../../../lib/constructs/tenant-data/tenant-data';
import { asArray, flatten, statementsOf, testApp } from '../../template-utils';

function build(withBackup: boolean) {
  const stack = new Stack(testApp(), 'DataTest', { env: { region: 'eu-west-1' } });
  const backupRole = withBackup
    ? new iam.Role(stack, 'BackupRole', { assumedBy: new iam.ServicePrincipal('backup.amazonaws.com') })
    : undefined;
  const data = new TenantData(stack, 'Data', {
    tenantId: 'demo',
    backup: backupRole ? { plan: backup.BackupPlan.daily35DayRetention(stack, 'Plan'), role: backupRole } : undefined,
  });
  return { stack, data };
}

const keyPolicy = (t: Template) => {
  const [key] = Object.values(t.findResources('AWS::KMS::Key'));
  return statementsOf(key!.Properties.KeyPolicy);
};
const principalsWithDecrypt = (t: Template) =>
  keyPolicy(t)
    .filter((s) => asArray(s.Action).includes('kms:Decrypt'))
    .map((s) => flatten((s.Principal as { AWS?: unknown }).AWS));

describe('TenantData', () => {
  it('names the key alias after the tenant', () => {
    Template.fromStack(build(false).stack).hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/switchboard/tenant/demo',
    });
  });

  it('lets CloudWatch Logs of its own region and account use the key, for log groups only', () => {
    const logs = keyPolicy(Template.fromStack(build(false).stack)).find(
      (s) => s.Sid === 'CloudWatchLogsForThisAccount',
    );
    expect(logs?.Principal).toEqual({ Service: 'logs.eu-west-1.amazonaws.com' });
    const arn = (logs!.Condition as { ArnLike: Record<string, unknown> }).ArnLike['kms:EncryptionContext:aws:logs:arn'];
    expect(flatten(arn)).toBe('arn:<AWS::Partition>:logs:eu-west-1:<AWS::AccountId>:log-group:*');
  });

  it('without a backup plan creates no backup selection and names nobody in the key policy', () => {
    const t = Template.fromStack(build(false).stack);
    t.resourceCountIs('AWS::Backup::BackupSelection', 0);
    expect(principalsWithDecrypt(t)).toEqual([]);
  });

  it('with a backup plan selects the table and lets the backup role use the key through the key policy', () => {
    const t = Template.fromStack(build(true).stack);
    const [tableId] = Object.keys(t.findResources('AWS::DynamoDB::Table'));
    const [roleId] = Object.keys(t.findResources('AWS::IAM::Role'));
    t.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: {
        IamRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
        Resources: [{ 'Fn::GetAtt': [tableId, 'Arn'] }],
      },
    });
    expect(principalsWithDecrypt(t)).toEqual([`<${roleId}.Arn>`]);
    // The backup role's own IAM policy is left alone (it lives in the platform stack in the app).
    t.resourceCountIs('AWS::IAM::Policy', 0);
  });

  it('grantLedgerReadWrite gives item reads and writes on the table (no scans, no deletes) and key use in both policies', () => {
    const { stack, data } = build(false);
    const role = new ManagedPolicyRole(stack, 'Fn', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'test',
    });
    data.grantLedgerReadWrite(role);
    const t = Template.fromStack(stack);
    const [tableId] = Object.keys(t.findResources('AWS::DynamoDB::Table'));
    const [keyId] = Object.keys(t.findResources('AWS::KMS::Key'));
    const [roleId] = Object.keys(t.findResources('AWS::IAM::Role'));
    const statements = Object.values(t.findResources('AWS::IAM::ManagedPolicy')).flatMap((p) =>
      statementsOf(p.Properties.PolicyDocument),
    );
    const ddb = statements.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(ddb.flatMap((s) => asArray(s.Action)).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(ddb.flatMap((s) => asArray(s.Resource as unknown[])).map(flatten)).toEqual([
      `<${tableId}.Arn>`,
      `<${tableId}.Arn>/index/gsi1`,
    ]);
    const kmsUse = statements.filter((s) => asArray(s.Action).includes('kms:Decrypt'));
    expect(kmsUse.flatMap((s) => asArray(s.Resource as unknown[])).map(flatten)).toEqual([`<${keyId}.Arn>`]);
    expect(principalsWithDecrypt(t)).toEqual([`<${roleId}.Arn>`]);
  });
});
