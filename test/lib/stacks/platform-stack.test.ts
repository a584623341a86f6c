import { Match, Template } from 'aws-cdk-lib/assertions';
import { PLANS } from '../../../lambda/shared/tenant-vocabulary';
import { accountWideKeyUse } from '../../../lib/compliance/switchboard-checks';
import {
  ALWAYS_BLOCKED_PII,
  GUARDRAIL_BLOCKED_MESSAGES,
  HARMFUL_CONTENT_FILTERS,
  PLAN_GUARDRAILS,
} from '../../../lib/config/guardrail-policy';
import { LEDGER_BACKUP_TAG } from '../../../lib/constructs/platform/backup';
import { planGuardrailName } from '../../../lib/constructs/platform/plan-guardrails';
import { PLATFORM_STACK_NAME } from '../../../lib/switchboard';
import { repoPlatformConfig, synthSwitchboard } from '../../support/synth';
import {
  asArray,
  flatten,
  onlyResource,
  props,
  resourcesOfType,
  statementsOf,
  type TemplateLike,
} from '../template-utils';

let raw: TemplateLike;
let t: Template;

beforeAll(() => {
  const synth = synthSwitchboard({ only: 'acme', compliance: false });
  raw = synth.template(PLATFORM_STACK_NAME) as unknown as TemplateLike;
  t = Template.fromJSON(raw as unknown as Record<string, unknown>);
});

/** The platform key (the stack also holds the guardrail key). */
const platformKey = () => resourcesOfType(raw, 'AWS::KMS::Key').find(([id]) => id.startsWith('PlatformKey'))!;
const keyId = () => platformKey()[0];
const keyArn = () => ({ 'Fn::GetAtt': [keyId(), 'Arn'] });

describe('PlatformStack', () => {
  describe('platform key', () => {
    it('is rotated and retained', () => {
      t.hasResource('AWS::KMS::Key', {
        Properties: Match.objectLike({ EnableKeyRotation: true }),
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it('gives the account no direct key use: administration by named principals, use only through services', () => {
      const statements = statementsOf(props(platformKey()[1]).KeyPolicy);
      expect(statements.map((st) => accountWideKeyUse(st as unknown as Record<string, unknown>))).toEqual(
        statements.map(() => undefined),
      );
      const admin = statements.find((st) => asArray(st.Action).includes('kms:Put*'));
      expect(Object.keys((admin!.Condition as { ArnEquals: object }).ArnEquals)).toEqual(['aws:PrincipalArn']);
      // AWS Backup creates the vault (and its grants) with this key on behalf of CloudFormation.
      const backupUse = statements.filter(
        (st) =>
          /:root$/.test(flatten((st.Principal as { AWS?: unknown })?.AWS)) &&
          JSON.stringify(st.Condition ?? {}).includes('"kms:ViaService":"backup.us-east-1.amazonaws.com"'),
      );
      expect(backupUse.flatMap((st) => asArray(st.Action)).sort()).toEqual([
        'kms:CreateGrant',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey*',
        'kms:ReEncrypt*',
      ]);
    });
  });

  it('encrypts the ops alarm topic with the platform key and retains it', () => {
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResource('AWS::SNS::Topic', {
      Properties: Match.objectLike({ KmsMasterKeyId: keyArn() }),
      DeletionPolicy: 'Retain',
    });
    // TLS only.
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('lets CloudWatch alarms use the platform key to publish to the encrypted topic', () => {
    const statements = statementsOf(props(platformKey()[1]).KeyPolicy);
    const cw = statements.find((s) => (s.Principal as { Service?: string })?.Service === 'cloudwatch.amazonaws.com');
    expect(asArray(cw?.Action)).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
  });

  describe('WAF', () => {
    it('is one regional web ACL with AWS managed rule groups and a per-IP rate rule that blocks', () => {
      t.resourceCountIs('AWS::WAFv2::WebACL', 1);
      const [, acl] = onlyResource(raw, 'AWS::WAFv2::WebACL');
      expect(props(acl).Scope).toBe('REGIONAL');
      const rules = props(acl).Rules as Array<{
        Statement: { ManagedRuleGroupStatement?: { VendorName: string; Name: string }; RateBasedStatement?: unknown };
        Action?: unknown;
        Priority: number;
      }>;
      const managed = rules.filter((r) => r.Statement.ManagedRuleGroupStatement);
      expect(managed.map((r) => r.Statement.ManagedRuleGroupStatement!.Name)).toEqual(
        expect.arrayContaining(['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet']),
      );
      for (const r of managed) expect(r.Statement.ManagedRuleGroupStatement!.VendorName).toBe('AWS');
      const rate = rules.filter((r) => r.Statement.RateBasedStatement);
      expect(rate).toHaveLength(3);
      // Per client: IP address and API key together, at the configured limit.
      expect(rate[0]).toMatchObject({
        Action: { Block: {} },
        Statement: {
          RateBasedStatement: {
            AggregateKeyType: 'CUSTOM_KEYS',
            CustomKeys: [{ IP: {} }, { Header: { Name: 'x-api-key' } }],
            Limit: repoPlatformConfig().waf.requestsPer5MinPerClient,
          },
        },
      });
      // Per IP address whatever key it sends: random keys open no new bucket.
      expect(rate[1]).toMatchObject({
        Action: { Block: {} },
        Statement: {
          RateBasedStatement: { AggregateKeyType: 'IP', Limit: repoPlatformConfig().waf.requestsPer5MinPerIp },
        },
      });
      expect((rate[1]!.Statement.RateBasedStatement as Record<string, unknown>).ScopeDownStatement).toBeUndefined();
      // Without an API key: per IP address, stricter.
      expect(rate[2]).toMatchObject({
        Action: { Block: {} },
        Statement: {
          RateBasedStatement: {
            AggregateKeyType: 'IP',
            Limit: repoPlatformConfig().waf.unauthenticatedRequestsPer5MinPerIp,
            ScopeDownStatement: { NotStatement: expect.any(Object) },
          },
        },
      });
      expect(new Set(rules.map((r) => r.Priority)).size).toBe(rules.length);
    });

    it('logs to an encrypted aws-waf-logs-* log group and redacts the API key header', () => {
      const [aclId] = onlyResource(raw, 'AWS::WAFv2::WebACL');
      const [, logging] = onlyResource(raw, 'AWS::WAFv2::LoggingConfiguration');
      expect(props(logging).ResourceArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
      expect(props(logging).RedactedFields).toEqual([{ SingleHeader: { Name: 'x-api-key' } }]);
      const dest = asArray(props(logging).LogDestinationConfigs as unknown[]).map(flatten);
      expect(dest).toHaveLength(1);
      // The ARN WAF needs has no ':*' suffix: the log group's name in a formatted ARN, not GetAtt Arn.
      expect(dest[0]).toMatch(/^arn:<AWS::Partition>:logs:us-east-1:<AWS::AccountId>:log-group:<.+>$/);
      expect(dest[0]).not.toMatch(/:\*$/);
      const groupId = dest[0]!.replace(/^.*log-group:<(.+)>$/, '$1');
      const group = raw.Resources[groupId]!;
      expect(group.Type).toBe('AWS::Logs::LogGroup');
      // The aws-waf-logs- prefix WAF requires, and a suffix new with every stack (the group is retained).
      expect(flatten(props(group).LogGroupName)).toMatch(/^aws-waf-logs-switchboard-.*AWS::StackId/);
      expect(props(group).KmsKeyId).toEqual(keyArn());
      expect(props(group).RetentionInDays).toEqual(expect.any(Number));
    });
  });

  describe('backup', () => {
    it('keeps recovery points in a retained vault encrypted with the platform key', () => {
      t.hasResource('AWS::Backup::BackupVault', {
        Properties: Match.objectLike({ EncryptionKeyArn: keyArn() }),
        DeletionPolicy: 'Retain',
      });
    });

    it('has a plan whose rules target the vault and expire recovery points', () => {
      const [vaultId] = onlyResource(raw, 'AWS::Backup::BackupVault');
      const [, plan] = onlyResource(raw, 'AWS::Backup::BackupPlan');
      const rules = (props(plan).BackupPlan as { BackupPlanRule: Array<Record<string, unknown>> }).BackupPlanRule;
      expect(rules.length).toBeGreaterThanOrEqual(1);
      for (const r of rules) {
        expect(r.TargetBackupVault).toEqual({ 'Fn::GetAtt': [vaultId, 'BackupVaultName'] });
        expect((r.Lifecycle as { DeleteAfterDays: number }).DeleteAfterDays).toBeGreaterThan(0);
        expect(r.ScheduleExpression).toMatch(/^cron\(/);
      }
    });

    it('has a backup service role that may use the vault key, only through AWS Backup', () => {
      const [roleId] = resourcesOfType(raw, 'AWS::IAM::Role').find(([, r]) =>
        JSON.stringify(props(r).AssumeRolePolicyDocument).includes('backup.amazonaws.com'),
      )!;
      const statements = statementsOf(props(platformKey()[1]).KeyPolicy);
      const forRole = statements.filter((s) => flatten((s.Principal as { AWS?: unknown })?.AWS) === `<${roleId}.Arn>`);
      expect(forRole.flatMap((s) => asArray(s.Action))).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt']));
      for (const s of forRole) {
        expect((s.Condition as { StringEquals?: Record<string, unknown> }).StringEquals?.['kms:ViaService']).toBe(
          'backup.us-east-1.amazonaws.com',
        );
      }
    });

    it('trusts AWS Backup with its role only on behalf of this account (confused-deputy guard)', () => {
      const [, role] = resourcesOfType(raw, 'AWS::IAM::Role').find(([, r]) =>
        JSON.stringify(props(r).AssumeRolePolicyDocument).includes('backup.amazonaws.com'),
      )!;
      const trust = statementsOf(props(role).AssumeRolePolicyDocument);
      expect(trust).toHaveLength(1);
      const cond = trust[0]!.Condition as Record<string, Record<string, unknown>>;
      expect(flatten(cond.StringEquals?.['aws:SourceAccount'])).toBe('<AWS::AccountId>');
    });

    it('selects every tenant ledger with one selection: DynamoDB tables of this account and region carrying the backup tag', () => {
      const [planId] = onlyResource(raw, 'AWS::Backup::BackupPlan');
      const [, selection] = onlyResource(raw, 'AWS::Backup::BackupSelection');
      const sel = props(selection).BackupSelection as Record<string, unknown>;
      expect(props(selection).BackupPlanId).toEqual({ 'Fn::GetAtt': [planId, 'BackupPlanId'] });
      expect(asArray(sel.Resources as unknown[]).map(flatten)).toEqual([
        'arn:<AWS::Partition>:dynamodb:us-east-1:<AWS::AccountId>:table/*',
      ]);
      // Conditions are ANDed with Resources (ListOfTags would be ORed with them and select every table).
      expect(sel.ListOfTags).toBeUndefined();
      expect(sel.Conditions).toEqual({
        StringEquals: [
          { ConditionKey: `aws:ResourceTag/${LEDGER_BACKUP_TAG.key}`, ConditionValue: LEDGER_BACKUP_TAG.value },
        ],
      });
    });
  });

  it('leaves the account-wide API Gateway CloudWatch role alone unless apiGatewayAccountRole is "manage"', () => {
    expect(repoPlatformConfig().apiGatewayAccountRole).toBe('existing');
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('with apiGatewayAccountRole "manage", sets the account-wide API Gateway CloudWatch role, scoped to API-Gateway-* log groups', () => {
    const raw = synthSwitchboard({
      only: 'acme',
      compliance: false,
      platform: { apiGatewayAccountRole: 'manage' },
    }).template(PLATFORM_STACK_NAME) as unknown as TemplateLike;
    const [, account] = onlyResource(raw, 'AWS::ApiGateway::Account');
    const roleId = flatten(props(account).CloudWatchRoleArn).replace(/^<(.+)\.Arn>$/, '$1');
    const role = raw.Resources[roleId]!;
    const trust = statementsOf(props(role).AssumeRolePolicyDocument);
    expect(trust.map((s) => s.Principal)).toEqual([{ Service: 'apigateway.amazonaws.com' }]);
    // A confused-deputy guard API Gateway cannot trip if it does not send the key (AWS does not document it).
    const cond = trust[0]!.Condition as Record<string, Record<string, unknown>>;
    expect(flatten(cond.StringEqualsIfExists?.['aws:SourceAccount'])).toBe('<AWS::AccountId>');
    const policy = resourcesOfType(raw, 'AWS::IAM::ManagedPolicy').find(([, p]) =>
      asArray(props(p).Roles as unknown[]).some((r) => flatten(r) === `<${roleId}>`),
    );
    expect(policy).toBeDefined();
    const writes = statementsOf(props(policy![1]).PolicyDocument).filter((s) =>
      asArray(s.Action).includes('logs:PutLogEvents'),
    );
    expect(writes.flatMap((s) => asArray(s.Resource as unknown[])).map(flatten)).toEqual([
      'arn:<AWS::Partition>:logs:us-east-1:<AWS::AccountId>:log-group:API-Gateway-*',
    ]);
  });

  it('shares two policies holding only the actions that accept no resource: X-Ray (tracing) and state machine log delivery', () => {
    const actionsOf = (prefix: string) => {
      const found = resourcesOfType(raw, 'AWS::IAM::ManagedPolicy').filter(([id]) => id.startsWith(prefix));
      expect(found).toHaveLength(1);
      return statementsOf(props(found[0]![1]).PolicyDocument)
        .flatMap((s) => asArray(s.Action))
        .sort();
    };
    expect(actionsOf('RuntimePoliciesTracingPolicy')).toEqual([
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(actionsOf('RuntimePoliciesStateMachineLogDeliveryPolicy')).toEqual([
      'logs:CreateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:DescribeLogGroups',
      'logs:DescribeResourcePolicies',
      'logs:GetLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:UpdateLogDelivery',
    ]);
  });

  it('has no inline IAM policies', () => {
    t.resourceCountIs('AWS::IAM::Policy', 0);
    for (const [, role] of resourcesOfType(raw, 'AWS::IAM::Role')) expect(props(role).Policies).toBeUndefined();
  });

  describe('guardrails', () => {
    const guardrails = () => resourcesOfType(raw, 'AWS::Bedrock::Guardrail');
    const byName = (name: string) => props(guardrails().find(([, g]) => props(g).Name === name)![1]);
    const guardrailKey = () => resourcesOfType(raw, 'AWS::KMS::Key').find(([id]) => id.startsWith('Guardrails'))!;
    type Filter = { Type: string; InputStrength: string; OutputStrength: string };
    type Pii = { Type: string; Action: string; InputEnabled?: boolean; OutputAction?: string };

    it('shares one per plan, not one per tenant, each with a published version', () => {
      expect(
        guardrails()
          .map(([, g]) => props(g).Name)
          .sort(),
      ).toEqual(PLANS.map(planGuardrailName).sort());
      const versions = resourcesOfType(raw, 'AWS::Bedrock::GuardrailVersion');
      expect(versions).toHaveLength(PLANS.length);
      for (const [, v] of versions) {
        // Kept when replaced: functions still pinned to it keep working until their stacks are deployed.
        expect(v.UpdateReplacePolicy).toBe('Retain');
        expect(props(v).Description).toMatch(/configuration [0-9a-f]{16}$/);
      }
    });

    it.each(PLANS)('filters prompt attacks in prompts only, harmful content at the plan strength (%s)', (plan) => {
      const filters = (byName(planGuardrailName(plan)).ContentPolicyConfig as { FiltersConfig: Filter[] })
        .FiltersConfig;
      expect(filters.find((f) => f.Type === 'PROMPT_ATTACK')).toEqual({
        Type: 'PROMPT_ATTACK',
        InputStrength: 'HIGH',
        OutputStrength: 'NONE',
      });
      const strength = PLAN_GUARDRAILS[plan].harmfulContentStrength;
      expect(filters.filter((f) => f.Type !== 'PROMPT_ATTACK')).toEqual(
        HARMFUL_CONTENT_FILTERS.map((type) => ({ Type: type, InputStrength: strength, OutputStrength: strength })),
      );
      expect(strength).toBe(plan === 'basic' ? 'HIGH' : 'MEDIUM');
    });

    it('blocks credentials in prompts and answers and masks contact data in answers only', () => {
      const pii = (
        byName(planGuardrailName('standard')).SensitiveInformationPolicyConfig as { PiiEntitiesConfig: Pii[] }
      ).PiiEntitiesConfig;
      expect(pii.filter((p) => p.Action === 'BLOCK').map((p) => p.Type)).toEqual([...ALWAYS_BLOCKED_PII]);
      const email = pii.find((p) => p.Type === 'EMAIL')!;
      expect(email).toMatchObject({ Action: 'ANONYMIZE', InputEnabled: false, OutputAction: 'ANONYMIZE' });
    });

    it('answers with the stable blocked messages and is encrypted with the retained guardrail key', () => {
      for (const [, g] of guardrails()) {
        expect(props(g).BlockedInputMessaging).toBe(GUARDRAIL_BLOCKED_MESSAGES.input);
        expect(props(g).BlockedOutputsMessaging).toBe(GUARDRAIL_BLOCKED_MESSAGES.output);
        expect(flatten(props(g).KmsKeyArn)).toBe(`<${guardrailKey()[0]}.Arn>`);
      }
      expect(guardrailKey()[1].DeletionPolicy).toBe('Retain');
      expect(props(guardrailKey()[1]).EnableKeyRotation).toBe(true);
    });

    it('has a key the account may use only through Bedrock, administered by named principals', () => {
      const statements = statementsOf(props(guardrailKey()[1]).KeyPolicy);
      expect(statements.map((st) => accountWideKeyUse(st as unknown as Record<string, unknown>))).toEqual(
        statements.map(() => undefined),
      );
      const via = statements.flatMap((st) => {
        const v = (st.Condition as { StringEquals?: Record<string, unknown> } | undefined)?.StringEquals?.[
          'kms:ViaService'
        ];
        return v === undefined ? [] : [v];
      });
      expect(new Set(via)).toEqual(new Set(['bedrock.us-east-1.amazonaws.com']));
    });
  });
});
