import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { LEDGER_WRITERS } from '../../../../lambda/shared/ledger-access';
import { ManagedPolicyRole } from '../../../../lib/constructs/iam/managed-policy-role';
import { LEDGER_BACKUP_TAG } from '../../../../lib/constructs/platform/backup';
import { TenantData } from '../../../../lib/constructs/tenant-data/tenant-data';
import { asArray, type CfnResourceJson, flatten, statementsOf, tagsOf, testApp } from '../../template-utils';

function build(withBackup: boolean) {
  const stack = new Stack(testApp(), 'DataTest', { env: { region: 'eu-west-1' } });
  const backupRole = withBackup
    ? new iam.Role(stack, 'BackupRole', { assumedBy: new iam.ServicePrincipal('backup.amazonaws.com') })
    : undefined;
  const data = new TenantData(stack, 'Data', {
    tenantId: 'demo',
    backupRole,
  });
  return { stack, data };
}

const keyPolicy = (t: Template) => {
  const [key] = Object.values(t.findResources('AWS::KMS::Key'));
  return statementsOf(key!.Properties.KeyPolicy);
};
/** `kms:ViaService` values of a statement (use only through those services). */
const viaService = (s: { Condition?: unknown }) =>
  asArray((s.Condition as { StringEquals?: Record<string, unknown> } | undefined)?.StringEquals?.['kms:ViaService']);
/** Principals that may decrypt directly (not only through a service). */
const principalsWithDecrypt = (t: Template) =>
  keyPolicy(t)
    .filter((s) => asArray(s.Action).includes('kms:Decrypt') && viaService(s).length === 0)
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

  it('without a backup role leaves the table out of AWS Backup and names nobody in the key policy', () => {
    const t = Template.fromStack(build(false).stack);
    const [table] = Object.values(t.findResources('AWS::DynamoDB::Table'));
    expect(tagsOf(table as CfnResourceJson)[LEDGER_BACKUP_TAG.key]).toBeUndefined();
    expect(principalsWithDecrypt(t)).toEqual([]);
    // The account (CloudFormation creating the table, principals with DynamoDB access) only through DynamoDB.
    const throughServices = keyPolicy(t).filter((s) => viaService(s).length > 0);
    expect(throughServices.flatMap(viaService).map(flatten)).toEqual([
      'dynamodb.eu-west-1.amazonaws.com',
      'dynamodb.eu-west-1.amazonaws.com',
    ]);
  });

  it('with a backup role tags the table into the platform selection and lets the role use the key only through DynamoDB and AWS Backup', () => {
    const t = Template.fromStack(build(true).stack);
    const [table] = Object.values(t.findResources('AWS::DynamoDB::Table'));
    const [roleId] = Object.keys(t.findResources('AWS::IAM::Role'));
    expect(tagsOf(table as CfnResourceJson)[LEDGER_BACKUP_TAG.key]).toBe(LEDGER_BACKUP_TAG.value);
    // One selection in the platform stack selects every tagged ledger: none per tenant.
    t.resourceCountIs('AWS::Backup::BackupSelection', 0);
    const backupUse = keyPolicy(t).filter((s) => flatten((s.Principal as { AWS?: unknown }).AWS) === `<${roleId}.Arn>`);
    expect(backupUse).toHaveLength(1);
    expect((backupUse[0]!.Condition as { StringEquals: unknown }).StringEquals).toEqual({
      'kms:ViaService': ['dynamodb.eu-west-1.amazonaws.com', 'backup.eu-west-1.amazonaws.com'],
    });
    // The backup role's own IAM policy is left alone (it lives in the platform stack in the app).
    t.resourceCountIs('AWS::IAM::Policy', 0);
  });

  it('grantLedgerReadWrite gives item reads, writes of the items the role owns only (no scans, no deletes) and key use in both policies', () => {
    const { stack, data } = build(false);
    const role = new ManagedPolicyRole(stack, 'Fn', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'test',
    });
    data.grantLedgerReadWrite(role, 'inference');
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
      `<${tableId}.Arn>`,
    ]);
    const write = ddb.find((s) => asArray(s.Action).includes('dynamodb:PutItem'))!;
    expect(write.Condition).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': LEDGER_WRITERS.inference.map((p) => `${p}*`),
      },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
    const kmsUse = statements.filter((s) => asArray(s.Action).includes('kms:Decrypt'));
    expect(kmsUse.flatMap((s) => asArray(s.Resource as unknown[])).map(flatten)).toEqual([`<${keyId}.Arn>`]);
    expect(principalsWithDecrypt(t)).toEqual([`<${roleId}.Arn>`]);
  });
});
