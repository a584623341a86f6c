/**
 * The review workflow in the synthesized tenant stacks: bounded waits, logging without execution data,
 * tracing, encryption, and roles that can do exactly their part — the decision role alone can resume
 * this tenant's executions and decrypt task tokens; the inference role can only start them; reviewers can
 * only call the review routes.
 */
import {
  REVIEW_NOT_PENDING,
  TASK_TOKEN_CONTEXT_KEY,
  TASK_TOKEN_CONTEXT_VALUE,
  TOKEN_NOT_SAVED,
} from '../../../../lambda/shared/review-schema';
import { tenantStackName } from '../../../../lib/stacks/tenant-stack';
import { type Synthesized, synthSwitchboard } from '../../../support/synth';
import {
  actionCovers,
  asArray,
  type CfnResourceJson,
  flatten,
  onlyResource,
  props,
  resourcesOfType,
  type StatementJson,
  statementsOf,
  type TemplateLike,
} from '../../template-utils';

const TENANTS = ['acme', 'globex', 'initech'] as const;
let synth: Synthesized;
const raw: Record<string, TemplateLike> = {};

beforeAll(() => {
  synth = synthSwitchboard({ compliance: false });
  for (const id of TENANTS) raw[id] = synth.template(tenantStackName(id)) as unknown as TemplateLike;
});

const configOf = (id: string) => synth.built.configs.find((t) => t.id === id)!;
const byPrefix = (id: string, type: string, prefix: string): [string, CfnResourceJson] => {
  const found = resourcesOfType(raw[id]!, type).filter(([lid]) => lid.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} ${prefix}* in ${id}, found ${found.length}`);
  return found[0]!;
};
const roleOfFunction = (id: string, prefix: string) =>
  flatten(props(byPrefix(id, 'AWS::Lambda::Function', prefix)[1]).Role).replace(/^<(.+)\.Arn>$/, '$1');
/** Statements of the customer-managed policies attached to a role. */
const statementsOfRole = (id: string, roleId: string): StatementJson[] =>
  resourcesOfType(raw[id]!, 'AWS::IAM::ManagedPolicy')
    .filter(([, p]) => asArray(props(p).Roles as unknown[]).some((r) => flatten(r) === `<${roleId}>`))
    .flatMap(([, p]) => statementsOf(props(p).PolicyDocument));
const allows = (statements: StatementJson[], action: string) =>
  statements.filter((s) => (s.Effect ?? 'Allow') === 'Allow' && asArray(s.Action).some((a) => actionCovers(a, action)));

describe.each(TENANTS)('review workflow (%s)', (id) => {
  const sm = () => byPrefix(id, 'AWS::StepFunctions::StateMachine', 'ReviewWorkflow');
  const definition = () => {
    const d = flatten(props(sm()[1]).DefinitionString);
    return JSON.parse(d.replace(/<[^>]+>/g, 'X'));
  };

  it('is a Standard workflow whose decision wait is bounded: heartbeat < task timeout ≤ workflow timeout', () => {
    const p = props(sm()[1]);
    expect(p.StateMachineType).toBe('STANDARD');
    const d = definition();
    const wait = d.States.AwaitDecision;
    const esc = configOf(id).escalation;
    expect(wait.HeartbeatSeconds).toBe(esc.reviewHeartbeatMinutes * 60);
    expect(wait.TimeoutSeconds).toBe(esc.reviewTimeoutMinutes * 60);
    expect(wait.HeartbeatSeconds).toBeLessThan(wait.TimeoutSeconds);
    expect(wait.TimeoutSeconds).toBeLessThanOrEqual(d.TimeoutSeconds);
    const catches = wait.Catch.map((c: { ErrorEquals: string[]; Next: string }) => [c.ErrorEquals, c.Next]);
    expect(catches).toEqual([
      [['States.Timeout', 'States.HeartbeatTimeout'], 'ApplyTimeoutPolicy'],
      [[REVIEW_NOT_PENDING], 'ApplyDecision'],
      [['States.ALL'], 'RecordFailure'],
    ]);
    // RecordFailure ends the execution as failed unless it applied a decision that was already made.
    expect(d.States.RecordFailure.Next).toBe('DecisionApplied');
    expect(d.States.DecisionApplied.Default).toBe('ReviewFailed');
    expect(d.States.DecisionApplied.Choices).toHaveLength(1);
    // Transient failures to store the token are retried; no retrier may swallow a timeout (in a retrier
    // States.TaskFailed and States.ALL also match States.HeartbeatTimeout).
    const retried = wait.Retry.flatMap((r: { ErrorEquals: string[] }) => r.ErrorEquals);
    expect(retried).toEqual(expect.arrayContaining(['Lambda.TooManyRequestsException', TOKEN_NOT_SAVED]));
    for (const e of ['States.ALL', 'States.TaskFailed', 'States.Timeout', 'States.HeartbeatTimeout']) {
      expect(retried).not.toContain(e);
    }
    // Every Lambda task retries Lambda throttling too.
    const lambdaTasks = Object.entries(d.States as Record<string, Record<string, unknown>>).filter(
      ([, state]) => state.Type === 'Task' && String(state.Resource).includes('lambda'),
    );
    expect(lambdaTasks.map(([name]) => name)).toEqual(
      expect.arrayContaining(['RecordPending', 'AwaitDecision', 'ApplyDecision', 'RecordFailure']),
    );
    for (const [name, state] of lambdaTasks) {
      const errors = ((state.Retry as Array<{ ErrorEquals: string[] }>) ?? []).flatMap((r) => r.ErrorEquals);
      expect([name, errors.includes('Lambda.TooManyRequestsException')]).toEqual([name, true]);
    }
  });

  it('logs at ALL without execution data (prompts stay out of logs), traces, and encrypts with the tenant key', () => {
    const p = props(sm()[1]);
    const keyId = onlyResource(raw[id]!, 'AWS::KMS::Key')[0];
    expect(p.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(p.TracingConfiguration).toEqual({ Enabled: true });
    expect(flatten((p.EncryptionConfiguration as { KmsKeyId: unknown }).KmsKeyId)).toBe(`<${keyId}.Arn>`);
    const logGroupArn = flatten(
      (p.LoggingConfiguration as { Destinations: Array<{ CloudWatchLogsLogGroup: { LogGroupArn: unknown } }> })
        .Destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn,
    );
    const [lgId, lg] = byPrefix(id, 'AWS::Logs::LogGroup', 'ReviewWorkflowLogs');
    expect(logGroupArn).toBe(`<${lgId}.Arn>`);
    expect(flatten(props(lg).KmsKeyId)).toBe(`<${keyId}.Arn>`);
  });

  it('notifies reviewers on a KMS-encrypted topic with one e-mail subscription per reviewer, and never sends the token', () => {
    const [topicId, topic] = byPrefix(id, 'AWS::SNS::Topic', 'ReviewReviewers');
    const keyId = onlyResource(raw[id]!, 'AWS::KMS::Key')[0];
    expect(flatten(props(topic).KmsMasterKeyId)).toBe(`<${keyId}.Arn>`);
    const subs = resourcesOfType(raw[id]!, 'AWS::SNS::Subscription').filter(
      ([, s]) => flatten(props(s).TopicArn) === `<${topicId}>`,
    );
    expect(subs.map(([, s]) => props(s).Endpoint).sort()).toEqual([...configOf(id).escalation.reviewerEmails].sort());
    for (const [, s] of subs) expect(props(s).Protocol).toBe('email');
    const notify = definition().States.NotifyReviewers;
    expect(JSON.stringify(notify.Parameters)).not.toMatch(/Task\.Token|input|messages|prompt/i);
  });

  it('lets only the decision role resume executions, and only of this state machine', () => {
    const smId = sm()[0];
    const decisionRole = roleOfFunction(id, 'ReviewApi');
    const resume = allows(statementsOfRole(id, decisionRole), 'states:SendTaskSuccess');
    expect(resume.flatMap((s) => asArray(s.Resource as unknown[]).map(flatten))).toEqual([`<${smId}>`]);
    for (const other of ['ReviewSteps', 'Inference']) {
      expect(allows(statementsOfRole(id, roleOfFunction(id, other)), 'states:SendTaskSuccess')).toEqual([]);
      expect(allows(statementsOfRole(id, roleOfFunction(id, other)), 'states:SendTaskFailure')).toEqual([]);
    }
    // The steps function may start this state machine again (failed hand-offs), by its name, nothing else.
    const restart = allows(statementsOfRole(id, roleOfFunction(id, 'ReviewSteps')), 'states:StartExecution');
    expect(restart.flatMap((s) => asArray(s.Resource as unknown[]).map(flatten))).toEqual([
      `arn:<AWS::Partition>:states:us-east-1:<AWS::AccountId>:stateMachine:${flatten(props(sm()[1]).StateMachineName)}`,
    ]);
    // The inference function may start this state machine and nothing else.
    const start = allows(statementsOfRole(id, roleOfFunction(id, 'Inference')), 'states:StartExecution');
    expect(start.flatMap((s) => asArray(s.Resource as unknown[]).map(flatten))).toEqual([`<${smId}>`]);
  });

  it('keeps task tokens decryptable by the decision role alone (key policy deny by encryption context)', () => {
    const [, key] = onlyResource(raw[id]!, 'AWS::KMS::Key');
    const decisionRole = roleOfFunction(id, 'ReviewApi');
    const deny = statementsOf(props(key).KeyPolicy).filter((s) => s.Effect === 'Deny');
    expect(deny).toHaveLength(1);
    expect(asArray(deny[0]!.Action)).toEqual(['kms:Decrypt']);
    expect(flatten(deny[0]!.Principal)).toMatch(/\*/);
    expect(deny[0]!.Condition).toEqual({
      StringEquals: { [`kms:EncryptionContext:${TASK_TOKEN_CONTEXT_KEY}`]: TASK_TOKEN_CONTEXT_VALUE },
      ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [decisionRole, 'Arn'] } },
    });
    // The context-scoped IAM statements state the intent. They do not enforce it alone: the steps and
    // inference roles also hold general key use through the ledger grant (DynamoDB, dead-letter topic),
    // so the deny above is what keeps every role but the decision role from decrypting tokens.
    for (const fn of ['ReviewSteps', 'Inference']) {
      const general = statementsOfRole(id, roleOfFunction(id, fn)).filter(
        (s) => asArray(s.Action).includes('kms:Decrypt') && !s.Condition,
      );
      expect(general.length).toBeGreaterThan(0); // hence the deny
    }
    const ctx = { StringEquals: { [`kms:EncryptionContext:${TASK_TOKEN_CONTEXT_KEY}`]: TASK_TOKEN_CONTEXT_VALUE } };
    const stepsTokenUse = statementsOfRole(id, roleOfFunction(id, 'ReviewSteps')).filter(
      (s) => s.Sid === 'EncryptTaskTokens',
    );
    expect(stepsTokenUse.map((s) => [s.Action, s.Condition])).toEqual([['kms:Encrypt', ctx]]);
    const apiTokenUse = statementsOfRole(id, decisionRole).filter((s) => s.Sid === 'DecryptTaskTokens');
    expect(apiTokenUse.map((s) => [s.Action, s.Condition])).toEqual([['kms:Decrypt', ctx]]);
  });

  it('gives the workflow role exactly the steps function (unqualified), the reviewers topic and the tenant key', () => {
    const roleId = flatten(props(sm()[1]).RoleArn).replace(/^<(.+)\.Arn>$/, '$1');
    const own = statementsOfRole(id, roleId);
    const stepsFn = byPrefix(id, 'AWS::Lambda::Function', 'ReviewSteps')[0];
    const topicId = byPrefix(id, 'AWS::SNS::Topic', 'ReviewReviewers')[0];
    const keyId = onlyResource(raw[id]!, 'AWS::KMS::Key')[0];
    const resources = own.flatMap((s) => asArray(s.Resource as unknown[]).map(flatten)).sort();
    expect(resources).toEqual([`<${keyId}.Arn>`, `<${stepsFn}.Arn>`, `<${topicId}>`].sort());
  });

  it('trusts Step Functions only for this state machine of this account (confused-deputy guard)', () => {
    const roleId = flatten(props(sm()[1]).RoleArn).replace(/^<(.+)\.Arn>$/, '$1');
    const trust = statementsOf(props(raw[id]!.Resources[roleId]!).AssumeRolePolicyDocument);
    expect(trust).toHaveLength(1);
    expect(trust[0]!.Principal).toEqual({ Service: 'states.amazonaws.com' });
    const cond = trust[0]!.Condition as Record<string, Record<string, unknown>>;
    expect(flatten(cond.StringEquals?.['aws:SourceAccount'])).toBe('<AWS::AccountId>');
    const smName = flatten(props(sm()[1]).StateMachineName);
    expect(asArray(cond.ArnLike?.['aws:SourceArn'] as unknown[]).map(flatten)).toEqual([
      `arn:<AWS::Partition>:states:us-east-1:<AWS::AccountId>:stateMachine:${smName}`,
    ]);
  });

  it('lets CloudWatch Logs delivery decrypt with the tenant key only for log deliveries of this account (confused-deputy guard)', () => {
    const statements = statementsOf(props(onlyResource(raw[id]!, 'AWS::KMS::Key')[1]).KeyPolicy);
    const delivery = statements.filter((s) =>
      asArray((s.Principal as { Service?: string | string[] })?.Service).includes('delivery.logs.amazonaws.com'),
    );
    expect(delivery).toHaveLength(1);
    const cond = delivery[0]!.Condition as Record<string, Record<string, unknown>>;
    expect(flatten(cond.StringEquals?.['aws:SourceAccount'])).toBe('<AWS::AccountId>');
    expect(flatten(cond.ArnLike?.['aws:SourceArn'])).toBe('arn:<AWS::Partition>:logs:us-east-1:<AWS::AccountId>:*');
  });

  it('lets the reviewer role call the review routes and nothing else', () => {
    const [roleId] = byPrefix(id, 'AWS::IAM::Role', 'ApiReviewerRole');
    const own = statementsOfRole(id, roleId);
    expect(own.flatMap((s) => asArray(s.Action))).toEqual(['execute-api:Invoke']);
    const routes = own.flatMap((s) => asArray(s.Resource as unknown[]).map(flatten));
    expect(routes).toHaveLength(4);
    for (const r of routes) expect(r).toMatch(/\/(GET|POST)\/v1\/reviews/);
  });
});

describe('webhook secret', () => {
  // The repository's tenant files: globex declares a webhook (the first test checks this list).
  const withWebhook = ['globex'];
  const without = ['acme', 'initech'];
  /** The bootstrap's CloudFormation execution role, as the template's Fn::Sub writes it. */
  const CFN_EXEC = [
    'arn:$',
    '{AWS::Partition}:iam::$',
    '{AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-$',
    '{AWS::AccountId}-us-east-1',
  ].join('');
  const operators = () =>
    synth.built.platform.config.webhookOperatorRoles.map((r) => `arn:<AWS::Partition>:iam::<AWS::AccountId>:role/${r}`);
  const secretOf = (id: string) => byPrefix(id, 'AWS::SecretsManager::Secret', 'ReviewWebhookSecret');

  it('exists only for tenants whose file declares a webhook (globex among them)', () => {
    expect(TENANTS.filter((id) => configOf(id).escalation.webhook)).toEqual(withWebhook);
    for (const id of without) expect(resourcesOfType(raw[id]!, 'AWS::SecretsManager::Secret')).toEqual([]);
  });

  it.each(withWebhook)(
    '%s: is encrypted with the tenant key and starts with a generated key and no URL; the template holds only the origin',
    (id) => {
      const p = props(secretOf(id)[1]);
      expect(flatten(p.KmsKeyId)).toMatch(/^<DataKey[0-9A-F]+\.Arn>$/);
      expect(p.SecretString).toBeUndefined();
      expect(p.GenerateSecretString).toEqual({
        SecretStringTemplate: '{"url":""}',
        GenerateStringKey: 'signingKey',
        PasswordLength: 64,
        ExcludePunctuation: true,
        IncludeSpace: false,
        RequireEachIncludedType: true,
      });
      expect(flatten(p.Name)).toMatch(new RegExp(`^switchboard/${id}/webhook-`));
      // globex's receiver path (tenants/globex.yaml's comment) is nowhere in the template.
      expect(JSON.stringify(raw[id])).not.toMatch(/switchboard\/reviews/);
    },
  );

  it.each(withWebhook)(
    '%s: lets the steps role alone (with the operators) read it, in IAM and in the resource policy',
    (id) => {
      const [secretId] = secretOf(id);
      const steps = roleOfFunction(id, 'ReviewSteps');
      const reads = (roleId: string) =>
        allows(statementsOfRole(id, roleId), 'secretsmanager:GetSecretValue').map((s) =>
          asArray(s.Resource).map(flatten),
        );
      expect(reads(steps)).toEqual([[`<${secretId}>`]]);
      for (const other of ['ReviewApi', 'Inference']) expect(reads(roleOfFunction(id, other))).toEqual([]);
      const [, policy] = byPrefix(id, 'AWS::SecretsManager::ResourcePolicy', 'ReviewWebhookSecret');
      expect(props(policy).BlockPublicPolicy).toBe(true);
      expect(flatten(props(policy).SecretId)).toBe(`<${secretId}>`);
      const denies = statementsOf(props(policy).ResourcePolicy).map((s) => ({
        effect: s.Effect,
        principal: s.Principal,
        actions: asArray(s.Action).sort(),
        allowed: asArray(
          (s.Condition as { ArnNotEquals: Record<string, unknown> }).ArnNotEquals['aws:PrincipalArn'],
        ).map(flatten),
      }));
      expect(denies).toEqual([
        {
          effect: 'Deny',
          principal: { AWS: '*' },
          actions: ['secretsmanager:GetSecretValue'],
          allowed: [`<${steps}.Arn>`, ...operators()],
        },
        {
          effect: 'Deny',
          principal: { AWS: '*' },
          actions: [
            'secretsmanager:PutSecretValue',
            'secretsmanager:RotateSecret',
            'secretsmanager:UpdateSecret',
            'secretsmanager:UpdateSecretVersionStage',
          ],
          allowed: [expect.stringContaining(CFN_EXEC), ...operators()],
        },
        {
          effect: 'Deny',
          principal: { AWS: '*' },
          actions: ['secretsmanager:DeleteResourcePolicy', 'secretsmanager:PutResourcePolicy'],
          allowed: [expect.stringContaining(CFN_EXEC)],
        },
      ]);
    },
  );

  it.each(withWebhook)(
    '%s: the key may be used through Secrets Manager only by those principals and only for its webhook secrets',
    (id) => {
      const key = byPrefix(id, 'AWS::KMS::Key', 'DataKey')[1];
      const viaSm = statementsOf(props(key).KeyPolicy).filter((s) =>
        JSON.stringify(s.Condition ?? {}).includes('secretsmanager.'),
      );
      expect(viaSm).toHaveLength(1);
      const st = viaSm[0]!;
      const cond = st.Condition as Record<string, Record<string, unknown>>;
      expect(asArray(st.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(cond.StringEquals!['kms:ViaService']).toBe('secretsmanager.us-east-1.amazonaws.com');
      expect(flatten(cond.StringLike!['kms:EncryptionContext:SecretARN'])).toBe(
        `arn:<AWS::Partition>:secretsmanager:us-east-1:<AWS::AccountId>:secret:switchboard/${id}/webhook-*`,
      );
      const principals = asArray(cond.ArnEquals!['aws:PrincipalArn']).map(flatten);
      expect(principals).toHaveLength(2 + operators().length);
      expect(principals).toEqual(
        expect.arrayContaining([
          `<${roleOfFunction(id, 'ReviewSteps')}.Arn>`,
          expect.stringContaining(CFN_EXEC),
          ...operators(),
        ]),
      );
    },
  );

  it.each(without)('%s: no function gets a webhook secret or origin', (id) => {
    for (const [, fn] of resourcesOfType(raw[id]!, 'AWS::Lambda::Function')) {
      const vars = (props(fn).Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars.WEBHOOK_SECRET_ARN).toBeUndefined();
      if (vars.REVIEW_CONFIG) expect(JSON.parse(vars.REVIEW_CONFIG as string).webhookOrigin).toBeUndefined();
    }
  });
});
