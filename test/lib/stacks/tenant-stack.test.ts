import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { inferenceRequestJsonSchema } from '../../../lambda/shared/api-schema';
import { MODELS, modelResourceArns } from '../../../lambda/shared/catalog';
import { ERROR_CODES, type ErrorCode } from '../../../lambda/shared/errors';
import { LEDGER_KEYS, requestKey, usageKey } from '../../../lambda/shared/ledger-schema';
import { openReviewsKey, reviewKey, reviewsStartedKey } from '../../../lambda/shared/review-schema';
import {
  GUARDRAIL_ENV,
  RECONCILE_EVENT,
  RECONCILE_EVERY_MINUTES,
  TENANT_CONFIG_ENV,
  TenantRuntimeConfigSchema,
} from '../../../lambda/shared/tenant-runtime';
import { accountWideKeyUse } from '../../../lib/compliance/switchboard-checks';
import { toRuntimeConfig } from '../../../lib/config/runtime-config';
import { LEDGER_BACKUP_TAG } from '../../../lib/constructs/platform/backup';
import { TENANT_TAGS, tenantStackName } from '../../../lib/stacks/tenant-stack';
import { PLATFORM_STACK_NAME } from '../../../lib/switchboard';
import { allows } from '../../support/iam-eval';
import { type Synthesized, synthSwitchboard } from '../../support/synth';
import {
  actionCovers,
  asArray,
  type CfnResourceJson,
  flatten,
  onlyResource,
  outputRefOf,
  props,
  resourcePath,
  resourcesOfType,
  roleStatements,
  type StatementJson,
  statementsOf,
  type TemplateLike,
  tagsOf,
} from '../template-utils';

const TENANTS = ['acme', 'globex', 'initech'] as const;
/** The env synthSwitchboard uses (region known, account and partition left to CloudFormation). */
const ARN_ENV = { partition: '<AWS::Partition>', region: 'us-east-1', account: '<AWS::AccountId>' };
/** Cryptographic KMS actions nobody but named principals may hold on a tenant key. */
const CRYPTO = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:CreateGrant',
];

let synth: Synthesized;
const raw: Record<string, TemplateLike> = {};

beforeAll(() => {
  synth = synthSwitchboard({ compliance: false });
  for (const id of TENANTS) raw[id] = synth.template(tenantStackName(id)) as unknown as TemplateLike;
  raw.platform = synth.template(PLATFORM_STACK_NAME) as unknown as TemplateLike;
});

const tpl = (id: string) => Template.fromJSON(raw[id] as unknown as Record<string, unknown>);
const configOf = (id: string) => {
  const c = synth.built.configs.find((t) => t.id === id);
  if (!c) throw new Error(`no tenant ${id}`);
  return c;
};
const keyId = (id: string) => onlyResource(raw[id]!, 'AWS::KMS::Key')[0];
const tableId = (id: string) => onlyResource(raw[id]!, 'AWS::DynamoDB::Table')[0];
/** The inference function (the review workflow adds two more functions, tested in their own suite). */
const fnOf = (id: string): [string, CfnResourceJson] => {
  const found = resourcesOfType(raw[id]!, 'AWS::Lambda::Function').filter(([lid]) => lid.startsWith('Inference'));
  if (found.length !== 1) throw new Error(`expected one inference function in ${id}, found ${found.length}`);
  return found[0]!;
};
const fnRoleId = (id: string) => flatten(props(fnOf(id)[1]).Role).replace(/^<(.+)\.Arn>$/, '$1');
const resource = (id: string, logicalId: string): CfnResourceJson => {
  const r = raw[id]!.Resources[logicalId];
  if (!r) throw new Error(`${logicalId} not in ${id}`);
  return r;
};
/** Statements of every customer-managed policy attached to the inference function's role in the tenant stack. */
const fnRoleStatements = (id: string): StatementJson[] => {
  const role = fnRoleId(id);
  return resourcesOfType(raw[id]!, 'AWS::IAM::ManagedPolicy')
    .filter(([, p]) => asArray(props(p).Roles as unknown[]).some((r) => flatten(r) === `<${role}>`))
    .flatMap(([, p]) => statementsOf(props(p).PolicyDocument));
};

describe('TenantStack', () => {
  describe.each(TENANTS)('tenant key (%s)', (id) => {
    it('is rotated yearly, and shredded when the stack is destroyed: deleted after the retention, within 7–30 days', () => {
      const retention = configOf(id).dataRetentionDays;
      const days = Math.min(30, Math.max(7, retention));
      tpl(id).hasResource('AWS::KMS::Key', {
        Properties: Match.objectLike({ EnableKeyRotation: true, PendingWindowInDays: days }),
        DeletionPolicy: 'Delete',
        UpdateReplacePolicy: 'Delete',
      });
      // The ledger it encrypts stays (retained, deletion protection): unreadable once the key is gone.
      tpl(id).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    it(`is reachable as alias/switchboard/tenant/${id}`, () => {
      tpl(id).hasResourceProperties('AWS::KMS::Alias', {
        AliasName: `alias/switchboard/tenant/${id}`,
        TargetKeyId: { 'Fn::GetAtt': [keyId(id), 'Arn'] },
      });
    });

    it('gives the account administration for named principals only, and key use only through DynamoDB (and Secrets Manager for named principals)', () => {
      const statements = statementsOf(props(resource(id, keyId(id))).KeyPolicy);
      const root = statements.filter((s) => /:root$/.test(flatten((s.Principal as { AWS?: unknown })?.AWS)));
      const admin = root.filter((s) => asArray(s.Action).includes('kms:Put*'));
      expect(admin).toHaveLength(1);
      const actions = asArray(admin[0]!.Action);
      expect(actions).toEqual(expect.arrayContaining(['kms:CreateAlias', 'kms:Put*', 'kms:ScheduleKeyDeletion']));
      for (const crypto of CRYPTO) expect(actions.filter((a) => actionCovers(a, crypto))).toEqual([]);
      expect(Object.keys((admin[0]!.Condition as { ArnEquals: object }).ArnEquals)).toEqual(['aws:PrincipalArn']);
      // Every other root statement is use through DynamoDB (how CloudFormation creates the table), or, with a
      // webhook, use through Secrets Manager by named principals for this tenant's webhook secrets only.
      for (const s of root.filter((st) => st !== admin[0])) {
        const cond = s.Condition as Record<string, Record<string, unknown>>;
        const via = cond.StringEquals!['kms:ViaService'];
        if (via === 'secretsmanager.us-east-1.amazonaws.com') {
          expect(configOf(id).escalation.webhook).toBeDefined();
          expect(asArray(s.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
          expect(flatten(cond.StringLike!['kms:EncryptionContext:SecretARN'])).toMatch(
            new RegExp(`:secret:switchboard/${id}/webhook-\\*$`),
          );
          expect(asArray(cond.ArnEquals!['aws:PrincipalArn']).length).toBeGreaterThan(0);
        } else {
          expect(via).toBe('dynamodb.us-east-1.amazonaws.com');
        }
      }
      expect(statements.map((s) => accountWideKeyUse(s as unknown as Record<string, unknown>))).toEqual(
        statements.map(() => undefined),
      );
    });

    it("lets the inference function's role encrypt, decrypt and generate data keys", () => {
      const statements = statementsOf(props(resource(id, keyId(id))).KeyPolicy);
      const forRole = statements.filter(
        (s) =>
          s.Effect === 'Allow' &&
          asArray((s.Principal as { AWS?: unknown })?.AWS)
            .map(flatten)
            .includes(`<${fnRoleId(id)}.Arn>`),
      );
      const actions = forRole.flatMap((s) => asArray(s.Action));
      for (const a of ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']) expect(actions).toContain(a);
    });
  });

  describe.each(TENANTS)('ledger table (%s)', (id) => {
    it('is encrypted with the tenant key, point-in-time recoverable, deletion protected and retained', () => {
      tpl(id).hasResource('AWS::DynamoDB::Table', {
        Properties: Match.objectLike({
          SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId(id), 'Arn'] } },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it('uses the key schema and TTL attribute the handlers use (LEDGER_KEYS)', () => {
      tpl(id).hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: LEDGER_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: LEDGER_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: LEDGER_KEYS.ttlAttribute, Enabled: true },
      });
    });

    it('joins the platform backup plan through its tag (one selection in the platform stack selects it)', () => {
      expect(raw[id]!.Resources[tableId(id)]!.Properties?.Tags).toEqual(
        expect.arrayContaining([{ Key: LEDGER_BACKUP_TAG.key, Value: LEDGER_BACKUP_TAG.value }]),
      );
      expect(resourcesOfType(raw[id]!, 'AWS::Backup::BackupSelection')).toEqual([]);
      const [, sel] = onlyResource(raw.platform!, 'AWS::Backup::BackupSelection');
      expect(JSON.stringify(props(sel))).toContain(`aws:ResourceTag/${LEDGER_BACKUP_TAG.key}`);
    });
  });

  describe('tenant API', () => {
    it('is a regional REST API', () => {
      tpl('globex').hasResourceProperties('AWS::ApiGateway::RestApi', {
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
    });

    it.each(TENANTS)(
      'requires the API key on every tenant route, IAM (the reviewer role) on every review route, a Cognito sign-in on every reviewer route, nothing on the console files (%s)',
      (id) => {
        const methods = resourcesOfType(raw[id]!, 'AWS::ApiGateway::Method');
        const pathOf = (m: CfnResourceJson) => resourcePath(raw[id]!, props(m).ResourceId);
        const by = (auth: string) =>
          methods
            .filter(([, m]) => (props(m).AuthorizationType ?? 'NONE') === auth && !pathOf(m).startsWith('console'))
            .map(([, m]) => `${props(m).HttpMethod} /${pathOf(m)}`)
            .sort();
        expect(by('NONE')).toEqual(['GET /v1/requests/{requestId}', 'GET /v1/usage', 'POST /v1/inference']);
        for (const [, m] of methods.filter(
          ([, m]) => !props(m).AuthorizationType && !pathOf(m).startsWith('console'),
        )) {
          expect(props(m).ApiKeyRequired).toBe(true);
        }
        // The inference key alone cannot call a review route: those need a SigV4 signature of the reviewer role.
        expect(by('AWS_IAM')).toEqual([
          'GET /v1/reviews',
          'GET /v1/reviews/export',
          'GET /v1/reviews/{reviewId}',
          'POST /v1/reviews/{reviewId}/decision',
        ]);
        // The console's routes: a token of the reviewers' user pool (the handler checks the tenant's group).
        expect(by('COGNITO_USER_POOLS')).toEqual([
          'GET /v1/reviewer/reviews',
          'GET /v1/reviewer/reviews/{reviewId}',
          'POST /v1/reviewer/reviews/{reviewId}/decision',
        ]);
        const consoleFiles = methods.filter(([, m]) => pathOf(m).startsWith('console'));
        expect(consoleFiles.map(([, m]) => `${props(m).HttpMethod} /${pathOf(m)}`).sort()).toEqual([
          'GET /console',
          'GET /console/{file}',
        ]);
        for (const [, m] of consoleFiles) expect(props(m).ApiKeyRequired).not.toBe(true);
      },
    );

    it('has a usage plan with the throttle and quota of the tenant file, and the API key attached', () => {
      const t = tpl('globex');
      t.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
      t.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
        Throttle: { RateLimit: 200, BurstLimit: 400 },
        Quota: { Limit: 10_000_000, Period: 'MONTH' },
        ApiStages: [Match.objectLike({ Stage: { Ref: onlyResource(raw.globex!, 'AWS::ApiGateway::Stage')[0] } })],
      });
      const [planId] = onlyResource(raw.globex!, 'AWS::ApiGateway::UsagePlan');
      const [apiKeyId] = onlyResource(raw.globex!, 'AWS::ApiGateway::ApiKey');
      t.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
        KeyId: { Ref: apiKeyId },
        KeyType: 'API_KEY',
        UsagePlanId: { Ref: planId },
      });
    });

    it('takes plan defaults when the tenant file sets no throttle or quota (initech: basic)', () => {
      tpl('initech').hasResourceProperties('AWS::ApiGateway::UsagePlan', {
        Throttle: { RateLimit: 5, BurstLimit: 10 },
        Quota: { Limit: 50_000, Period: 'MONTH' },
      });
    });

    it('validates parameters at the gateway and leaves the inference body to the handler, so callers get its field-by-field message', () => {
      const t = tpl('globex');
      const validators = resourcesOfType(raw.globex!, 'AWS::ApiGateway::RequestValidator');
      const bodyAndParams = validators.find(([, v]) => props(v).ValidateRequestBody === true)!;
      const paramsOnly = validators.find(([, v]) => props(v).ValidateRequestBody === false)!;
      expect(props(bodyAndParams[1]).ValidateRequestParameters).toBe(true);
      expect(props(paramsOnly[1]).ValidateRequestParameters).toBe(true);
      const [modelId] = onlyResource(raw.globex!, 'AWS::ApiGateway::Model');
      t.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        RequestValidatorId: { Ref: paramsOnly[0] },
        RequestModels: { 'application/json': { Ref: modelId } },
      });
      // No route validates a body against a model at the gateway: API Gateway would answer first, with one
      // fixed text instead of the documented message of the handler.
      for (const [, m] of resourcesOfType(raw.globex!, 'AWS::ApiGateway::Method')) {
        const validator = validators.find(([vid]) => flatten(props(m).RequestValidatorId) === `<${vid}>`);
        expect(validator).toBeDefined();
        if (props(m).RequestModels) expect(props(validator![1]).ValidateRequestBody).toBe(false);
      }
    });

    it('request model schema is the JSON schema of the handler (inferenceRequestJsonSchema)', () => {
      const [, model] = onlyResource(raw.globex!, 'AWS::ApiGateway::Model');
      const schema = props(model).Schema as Record<string, unknown>;
      const expected = inferenceRequestJsonSchema();
      expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(schema.additionalProperties).toBe(false);
      expect(schema.oneOf).toEqual([{ required: ['messages'] }, { required: ['prompt'] }]);
      expect(Object.keys(schema.properties as object).sort()).toEqual(
        Object.keys(expected.properties as object).sort(),
      );
      expect(schema).toEqual(expected);
    });

    it('writes access logs to a log group encrypted with the tenant key, with a retention', () => {
      const [, stage] = onlyResource(raw.globex!, 'AWS::ApiGateway::Stage');
      const setting = props(stage).AccessLogSetting as { DestinationArn: unknown; Format: string };
      const logGroupId = flatten(setting.DestinationArn).replace(/^.*log-group:<(.+)>$/, '$1');
      const lg = props(resource('globex', logGroupId));
      expect(resource('globex', logGroupId).Type).toBe('AWS::Logs::LogGroup');
      expect(lg.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId('globex'), 'Arn'] });
      expect(lg.RetentionInDays).toEqual(expect.any(Number));
      expect(JSON.parse(setting.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    });

    it('traces and throttles the stage with the tenant throttle', () => {
      tpl('globex').hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'live',
        TracingEnabled: true,
        MethodSettings: Match.arrayWith([
          Match.objectLike({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400, DataTraceEnabled: false }),
        ]),
      });
    });

    it('pre-creates the encrypted execution log group API-Gateway-Execution-Logs_<api>/live before the stage', () => {
      const [apiId] = onlyResource(raw.globex!, 'AWS::ApiGateway::RestApi');
      const groups = resourcesOfType(raw.globex!, 'AWS::Logs::LogGroup').filter(
        ([, g]) => flatten(props(g).LogGroupName) === `API-Gateway-Execution-Logs_<${apiId}>/live`,
      );
      expect(groups).toHaveLength(1);
      const [groupId, group] = groups[0]!;
      expect(props(group).KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId('globex'), 'Arn'] });
      expect(props(group).RetentionInDays).toEqual(expect.any(Number));
      const [, stage] = onlyResource(raw.globex!, 'AWS::ApiGateway::Stage');
      expect(asArray(stage.DependsOn)).toContain(groupId);
    });

    it('answers API Gateway errors in the {"error":{code,message,requestId}} envelope with codes of ERROR_CODES', () => {
      // API Gateway's default status per response type (DEFAULT_4XX/5XX have none).
      const defaultStatus: Record<string, number> = {
        ACCESS_DENIED: 403,
        API_CONFIGURATION_ERROR: 500,
        BAD_REQUEST_BODY: 400,
        BAD_REQUEST_PARAMETERS: 400,
        INTEGRATION_TIMEOUT: 504,
        INVALID_API_KEY: 403,
        MISSING_AUTHENTICATION_TOKEN: 403,
        QUOTA_EXCEEDED: 429,
        REQUEST_TOO_LARGE: 413,
        THROTTLED: 429,
        UNSUPPORTED_MEDIA_TYPE: 415,
        WAF_FILTERED: 403,
      };
      const responses = resourcesOfType(raw.globex!, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => props(r));
      const types = responses.map((r) => r.ResponseType as string);
      expect(types).toEqual(
        expect.arrayContaining(['BAD_REQUEST_BODY', 'INVALID_API_KEY', 'THROTTLED', 'QUOTA_EXCEEDED', 'DEFAULT_4XX']),
      );
      expect(types).toContain('DEFAULT_5XX');
      for (const r of responses) {
        const type = r.ResponseType as string;
        const template = (r.ResponseTemplates as Record<string, string>)['application/json']!;
        const body = JSON.parse(template.replace('$context.requestId', 'req-1')) as {
          error: { code: ErrorCode; message: string; requestId: string };
        };
        expect(Object.keys(body)).toEqual(['error']);
        expect(body.error).toEqual({ code: expect.any(String), message: expect.any(String), requestId: 'req-1' });
        expect(Object.keys(ERROR_CODES)).toContain(body.error.code);
        expect(body.error.message.length).toBeGreaterThan(5);
        expect((r.ResponseParameters as Record<string, string>)['gatewayresponse.header.Content-Type']).toBe(
          "'application/json'",
        );
        const status = r.StatusCode !== undefined ? Number(r.StatusCode) : defaultStatus[type];
        if (status !== undefined) expect({ type, status }).toEqual({ type, status: ERROR_CODES[body.error.code] });
      }
    });

    it('tells throttled and over-quota callers when to retry (Retry-After)', () => {
      for (const type of ['THROTTLED', 'QUOTA_EXCEEDED']) {
        tpl('globex').hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
          ResponseType: type,
          ResponseParameters: Match.objectLike({
            'gatewayresponse.header.Retry-After': Match.stringLikeRegexp("^'\\d+'$"),
          }),
        });
      }
    });

    it('associates the stage with the platform WAF web ACL', () => {
      const [, assoc] = onlyResource(raw.globex!, 'AWS::WAFv2::WebACLAssociation');
      const [stageId] = onlyResource(raw.globex!, 'AWS::ApiGateway::Stage');
      const [apiId] = onlyResource(raw.globex!, 'AWS::ApiGateway::RestApi');
      expect(flatten(props(assoc).ResourceArn)).toBe(
        `arn:<AWS::Partition>:apigateway:us-east-1::/restapis/<${apiId}>/stages/<${stageId}>`,
      );
      const [aclId] = onlyResource(raw.platform!, 'AWS::WAFv2::WebACL');
      // A weak cross-stack reference: the platform's output, read at deploy time (no export to lock it).
      const ref = outputRefOf(raw.platform!, PLATFORM_STACK_NAME, aclId, 'Arn');
      expect(ref).toBeDefined();
      expect(flatten(props(assoc).WebACLArn)).toBe(ref);
    });
  });

  describe('inference function', () => {
    it("runs on the newest Node.js runtime aws-cdk-lib offers (by version number, not by 'latest')", () => {
      const versions = Object.values(lambda.Runtime)
        .filter((r): r is lambda.Runtime => r instanceof lambda.Runtime && r.family === lambda.RuntimeFamily.NODEJS)
        .map((r) => /^nodejs(\d+)\.x$/.exec(r.name)?.[1])
        .filter((v): v is string => v !== undefined)
        .map(Number);
      const newest = Math.max(...versions);
      expect(newest).toBeGreaterThanOrEqual(24);
      for (const id of TENANTS) expect(props(fnOf(id)[1]).Runtime).toBe(`nodejs${newest}.x`);
    });

    it('runs on arm64 with active tracing, an explicit timeout and the memory and reserved concurrency of the tenant file', () => {
      tpl('globex').hasResourceProperties('AWS::Lambda::Function', {
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Timeout: 29,
        MemorySize: 1536,
        ReservedConcurrentExecutions: 50,
      });
      // Without lambda settings in its file, initech takes the basic plan's: no reserved concurrency.
      tpl('initech').hasResourceProperties('AWS::Lambda::Function', {
        Timeout: 29,
        MemorySize: 512,
        ReservedConcurrentExecutions: Match.absent(),
      });
      // The review functions never reserve: they carry a few requests per review.
      for (const [, fn] of resourcesOfType(raw.globex!, 'AWS::Lambda::Function')) {
        if (!/review/i.test(String(props(fn).Description))) continue;
        expect(props(fn).ReservedConcurrentExecutions).toBeUndefined();
      }
    });

    it.each(TENANTS)('logs to its own log group encrypted with the tenant key, with a retention (%s)', (id) => {
      const fn = props(fnOf(id)[1]);
      const lgId = flatten((fn.LoggingConfig as { LogGroup: unknown }).LogGroup).replace(/^<(.+)>$/, '$1');
      const lg = resource(id, lgId);
      expect(lg.Type).toBe('AWS::Logs::LogGroup');
      expect(props(lg).KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId(id), 'Arn'] });
      expect(props(lg).RetentionInDays).toEqual(expect.any(Number));
      expect(lg.DeletionPolicy).toBe('Retain');
    });

    it.each(TENANTS)('sends failed async invocations to a KMS-encrypted dead-letter topic (%s)', (id) => {
      const fn = props(fnOf(id)[1]);
      const topicId = flatten((fn.DeadLetterConfig as { TargetArn: unknown }).TargetArn).replace(/^<(.+)>$/, '$1');
      const topic = resource(id, topicId);
      expect(topic.Type).toBe('AWS::SNS::Topic');
      expect(props(topic).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId(id), 'Arn'] });
      // The role may publish there (the dead-letter delivery uses the function's role).
      const publish = fnRoleStatements(id).filter((s) => asArray(s.Action).includes('sns:Publish'));
      expect(publish.flatMap((s) => asArray(s.Resource)).map(flatten)).toEqual([`<${topicId}>`]);
    });

    it.each(TENANTS)('gets a TENANT_CONFIG the handler schema accepts and that matches the tenant file (%s)', (id) => {
      const env = (props(fnOf(id)[1]).Environment as { Variables: Record<string, unknown> }).Variables;
      const parsed = TenantRuntimeConfigSchema.parse(JSON.parse(env[TENANT_CONFIG_ENV] as string));
      expect(parsed).toEqual(toRuntimeConfig(configOf(id)));
      expect(parsed.tenantId).toBe(id);
      expect(flatten(env.LEDGER_TABLE_NAME)).toBe(`<${tableId(id)}>`);
    });

    it.each(TENANTS)('%s: reconciles its ledger on a schedule (RECONCILE_EVENT to the inference function)', (id) => {
      const rules = resourcesOfType(raw[id]!, 'AWS::Events::Rule').filter(([, r]) =>
        asArray(props(r).Targets as unknown[]).some(
          (t) => flatten((t as { Arn: unknown }).Arn) === `<${fnOf(id)[0]}.Arn>`,
        ),
      );
      expect(rules).toHaveLength(1);
      const rule = props(rules[0]![1]);
      const minutes = Number(/^rate\((\d+) minutes?\)$/.exec(String(rule.ScheduleExpression))?.[1]);
      expect(minutes).toBeGreaterThan(0);
      expect(minutes).toBeLessThanOrEqual(RECONCILE_EVERY_MINUTES);
      expect(rule.State ?? 'ENABLED').toBe('ENABLED');
      const target = asArray(rule.Targets as unknown[]).find(
        (t) => flatten((t as { Arn: unknown }).Arn) === `<${fnOf(id)[0]}.Arn>`,
      ) as { Input: string };
      expect(JSON.parse(target.Input)).toEqual(RECONCILE_EVENT);
      // EventBridge may invoke the function (resource policy scoped to this rule).
      const perms = resourcesOfType(raw[id]!, 'AWS::Lambda::Permission').filter(
        ([, p]) =>
          flatten(props(p).SourceArn) === `<${rules[0]![0]}.Arn>` &&
          flatten(props(p).FunctionName) === `<${fnOf(id)[0]}.Arn>`,
      );
      expect(perms.map(([, p]) => props(p).Principal)).toEqual(['events.amazonaws.com']);
    });

    it('carries the values of globex.yaml in TENANT_CONFIG', () => {
      const env = (props(fnOf('globex')[1]).Environment as { Variables: Record<string, string> }).Variables;
      expect(JSON.parse(env[TENANT_CONFIG_ENV]!)).toMatchObject({
        plan: 'premium',
        defaultTier: 'balanced',
        tierModels: { fast: 'us.amazon.nova-lite-v1:0' },
        monthlyBudgetUsd: 20000,
        dataRetentionDays: 730,
      });
    });

    it('is one Lambda asset shared by every tenant stack', () => {
      const keys = TENANTS.map((id) => (props(fnOf(id)[1]).Code as { S3Key: string }).S3Key);
      expect(keys[0]).toMatch(/^[0-9a-f]{64}\.zip$/);
      expect(new Set(keys).size).toBe(1);
      const assetPaths = TENANTS.map((id) => fnOf(id)[1].Metadata?.['aws:asset:path']);
      expect(new Set(assetPaths).size).toBe(1);
    });
  });

  describe('IAM', () => {
    it.each(TENANTS)('has no inline IAM policy (%s)', (id) => {
      tpl(id).resourceCountIs('AWS::IAM::Policy', 0);
      for (const [, role] of resourcesOfType(raw[id]!, 'AWS::IAM::Role')) expect(props(role).Policies).toBeUndefined();
    });

    it.each(TENANTS)("lets the function invoke exactly its tenant's models and their fallbacks (%s)", (id) => {
      const bedrock = fnRoleStatements(id).filter(
        (s) => s.Effect === 'Allow' && asArray(s.Action).some((a) => a.startsWith('bedrock:Invoke')),
      );
      expect(bedrock).toHaveLength(1);
      expect(asArray(bedrock[0]!.Action)).toEqual(['bedrock:InvokeModel']);
      const expected = new Set(
        [...Object.values(configOf(id).models.byTier), ...Object.values(configOf(id).models.fallbacks).flat()].flatMap(
          (m) => modelResourceArns(m as string, ARN_ENV),
        ),
      );
      const actual = asArray(bedrock[0]!.Resource as unknown[]).map(flatten);
      expect(new Set(actual)).toEqual(expected);
      expect(actual).toHaveLength(expected.size);
    });

    it('does not let a basic tenant (initech) reach the deep-tier model', () => {
      const resources = fnRoleStatements('initech')
        .filter((s) => s.Effect === 'Allow' && asArray(s.Action).includes('bedrock:InvokeModel'))
        .flatMap((s) => asArray(s.Resource as unknown[]).map(flatten));
      const sonnet = MODELS['us.anthropic.claude-sonnet-4-5-20250929-v1:0']!;
      expect(resources.length).toBeGreaterThan(0);
      expect(resources.filter((r) => r.includes(sonnet.foundationModelId))).toEqual([]);
      expect(resources).toContain(
        `arn:<AWS::Partition>:bedrock:us-east-1:<AWS::AccountId>:inference-profile/us.amazon.nova-micro-v1:0`,
      );
      for (const region of ['us-east-1', 'us-east-2', 'us-west-2']) {
        expect(resources).toContain(`arn:<AWS::Partition>:bedrock:${region}::foundation-model/amazon.nova-micro-v1:0`);
      }
    });

    it('gives globex its override model for the fast tier instead of the catalog default', () => {
      const resources = fnRoleStatements('globex')
        .filter((s) => s.Effect === 'Allow' && asArray(s.Action).includes('bedrock:InvokeModel'))
        .flatMap((s) => asArray(s.Resource as unknown[]).map(flatten));
      expect(resources.some((r) => r.endsWith('amazon.nova-lite-v1:0'))).toBe(true);
      expect(resources.filter((r) => r.includes('nova-micro'))).toEqual([]);
    });

    it.each(TENANTS)(
      'lets each role write only the ledger items it owns: inference never a review (REV#), so it cannot forge a decision (%s)',
      (id) => {
        const table = `<${tableId(id)}.Arn>`;
        const roleOfFunction = (prefix: string) => {
          const [, fn] = resourcesOfType(raw[id]!, 'AWS::Lambda::Function').find(([lid]) => lid.startsWith(prefix))!;
          return flatten(props(fn).Role).replace(/^<(.+)\.Arn>$/, '$1');
        };
        const writes = (role: string, pk: string) =>
          ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'].filter(
            (action) =>
              allows(roleStatements(raw[id]!, role, raw.platform!, PLATFORM_STACK_NAME), {
                action,
                resource: table,
                context: { 'dynamodb:LeadingKeys': [pk] },
              }),
          );
        const items = {
          request: requestKey('r1').pk!,
          usage: usageKey('2026-01').pk!,
          review: reviewKey('rev_x').pk,
          openReviews: openReviewsKey().pk,
          reviewsStarted: reviewsStartedKey('2026-01-01T10').pk,
        };
        // The review caps: inference admits (and gives back), the steps release when a review ends.
        const expected = {
          Inference: { request: true, usage: true, review: false, openReviews: true, reviewsStarted: true },
          ReviewSteps: { request: true, usage: false, review: true, openReviews: true, reviewsStarted: true },
          ReviewApi: { request: true, usage: false, review: true, openReviews: false, reviewsStarted: false },
        };
        for (const [fn, can] of Object.entries(expected)) {
          const role = roleOfFunction(fn);
          for (const [item, pk] of Object.entries(items)) {
            const allowed = writes(role, pk);
            expect({ fn, item, allowed }).toEqual({
              fn,
              item,
              allowed: can[item as keyof typeof can] ? ['dynamodb:PutItem', 'dynamodb:UpdateItem'] : [],
            });
          }
        }
      },
    );

    it.each(TENANTS)('scopes DynamoDB access to its own table without scans or deletes (%s)', (id) => {
      const ddb = fnRoleStatements(id).filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
      expect(ddb.length).toBeGreaterThan(0);
      const actions = ddb.flatMap((s) => asArray(s.Action));
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
      for (const forbidden of [
        'dynamodb:Scan',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteTable',
      ]) {
        expect(actions.filter((a) => actionCovers(a, forbidden))).toEqual([]);
      }
      // Reads: the table and its index; writes: table items only.
      for (const s of ddb) {
        expect(asArray(s.Resource as unknown[]).map(flatten)).toEqual(
          asArray(s.Action).includes('dynamodb:Query')
            ? [`<${tableId(id)}.Arn>`, `<${tableId(id)}.Arn>/index/gsi1`]
            : [`<${tableId(id)}.Arn>`],
        );
      }
    });

    it.each(TENANTS)(
      'scopes KMS use to its own key, and the guardrail key to decryption through Bedrock (%s)',
      (id) => {
        const kmsStatements = fnRoleStatements(id).filter((s) => asArray(s.Action).some((a) => a.startsWith('kms:')));
        const guardrailKey = kmsStatements.filter((s) => s.Sid === 'DecryptGuardrailThroughBedrock');
        const own = kmsStatements.filter((s) => s.Sid !== 'DecryptGuardrailThroughBedrock');
        expect(own.length).toBeGreaterThan(0);
        for (const s of own) expect(asArray(s.Resource as unknown[]).map(flatten)).toEqual([`<${keyId(id)}.Arn>`]);
        expect(guardrailKey).toHaveLength(1);
        expect(asArray(guardrailKey[0]!.Action)).toEqual(['kms:Decrypt']);
        expect(guardrailKey[0]!.Condition).toEqual({
          StringEquals: { 'kms:ViaService': 'bedrock.us-east-1.amazonaws.com' },
        });
        // The platform stack's guardrail key, through a (weak) cross-stack reference.
        expect(asArray(guardrailKey[0]!.Resource as unknown[]).map(flatten)).toEqual([
          expect.stringMatching(/^<Output:Switchboard-Platform\.\w*GuardrailsKey/),
        ]);
      },
    );

    it.each(TENANTS)("binds every model call to the tenant's guardrail version in IAM (%s)", (id) => {
      const statements = fnRoleStatements(id);
      const allow = statements.find((s) => s.Sid === 'InvokeAllowedModelsWithGuardrail')!;
      const deny = statements.find((s) => s.Sid === 'DenyModelCallsWithoutGuardrail')!;
      const wanted = (allow.Condition as { StringEquals: Record<string, unknown> }).StringEquals[
        'bedrock:GuardrailIdentifier'
      ];
      expect(deny).toMatchObject({ Effect: 'Deny', Resource: '*' });
      expect((deny.Condition as { StringNotEquals: Record<string, unknown> }).StringNotEquals).toEqual({
        'bedrock:GuardrailIdentifier': wanted,
      });
      // globex customizes its guardrail: its own; the others share their plan's (platform stack).
      const [ownGuardrail] = resourcesOfType(raw[id]!, 'AWS::Bedrock::Guardrail');
      const [ownVersion] = resourcesOfType(raw[id]!, 'AWS::Bedrock::GuardrailVersion');
      if (id === 'globex') {
        expect(flatten(wanted)).toBe(`<${ownGuardrail![0]}.GuardrailArn>:<${ownVersion![0]}.Version>`);
      } else {
        expect(ownGuardrail).toBeUndefined();
        expect(flatten(wanted)).toMatch(
          /^<Output:Switchboard-Platform\.\w*GuardrailsPlan\w+>:<Output:Switchboard-Platform\.\w*GuardrailsPlan\w+Version\w*>$/,
        );
      }
      const env = (props(fnOf(id)[1]).Environment as { Variables: Record<string, unknown> }).Variables;
      expect(`${flatten(env[GUARDRAIL_ENV.arn])}:${flatten(env[GUARDRAIL_ENV.version])}`).toBe(flatten(wanted));
    });

    it.each(TENANTS)(
      "has no wildcard resource in the tenant's own policies (%s), except state machine log delivery",
      (id) => {
        // The CloudWatch Logs delivery actions accept only "*" (acknowledged on the workflow role).
        const logDelivery =
          /^logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$/;
        for (const [, p] of resourcesOfType(raw[id]!, 'AWS::IAM::ManagedPolicy')) {
          for (const s of statementsOf(props(p).PolicyDocument)) {
            if (asArray(s.Action).every((a) => logDelivery.test(a))) continue;
            // A Deny restricts: "no model call without the guardrail", whatever the model.
            if (s.Effect === 'Deny') continue;
            for (const r of asArray(s.Resource as unknown[])) expect(flatten(r)).not.toBe('*');
            for (const a of asArray(s.Action)) expect(a).not.toMatch(/(^|:)\*$/);
          }
        }
      },
    );

    it.each(TENANTS)(
      'lets no function role change log deliveries or CloudWatch Logs resource policies; only the state machine role may (%s)',
      (id) => {
        const logDelivery = ['logs:PutResourcePolicy', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery'];
        const allows = (statements: StatementJson[], action: string) =>
          statements.some((s) => s.Effect === 'Allow' && asArray(s.Action).some((a) => actionCovers(a, action)));
        const roleIdOf = (r: CfnResourceJson) => flatten(props(r).Role).replace(/^<(.+)\.Arn>$/, '$1');
        const fnRoles = resourcesOfType(raw[id]!, 'AWS::Lambda::Function').map(([, fn]) => roleIdOf(fn));
        expect(fnRoles).toHaveLength(3);
        for (const role of fnRoles) {
          const statements = roleStatements(raw[id]!, role, raw.platform!, PLATFORM_STACK_NAME);
          expect(statements.length).toBeGreaterThan(0);
          for (const action of [...logDelivery, 'xray:PutTraceSegments'])
            expect({ role, action, allowed: allows(statements, action) }).toEqual({
              role,
              action,
              allowed: action.startsWith('xray:'),
            });
        }
        const [, sm] = onlyResource(raw[id]!, 'AWS::StepFunctions::StateMachine');
        const smRole = flatten(props(sm).RoleArn).replace(/^<(.+)\.Arn>$/, '$1');
        const smStatements = roleStatements(raw[id]!, smRole, raw.platform!, PLATFORM_STACK_NAME);
        for (const action of [...logDelivery, 'logs:CreateLogDelivery', 'xray:PutTraceSegments'])
          expect({ action, allowed: allows(smStatements, action) }).toEqual({ action, allowed: true });
      },
    );

    it("attaches the platform's shared tracing policy, and only that, to the function role", () => {
      const [policyId] = resourcesOfType(raw.platform!, 'AWS::IAM::ManagedPolicy').find(([lid]) =>
        lid.startsWith('RuntimePoliciesTracingPolicy'),
      )!;
      const ref = outputRefOf(raw.platform!, PLATFORM_STACK_NAME, policyId);
      expect(ref).toBeDefined();
      expect(
        asArray(props(resource('globex', fnRoleId('globex'))).ManagedPolicyArns as unknown[]).map(flatten),
      ).toEqual([ref]);
    });
  });

  describe('tags', () => {
    const TAGGED_TYPES = [
      'AWS::KMS::Key',
      'AWS::DynamoDB::Table',
      'AWS::Lambda::Function',
      'AWS::IAM::Role',
      'AWS::ApiGateway::RestApi',
      'AWS::ApiGateway::Stage',
      'AWS::ApiGateway::ApiKey',
      'AWS::ApiGateway::UsagePlan',
      'AWS::Logs::LogGroup',
      'AWS::SNS::Topic',
    ];

    it.each(TENANTS)('puts switchboard:tenant and switchboard:plan on every taggable resource (%s)', (id) => {
      const plan = configOf(id).plan;
      for (const type of TAGGED_TYPES) {
        const found = resourcesOfType(raw[id]!, type);
        expect({ type, present: found.length > 0 }).toEqual({ type, present: true });
        for (const [lid, r] of found) {
          expect({ lid, tags: tagsOf(r) }).toEqual({
            lid,
            tags: expect.objectContaining({ [TENANT_TAGS.tenant]: id, [TENANT_TAGS.plan]: plan }),
          });
        }
      }
      for (const [lid, r] of Object.entries(raw[id]!.Resources)) {
        if (props(r).Tags === undefined) continue;
        expect({ lid, tenant: tagsOf(r)[TENANT_TAGS.tenant] }).toEqual({ lid, tenant: id });
      }
    });

    it('adds the tags of the tenant file (acme cost-center)', () => {
      for (const type of ['AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::StepFunctions::StateMachine']) {
        expect(tagsOf(onlyResource(raw.acme!, type)[1])['cost-center']).toBe('4711');
      }
      for (const [, fn] of resourcesOfType(raw.acme!, 'AWS::Lambda::Function')) {
        expect(tagsOf(fn)['cost-center']).toBe('4711');
      }
      expect(tagsOf(onlyResource(raw.globex!, 'AWS::DynamoDB::Table')[1])['cost-center']).toBeUndefined();
    });
  });
});
