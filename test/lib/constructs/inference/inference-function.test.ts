import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { modelResourceArns } from '../../../../lambda/shared/catalog';
import type { TenantRuntimeConfig } from '../../../../lambda/shared/tenant-runtime';
import { GUARDRAIL_ENV } from '../../../../lambda/shared/tenant-runtime';
import { PLAN_GUARDRAILS } from '../../../../lib/config/guardrail-policy';
import { SwitchboardGuardrail } from '../../../../lib/constructs/guardrail/switchboard-guardrail';
import {
  InferenceFunction,
  type InferenceFunctionProps,
  LAMBDA_ENVIRONMENT_MAX_BYTES,
} from '../../../../lib/constructs/inference/inference-function';
import { asArray, flatten, statementsOf, testApp } from '../../template-utils';

const RUNTIME_CONFIG: TenantRuntimeConfig = {
  tenantId: 'demo',
  plan: 'basic',
  defaultTier: 'fast',
  tierModels: { fast: 'us.amazon.nova-micro-v1:0' },
  monthlyBudgetUsd: 10,
  limits: { maxPromptChars: 1000, maxOutputTokens: 512, defaultMaxTokens: 256 },
  tierFallbacks: { fast: ['us.amazon.nova-lite-v1:0'] },
  routing: { mode: 'default-tier', deepThreshold: 0.5, balancedThreshold: 0.3, nearCapShare: 0.9 },
  escalation: {
    confidenceThreshold: 0.6,
    reviewThreshold: 0.3,
    honourStatedConfidence: false,
    maxOpenReviews: 20,
    maxReviewsPerHour: 10,
  },
  guardrail: { source: 'plan', policies: ['content', 'sensitiveInformation'] },
  preamble: {},
  dataRetentionDays: 7,
};

function build(overrides: Partial<InferenceFunctionProps> = {}) {
  const stack = new Stack(testApp(), 'FnTest', { env: { region: 'us-east-1' } });
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  const shared = new iam.ManagedPolicy(stack, 'Shared', {
    statements: [new iam.PolicyStatement({ actions: ['xray:PutTraceSegments'], resources: ['*'] })],
  });
  const guardrail = new SwitchboardGuardrail(stack, 'Guardrail', {
    name: 'sb-test',
    owner: 'test',
    policy: PLAN_GUARDRAILS.basic,
    key: new kms.Key(stack, 'GuardrailKey'),
  });
  const inference = new InferenceFunction(stack, 'Inference', {
    runtimeConfig: RUNTIME_CONFIG,
    table,
    key: new kms.Key(stack, 'Key'),
    sharedPolicies: [shared],
    guardrail,
    ...overrides,
  });
  return { stack, table, inference, shared, guardrail };
}

/** Statements of the function's own managed policy (the one that is not the shared one). */
function ownStatements(t: Template) {
  return Object.entries(t.findResources('AWS::IAM::ManagedPolicy'))
    .filter(([id]) => id.startsWith('Inference'))
    .flatMap(([, p]) => statementsOf(p.Properties.PolicyDocument));
}

describe('InferenceFunction', () => {
  it('fails when the timeout is above 29 s (the API Gateway integration limit)', () => {
    expect(() => build({ timeout: Duration.seconds(30) })).toThrow(/timeout: 30 s is above 29 s/);
  });

  it('fails when reservedConcurrency is below 1', () => {
    expect(() => build({ reservedConcurrency: 0 })).toThrow(/reservedConcurrency: 0 must be at least 1/);
  });

  it("fails when the environment is over Lambda's 4 KB (long system preambles)", () => {
    const preamble = { platform: 'p'.repeat(1000), tenant: 't'.repeat(1000) };
    expect(() => build({ runtimeConfig: { ...RUNTIME_CONFIG, preamble } })).not.toThrow();
    expect(() =>
      build({ runtimeConfig: { ...RUNTIME_CONFIG, preamble }, environment: { PADDING: 'x'.repeat(1500) } }),
    ).toThrow(
      new RegExp(
        `environment: \\d+ bytes .*Lambda allows ${LAMBDA_ENVIRONMENT_MAX_BYTES}: shorten the system preambles`,
      ),
    );
  });

  it('fails with both problems in one error naming the construct', () => {
    expect(() => build({ timeout: Duration.minutes(1), reservedConcurrency: -1 })).toThrow(
      /^InferenceFunction FnTest\/Inference: timeout: 60 s .*; reservedConcurrency: -1 must be at least 1$/,
    );
  });

  describe('with defaults', () => {
    let t: Template;
    let sharedId: string;
    beforeAll(() => {
      const built = build();
      sharedId = built.stack.getLogicalId(built.shared.node.defaultChild as iam.CfnManagedPolicy);
      t = Template.fromStack(built.stack);
    });

    it('sets explicit memory, timeout and log retention, and reserves no concurrency unless asked', () => {
      t.hasResourceProperties('AWS::Lambda::Function', {
        MemorySize: 1024,
        Timeout: 29,
        ReservedConcurrentExecutions: Match.absent(),
      });
      t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    });

    it('reserves the concurrency it is given', () => {
      Template.fromStack(build({ reservedConcurrency: 25 }).stack).hasResourceProperties('AWS::Lambda::Function', {
        ReservedConcurrentExecutions: 25,
      });
    });

    it('attaches the shared policies and creates no inline policy', () => {
      t.resourceCountIs('AWS::IAM::Policy', 0);
      const roles = Object.values(t.findResources('AWS::IAM::Role'));
      expect(roles).toHaveLength(1);
      expect(roles[0]!.Properties.ManagedPolicyArns.map(flatten)).toEqual([`<${sharedId}>`]);
    });

    it('may invoke exactly the models of runtimeConfig.tierModels and tierFallbacks', () => {
      const resources = ownStatements(t)
        .filter((s) => s.Effect === 'Allow' && asArray(s.Action).includes('bedrock:InvokeModel'))
        .flatMap((s) => asArray(s.Resource as unknown[]).map(flatten));
      const env = { partition: '<AWS::Partition>', region: 'us-east-1', account: '<AWS::AccountId>' };
      const expected = [
        ...modelResourceArns('us.amazon.nova-micro-v1:0', env),
        ...modelResourceArns('us.amazon.nova-lite-v1:0', env),
      ];
      expect(resources.sort()).toEqual([...expected].sort());
    });

    describe('its guardrail', () => {
      const ids = () => ({
        guardrail: Object.keys(t.findResources('AWS::Bedrock::Guardrail'))[0]!,
        version: Object.keys(t.findResources('AWS::Bedrock::GuardrailVersion'))[0]!,
      });
      /** `bedrock:GuardrailIdentifier` as the condition must name it: the guardrail ARN, a colon, the version. */
      const identifier = () => `<${ids().guardrail}.GuardrailArn>:<${ids().version}.Version>`;

      it('allows model calls only with the guardrail version (bedrock:GuardrailIdentifier, StringEquals)', () => {
        const allows = ownStatements(t).filter(
          (s) => s.Effect === 'Allow' && asArray(s.Action).some((a) => a.startsWith('bedrock:Invoke')),
        );
        expect(allows).toHaveLength(1);
        expect(asArray(allows[0]!.Action)).toEqual(['bedrock:InvokeModel']);
        const cond = allows[0]!.Condition as { StringEquals: Record<string, unknown> };
        expect(Object.keys(allows[0]!.Condition as object)).toEqual(['StringEquals']);
        expect(flatten(cond.StringEquals['bedrock:GuardrailIdentifier'])).toBe(identifier());
      });

      it('denies every model call (any model, streaming too) with another guardrail or none', () => {
        const deny = ownStatements(t).find((s) => s.Effect === 'Deny');
        expect(deny).toBeDefined();
        expect(asArray(deny!.Action).sort()).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
        expect(deny!.Resource).toBe('*');
        const cond = deny!.Condition as { StringNotEquals: Record<string, unknown> };
        expect(flatten(cond.StringNotEquals['bedrock:GuardrailIdentifier'])).toBe(identifier());
      });

      it('may apply the guardrail and decrypt its key only through Bedrock', () => {
        const apply = ownStatements(t).find((s) => asArray(s.Action).includes('bedrock:ApplyGuardrail'));
        expect(asArray(apply?.Resource as unknown[]).map(flatten)).toEqual([`<${ids().guardrail}.GuardrailArn>`]);
        const decrypt = ownStatements(t).find(
          (s) => asArray(s.Action).includes('kms:Decrypt') && s.Sid?.includes('Guardrail'),
        );
        const keyId = Object.keys(t.findResources('AWS::KMS::Key')).find((k) => k.startsWith('GuardrailKey'))!;
        expect(asArray(decrypt?.Resource as unknown[]).map(flatten)).toEqual([`<${keyId}.Arn>`]);
        expect(decrypt?.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'bedrock.us-east-1.amazonaws.com' } });
      });

      it('reaches the handler in GUARDRAIL_ENV: the guardrail ARN and the pinned version', () => {
        const fn = Object.values(t.findResources('AWS::Lambda::Function'))[0]!;
        const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
        expect(flatten(vars[GUARDRAIL_ENV.arn])).toBe(`<${ids().guardrail}.GuardrailArn>`);
        expect(flatten(vars[GUARDRAIL_ENV.version])).toBe(`<${ids().version}.Version>`);
      });
    });

    it('may write only its own log group and publish only to its own dead-letter topic', () => {
      const statements = ownStatements(t);
      const logs = statements.find((s) => s.Sid === 'WriteOwnLogs');
      const logGroupId = Object.keys(t.findResources('AWS::Logs::LogGroup'))[0];
      expect(asArray(logs?.Resource as unknown[]).map(flatten)).toEqual([`<${logGroupId}.Arn>`]);
      const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
      const publish = statements.find((s) => s.Sid === 'PublishDeadLetters');
      expect(asArray(publish?.Resource as unknown[]).map(flatten)).toEqual([`<${topicId}>`]);
    });
  });

  it('receives grants in its managed policy, never as an inline policy', () => {
    const { stack, table, inference } = build();
    table.grantReadData(inference);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::IAM::Policy', 0);
    const actions = ownStatements(t).flatMap((s) => asArray(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:BatchGetItem', 'dynamodb:GetItem']));
  });
});
