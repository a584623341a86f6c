/**
 * End to end: the inference handler file esbuild packaged, run with API Gateway proxy events against real
 * local servers (dynalite for DynamoDB, the h2c Bedrock stand-in), through the real AWS SDK clients, in both
 * deployment models:
 *
 * - silo: each tenant's own function as CDK packaged it, with the environment of its synthesized template, and a
 *   table from the template's key schema;
 * - pooled: the pool cell's function (test/support/pooled-bundle.ts), the same tenant files onboarded through the
 *   control plane into the cell, the tenant named by the authorizer context, every ledger call made with the
 *   tenant's STS session and checked against the synthesized tenant-access policy.
 *
 * The ledger is checked after every request (a pooled tenant's items as a silo table would hold them: its own,
 * prefix taken off, admission counters left out).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { parse as parseYaml } from 'yaml';
import { chooseTier, ROUTER_MODEL, scoreRequest } from '../../../lambda/inference/core/routing/router';
import { API_LIMITS } from '../../../lambda/shared/api-schema';
import { costNanoUsd, DEFAULT_TIER_MODELS, nanoToUsd } from '../../../lambda/shared/catalog';
import { ERROR_CODES } from '../../../lambda/shared/errors';
import { RECONCILE_EVENT } from '../../../lambda/shared/tenant-runtime';
import { PLAN_DEFAULTS, RECOMMENDED_THRESHOLDS } from '../../../lib/config/plan-defaults';
import { BedrockStub } from '../../support/bedrock-stub';
import { lambdaContext, loadBundledHandler, proxyEvent } from '../../support/bundled-handler';
import { DynaliteServer } from '../../support/dynalite-server';
import { DEPLOYMENT_MODELS } from '../../support/inference-harness';
import { BundledPoolCell } from '../../support/pooled-bundle';
import { logicalIdOf, REPO_TENANTS, synthSwitchboard } from '../../support/synth';

const TENANTS = ['acme', 'initech'];
type Item = ReturnType<typeof unmarshall>;
/** Any guardrail: the stand-in only checks one when a test sets `requireGuardrail`. */
const POOL_GUARDRAIL = { arn: 'arn:aws:bedrock:us-east-1:111111111111:guardrail/poolplan', version: '1' };

describe.each(DEPLOYMENT_MODELS)('%s model', (model) => {
  const dynalite = new DynaliteServer();
  const bedrock = new BedrockStub();
  /** Calls tenant `id`'s API (its own function, or the cell's as that tenant). */
  let call: (id: string, event: APIGatewayProxyEvent, context?: Partial<Context>) => Promise<APIGatewayProxyResult>;
  /** The scheduled reconciliation, as EventBridge invokes it (the function of acme, or the cell's). */
  let reconcile: () => Promise<unknown>;
  /** A tenant's ledger items (unmarshalled: attributes are read as the test knows them). */
  let items: (id: string) => Promise<Item[]>;
  let cell: BundledPoolCell | undefined;

  async function loadSilo() {
    const synth = synthSwitchboard({ compliance: false });
    const handlers: Record<string, (e: APIGatewayProxyEvent, c?: Partial<Context>) => Promise<APIGatewayProxyResult>> =
      {};
    const tables: Record<string, string> = {};
    for (const id of TENANTS) {
      const template = synth.template(`Switchboard-Tenant-${id}`);
      const tableId = logicalIdOf(template, 'AWS::DynamoDB::Table', 'DataLedger');
      tables[id] = `ledger-${id}`;
      await dynalite.createTableFromTemplate(template, tableId, tables[id]);
      handlers[id] = loadBundledHandler({
        template,
        outdir: synth.outdir,
        functionLogicalId: logicalIdOf(template, 'AWS::Lambda::Function', 'Inference'),
        refs: {
          [tableId]: tables[id],
          // No request here goes to review (the stand-in's answers score above the thresholds).
          [logicalIdOf(template, 'AWS::StepFunctions::StateMachine', 'ReviewWorkflow')]:
            `arn:aws:states:us-east-1:111111111111:stateMachine:switchboard-${id}-review`,
        },
        env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.endpoint, AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint },
      });
    }
    call = (id, event, context) => handlers[id]!(event, context);
    reconcile = () => handlers.acme!(RECONCILE_EVENT as never, lambdaContext());
    items = async (id) => {
      const res = await dynalite.dynamo.send(new ScanCommand({ TableName: tables[id], ConsistentRead: true }));
      return (res.Items ?? []).map((i) => unmarshall(i));
    };
  }

  async function loadPooled() {
    cell = new BundledPoolCell(dynalite, {
      bedrockEndpoint: bedrock.endpoint,
      guardrails: { basic: POOL_GUARDRAIL, standard: POOL_GUARDRAIL, premium: POOL_GUARDRAIL },
    });
    await cell.start();
    for (const id of TENANTS) {
      const file = parseYaml(fs.readFileSync(path.join(REPO_TENANTS, `${id}.yaml`), 'utf8')) as Record<string, unknown>;
      // The same file, served by the cell. Its rate limit is the silo test's (none: API Gateway is not here).
      await cell.cell.onboard(
        { ...file, isolation: 'pool', throttle: { rateLimit: 1_000, burstLimit: 5_000 } },
        undefined,
        { asPooled: true },
      );
    }
    const c = cell;
    call = (id, event, context) => c.handle(id, event, context);
    reconcile = () => c.invoke(RECONCILE_EVENT, lambdaContext());
    items = async (id) => (await c.cell.itemsOf(id)) as Item[];
  }

  /** The handler's JSON log lines of the current test, kept out of the test output (read them when debugging). */
  const logLines: string[] = [];

  beforeAll(async () => {
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logLines.push(String(chunk));
      return true;
    });
    await Promise.all([dynalite.start(), bedrock.start()]);
    await (model === 'silo' ? loadSilo() : loadPooled());
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    if (cell) expect(cell.cell.denied).toEqual([]);
    await Promise.all([dynalite.stop(), bedrock.stop(), cell?.stop()]);
  });

  beforeEach(() => {
    bedrock.reset();
    logLines.length = 0;
  });

  const records = async (tenant: string) => (await items(tenant)).filter((i) => String(i.pk).startsWith('REQ#'));
  const usageItem = async (tenant: string) => (await items(tenant)).find((i) => String(i.pk).startsWith('USAGE#'));

  async function post(
    tenant: string,
    body: unknown,
    opts: { rawBody?: string; headers?: Record<string, string>; ms?: number } = {},
  ) {
    const res = await call(
      tenant,
      proxyEvent({ method: 'POST', resource: '/v1/inference', body, rawBody: opts.rawBody, headers: opts.headers }),
      lambdaContext(opts.ms),
    );
    return { ...res, json: JSON.parse(res.body) };
  }
  async function get(tenant: string, resource: string, pathParameters?: Record<string, string>) {
    const res = await call(tenant, proxyEvent({ method: 'GET', resource, pathParameters }), lambdaContext());
    return { ...res, json: JSON.parse(res.body) };
  }

  describe('POST /v1/inference (bundled handler)', () => {
    it('answers a prompt on the tier the learned router picks and records tokens, cost, model, reason and latency', async () => {
      bedrock.scriptDefault({
        kind: 'answer',
        text: 'Paris is the capital of France.',
        inputTokens: 12,
        outputTokens: 9,
      });
      const before = await records('acme');
      const res = await post('acme', { prompt: 'What is the capital of France?' });
      expect(res.statusCode).toBe(200);
      // acme: standard plan, tier auto → the router's choice with acme's thresholds (same code as the handler).
      const choice = chooseTier(
        scoreRequest(ROUTER_MODEL, 'What is the capital of France?').score,
        ['fast', 'balanced', 'deep'],
        RECOMMENDED_THRESHOLDS,
      );
      const model = DEFAULT_TIER_MODELS[choice.tier];
      // The guardrail read the prompt and the answer (one text unit each) for its content and PII filters.
      const guardrailUnits = { content: 2, sensitiveInformation: 2 };
      expect(bedrock.answered[0]?.guardrailUnits).toEqual(guardrailUnits);
      const cost = nanoToUsd(costNanoUsd(model, { inputTokens: 12, outputTokens: 9, guardrailUnits }));
      expect(res.json.routeReason).toBe(choice.reason);
      expect(res.json).toMatchObject({
        status: 'completed',
        output: 'Paris is the capital of France.',
        tier: choice.tier,
        modelId: model,
        usage: { inputTokens: 12, outputTokens: 9 },
        costUsd: cost,
        escalated: false,
      });
      expect(res.json.requestId).toMatch(/^req_/);
      expect(res.json.attempts).toHaveLength(1);
      expect(bedrock.callsTo(model)).toHaveLength(1);

      const after = await records('acme');
      expect(after).toHaveLength(before.length + 1);
      const rec = after.find((r) => r.requestId === res.json.requestId)!;
      expect(rec).toMatchObject({
        status: 'completed',
        modelId: model,
        inputTokens: 12,
        outputTokens: 9,
        costNanoUsd: costNanoUsd(model, { inputTokens: 12, outputTokens: 9, guardrailUnits }),
        tenantId: 'acme',
      });
      expect(typeof rec.latencyMs).toBe('number');
      expect(rec.expiresAt).toBeGreaterThan(Date.now() / 1000 + 89 * 86400); // acme keeps data 90 days
    });

    it('sends messages and the system prompt to the model as Converse content, the system text for the guardrail to evaluate', async () => {
      const res = await post('acme', {
        system: 'Answer briefly.',
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello!' },
          { role: 'user', content: 'Name a prime.' },
        ],
        tier: 'fast',
        maxTokens: 50,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json.tier).toBe('fast');
      const call = bedrock.callsTo(DEFAULT_TIER_MODELS.fast)[0]!;
      expect(call.body.system).toEqual([{ guardContent: { text: { text: 'Answer briefly.' } } }]);
      expect(call.body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
      expect(call.body.inferenceConfig?.maxTokens).toBe(50);
    });

    const bad: Array<{
      name: string;
      req: { body?: unknown; rawBody?: string; headers?: Record<string, string> };
      code: string;
      mentions?: string;
    }> = [
      { name: 'malformed JSON', req: { rawBody: '{"prompt": "hi"' }, code: 'invalid_json' },
      { name: 'an empty body', req: { rawBody: '' }, code: 'invalid_json' },
      {
        name: 'a wrong content type',
        req: { body: { prompt: 'hi' }, headers: { 'content-type': 'text/plain' } },
        code: 'unsupported_media_type',
      },
      {
        name: 'a missing prompt',
        req: { body: {} },
        code: 'invalid_request',
        mentions: 'exactly one of "messages" or "prompt"',
      },
      { name: 'an empty prompt', req: { body: { prompt: '' } }, code: 'invalid_request', mentions: 'prompt' },
      {
        name: 'both prompt and messages',
        req: { body: { prompt: 'a', messages: [{ role: 'user', content: 'b' }] } },
        code: 'invalid_request',
      },
      {
        name: 'a prompt over the tenant limit',
        req: { body: { prompt: 'x'.repeat(100_001) } },
        code: 'prompt_too_large',
        mentions: '100000',
      },
      {
        name: 'a body over API_LIMITS.maxBodyBytes',
        req: { rawBody: JSON.stringify({ prompt: 'y'.repeat(API_LIMITS.maxBodyBytes) }) },
        code: 'payload_too_large',
      },
      {
        name: 'an unknown field',
        req: { body: { prompt: 'hi', temperature: 2 } },
        code: 'invalid_request',
        mentions: 'temperature',
      },
      {
        name: 'a wrong type',
        req: { body: { prompt: 'hi', maxTokens: '10' } },
        code: 'invalid_request',
        mentions: 'maxTokens',
      },
      {
        name: 'a negative maxTokens',
        req: { body: { prompt: 'hi', maxTokens: -1 } },
        code: 'invalid_request',
        mentions: 'maxTokens',
      },
      {
        name: 'maxTokens above the tenant limit',
        req: { body: { prompt: 'hi', maxTokens: 5000 } },
        code: 'max_tokens_too_large',
        mentions: String(PLAN_DEFAULTS.standard.limits.maxOutputTokens),
      },
      {
        name: 'an unknown tier',
        req: { body: { prompt: 'hi', tier: 'turbo' } },
        code: 'unknown_tier',
        mentions: 'turbo',
      },
      {
        name: 'messages not starting with user',
        req: { body: { messages: [{ role: 'assistant', content: 'x' }] } },
        code: 'invalid_request',
      },
      { name: 'a JSON array body', req: { rawBody: '[1,2]' }, code: 'invalid_request' },
      // Keys that name JavaScript object internals, in metadata and elsewhere.
      {
        name: 'metadata key "constructor"',
        req: { body: { prompt: 'hi', metadata: { constructor: 'x' } } },
        code: 'invalid_request',
        mentions: 'metadata.constructor: the key "constructor" is reserved',
      },
      {
        name: 'metadata key "__proto__"',
        req: { rawBody: '{"prompt":"hi","metadata":{"__proto__":"x"}}' },
        code: 'invalid_request',
        mentions: 'metadata.__proto__: the key "__proto__" is reserved',
      },
      {
        name: 'metadata key "__proto__" holding an object',
        req: { rawBody: '{"prompt":"hi","metadata":{"__proto__":{"maxTokens":1}}}' },
        code: 'invalid_request',
        mentions: '"__proto__" is reserved',
      },
      {
        name: 'metadata key "prototype"',
        req: { body: { prompt: 'hi', metadata: { prototype: 'x' } } },
        code: 'invalid_request',
        mentions: '"prototype" is reserved',
      },
      {
        name: 'a metadata key outside the pattern',
        req: { body: { prompt: 'hi', metadata: { 'white space': 'x' } } },
        code: 'invalid_request',
        mentions: 'keys must be 1-64 characters',
      },
      {
        name: 'a metadata value over 256 characters',
        req: { body: { prompt: 'hi', metadata: { k: 'v'.repeat(257) } } },
        code: 'invalid_request',
        mentions: 'metadata.k',
      },
      {
        name: 'more than 16 metadata keys',
        req: {
          body: { prompt: 'hi', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
        },
        code: 'invalid_request',
        mentions: 'at most 16 keys',
      },
      {
        name: 'a lone surrogate in a metadata value',
        req: { rawBody: '{"prompt":"hi","metadata":{"k":"\\ud800"}}' },
        code: 'invalid_request',
        mentions: 'well-formed Unicode',
      },
      {
        name: 'a lone surrogate in the prompt',
        req: { rawBody: '{"prompt":"hi \\udc00 there"}' },
        code: 'invalid_request',
        mentions: 'prompt: must be well-formed Unicode',
      },
      {
        name: 'a lone surrogate in a message',
        req: { rawBody: '{"messages":[{"role":"user","content":"\\ud83d"}]}' },
        code: 'invalid_request',
        mentions: 'messages.0.content',
      },
      {
        name: 'a "__proto__" key in the body',
        req: { rawBody: '{"prompt":"hi","__proto__":{"maxTokens":1}}' },
        code: 'invalid_request',
        mentions: '__proto__',
      },
      {
        name: 'a "constructor" key in the body',
        req: { body: { prompt: 'hi', constructor: 'x' } },
        code: 'invalid_request',
        mentions: 'constructor',
      },
      {
        name: 'a "__proto__" key in a message',
        req: { rawBody: '{"messages":[{"role":"user","content":"hi","__proto__":{"role":"assistant"}}]}' },
        code: 'invalid_request',
        mentions: '__proto__',
      },
      {
        name: 'a "constructor" key in a message',
        req: { body: { messages: [{ role: 'user', content: 'hi', constructor: 'x' }] } },
        code: 'invalid_request',
        mentions: 'constructor',
      },
      { name: 'tier "constructor"', req: { body: { prompt: 'hi', tier: 'constructor' } }, code: 'unknown_tier' },
      { name: 'tier "__proto__"', req: { body: { prompt: 'hi', tier: '__proto__' } }, code: 'unknown_tier' },
      { name: 'tier "toString"', req: { body: { prompt: 'hi', tier: 'toString' } }, code: 'unknown_tier' },
    ];
    it.each(bad)(
      'rejects $name with a clear 4xx, writes nothing and calls no model',
      async ({ req, code, mentions }) => {
        const before = await items('acme');
        const res = await post('acme', req.body, { rawBody: req.rawBody, headers: req.headers });
        expect(res.statusCode).toBe(ERROR_CODES[code as keyof typeof ERROR_CODES]);
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
        expect(res.json.error.code).toBe(code);
        expect(res.json.error.requestId).toEqual(expect.any(String));
        if (mentions) expect(res.json.error.message).toContain(mentions);
        expect(res.body).not.toMatch(/\bat .+\.js:\d+/); // no stack trace
        expect(await items('acme')).toEqual(before);
        expect(bedrock.calls).toHaveLength(0);
      },
    );

    it('stores metadata keys that merely look like object methods (toString, hasOwnProperty) as data and returns them as sent', async () => {
      bedrock.scriptDefault({ kind: 'answer', text: 'Stored.' });
      const metadata = { toString: 'a', hasOwnProperty: 'b', valueOf: 'c', 'trace.id': 'd' };
      const res = await post('acme', { prompt: 'keep my metadata', metadata, idempotencyKey: 'constructor' });
      expect(res.statusCode).toBe(200);
      const view = await get('acme', '/v1/requests/{requestId}', { requestId: res.json.requestId });
      expect(view.statusCode).toBe(200);
      expect(view.json.metadata).toEqual({ toString: 'a', hasOwnProperty: 'b', valueOf: 'c', 'trace.id': 'd' });
      const rec = (await records('acme')).find((r) => r.requestId === res.json.requestId)!;
      expect(rec.metadata).toEqual({ toString: 'a', hasOwnProperty: 'b', valueOf: 'c', 'trace.id': 'd' });
      // An idempotency key that names an object internal is just a key: the repeat is a replay.
      const again = await post('acme', { prompt: 'keep my metadata', metadata, idempotencyKey: 'constructor' });
      expect([again.statusCode, again.headers?.['Idempotent-Replay']]).toEqual([200, 'true']);
      expect(bedrock.calls).toHaveLength(1);
    });

    it('rejects a tier the tenant does not allow with 422 tier_not_allowed', async () => {
      const before = await items('initech');
      const res = await post('initech', { prompt: 'hi', tier: 'deep' });
      expect(res.statusCode).toBe(422);
      expect(res.json.error.code).toBe('tier_not_allowed');
      expect(res.json.error.message).toContain('fast, balanced');
      expect(await items('initech')).toEqual(before);
      expect(bedrock.calls).toHaveLength(0);
    });
  });

  describe('idempotency', () => {
    it('answers a repeat from the stored record: no second model call, no second charge', async () => {
      bedrock.scriptDefault({ kind: 'answer', text: 'forty-two', inputTokens: 5, outputTokens: 3 });
      const usageBefore = (await usageItem('acme'))?.requests ?? 0;
      const first = await post('acme', { prompt: 'meaning of life?', idempotencyKey: 'order-1001' });
      const second = await post('acme', { prompt: 'meaning of life?', idempotencyKey: 'order-1001' });
      expect(first.statusCode).toBe(200);
      expect(second.statusCode).toBe(200);
      expect(second.json).toEqual(first.json);
      expect(second.headers?.['Idempotent-Replay']).toBe('true');
      expect(bedrock.calls).toHaveLength(1);
      expect((await usageItem('acme'))!.requests).toBe(usageBefore + 1);
      expect((await records('acme')).filter((r) => r.requestId === first.json.requestId)).toHaveLength(1);
    });

    it('refuses a reused key with a different body (409) and changes nothing', async () => {
      await post('acme', { prompt: 'first question', idempotencyKey: 'reuse-1' });
      const before = await items('acme');
      const res = await post('acme', { prompt: 'another question', idempotencyKey: 'reuse-1' });
      expect(res.statusCode).toBe(409);
      expect(res.json.error.code).toBe('idempotency_key_reused');
      expect(await items('acme')).toEqual(before);
    });

    it('refuses a reused key whose messages differ only inside a message (409): every nested field counts', async () => {
      const messages = (text: string) => [{ role: 'user', content: text }];
      const first = await post('acme', { messages: messages('what is 2+2?'), idempotencyKey: 'reuse-nested' });
      expect(first.statusCode).toBe(200);
      const before = await items('acme');
      const calls = bedrock.calls.length;
      const res = await post('acme', { messages: messages('what is 3+3?'), idempotencyKey: 'reuse-nested' });
      expect(res.statusCode).toBe(409);
      expect(res.json.error.code).toBe('idempotency_key_reused');
      expect(await items('acme')).toEqual(before);
      expect(bedrock.calls.length).toBe(calls);
      // The same messages with keys in another order are a true repeat.
      const again = await post('acme', {
        idempotencyKey: 'reuse-nested',
        messages: [{ content: 'what is 2+2?', role: 'user' }],
      });
      expect(again.statusCode).toBe(200);
      expect(again.headers?.['Idempotent-Replay']).toBe('true');
    });

    it('runs the model once when the same key arrives several times at once', async () => {
      bedrock.scriptDefault({ kind: 'answer', text: 'once', latencyMs: 150 });
      const results = await Promise.all(
        Array.from({ length: 6 }, () => post('acme', { prompt: 'concurrent', idempotencyKey: 'burst-1' })),
      );
      expect(bedrock.calls).toHaveLength(1);
      const ok = results.filter((r) => r.statusCode === 200);
      const busy = results.filter((r) => r.statusCode === 409);
      expect(ok.length + busy.length).toBe(6);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      for (const b of busy) expect(b.json.error.code).toBe('request_in_progress');
      const recs = (await records('acme')).filter((r) => r.idempotencyKey === 'burst-1');
      expect(recs).toHaveLength(1);
      expect(recs[0]!.status).toBe('completed');
    });
  });

  describe('model failures', () => {
    it('answers 503 with Retry-After when the model keeps throttling, records the failure and charges nothing', async () => {
      bedrock.scriptDefault({ kind: 'error', status: 429, errorType: 'ThrottlingException' });
      const usageBefore = await usageItem('acme');
      const res = await post('acme', { prompt: 'hello', idempotencyKey: 'throttle-1' });
      expect(res.statusCode).toBe(503);
      expect(res.json.error.code).toBe('model_unavailable');
      expect(Number(res.headers?.['retry-after'])).toBeGreaterThan(0);
      expect(bedrock.calls.length).toBeGreaterThan(1); // the SDK retried
      const rec = (await records('acme')).find((r) => r.requestId === res.json.error.requestId)!;
      expect(rec.status).toBe('failed');
      expect(rec.error.code).toBe('model_unavailable');
      expect(rec.error.message).toContain('ThrottlingException');
      expect(rec.costNanoUsd).toBe(0);
      expect(await usageItem('acme')).toEqual(usageBefore);

      // The model recovers: a retry with the same key completes the same record.
      bedrock.reset();
      const retry = await post('acme', { prompt: 'hello', idempotencyKey: 'throttle-1' });
      expect(retry.statusCode).toBe(200);
      expect(retry.json.requestId).toBe(res.json.error.requestId);
      const recs = (await records('acme')).filter((r) => r.idempotencyKey === 'throttle-1');
      expect(recs).toHaveLength(1);
      expect(recs[0]).toMatchObject({ status: 'completed', runs: 2 });
    });

    it('answers 502 model_error when the model rejects the call', async () => {
      bedrock.scriptDefault({ kind: 'error', status: 400, errorType: 'ValidationException', message: 'bad input' });
      const res = await post('acme', { prompt: 'hello' });
      expect(res.statusCode).toBe(502);
      expect(res.json.error.code).toBe('model_error');
      expect(bedrock.calls).toHaveLength(1); // client errors are not retried
      const rec = (await records('acme')).find((r) => r.requestId === res.json.error.requestId)!;
      expect(rec.status).toBe('failed');
    });

    it('gives up before the Lambda deadline when the model hangs, and records it', async () => {
      bedrock.scriptDefault({ kind: 'hang' });
      const started = Date.now();
      const res = await post('acme', { prompt: 'slow' }, { ms: 4_500 }); // 3 s kept back to record
      const took = Date.now() - started;
      expect(res.statusCode).toBe(504);
      expect(res.json.error.code).toBe('model_timeout');
      expect(res.json.error.message).toContain('No model answered before the deadline');
      expect(took).toBeLessThan(4_500);
      const rec = (await records('acme')).find((r) => r.requestId === res.json.error.requestId)!;
      expect(rec.status).toBe('failed');
      expect(rec.attempts[0].outcome).toBe('timeout');
    });
  });

  describe('GET routes', () => {
    it('returns a request record by id and 404 for an unknown one', async () => {
      const created = await post('acme', { prompt: 'record me', metadata: { caller: 'test' } });
      const res = await get('acme', '/v1/requests/{requestId}', { requestId: created.json.requestId });
      expect(res.statusCode).toBe(200);
      expect(res.json).toMatchObject({
        requestId: created.json.requestId,
        status: 'completed',
        output: created.json.output,
        answeredBy: { type: 'model', modelId: created.json.modelId },
        metadata: { caller: 'test' },
      });
      const missing = await get('acme', '/v1/requests/{requestId}', { requestId: 'req_doesnotexist000000' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json.error.code).toBe('not_found');
    });

    it('reports month-to-date usage that adds up exactly to the ledger records', async () => {
      // Its own requests first (on two tiers), so the sums cover something whatever ran before.
      bedrock.scriptDefault({ kind: 'answer', text: 'Counted.', inputTokens: 7, outputTokens: 3 });
      const mine: string[] = [];
      for (const tier of ['fast', 'balanced']) {
        const r = await post('acme', { prompt: `usage check on ${tier}`, tier });
        expect(r.statusCode).toBe(200);
        mine.push(r.json.requestId);
      }
      const res = await get('acme', '/v1/usage');
      expect(res.statusCode).toBe(200);
      const done = (await records('acme')).filter((r) => r.status === 'completed');
      expect(done.map((r) => r.requestId)).toEqual(expect.arrayContaining(mine));
      expect(res.json.byTier.fast.requests).toBeGreaterThanOrEqual(1);
      expect(res.json.byTier.balanced.requests).toBeGreaterThanOrEqual(1);
      expect(res.json.costUsd).toBeGreaterThan(0);
      const totalNano = done.reduce((n, r) => n + r.costNanoUsd, 0);
      expect(res.json.requests).toBe(done.length);
      expect(res.json.costUsd).toBe(nanoToUsd(totalNano));
      expect(res.json.inputTokens).toBe(done.reduce((n, r) => n + r.inputTokens, 0));
      expect(res.json.budgetUsd).toBe(750);
      const byTierRequests = Object.values(res.json.byTier as Record<string, { requests: number }>).reduce(
        (n, t) => n + t.requests,
        0,
      );
      expect(byTierRequests).toBe(done.length);
    });

    it('answers unknown routes with 404 and wrong methods with 405 in the error envelope', async () => {
      const nf = await call('acme', proxyEvent({ method: 'GET', resource: '/v2/nothing' }), lambdaContext());
      expect(nf.statusCode).toBe(404);
      const na = await call('acme', proxyEvent({ method: 'DELETE', resource: '/v1/usage' }), lambdaContext());
      expect(na.statusCode).toBe(405);
      expect(JSON.parse(na.body).error.code).toBe('method_not_allowed');
      expect(na.headers?.allow).toBe('GET');
    });
  });

  describe('scheduled reconciliation (bundled handler)', () => {
    it('answers the schedule event with what it reconciled in this month and the last, and touches nothing live', async () => {
      bedrock.scriptDefault({ kind: 'answer', text: 'Settled normally.' });
      expect((await post('acme', { prompt: 'one more request' })).statusCode).toBe(200);
      const before = await items('acme');
      const res = (await reconcile()) as {
        reconciled: Record<string, unknown>;
        tenants?: number;
        failed?: number;
      };
      const now = new Date();
      const thisMonth = now.toISOString().slice(0, 7);
      const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
      const nothingOpen = { [lastMonth]: { settled: 0, released: 0 }, [thisMonth]: { settled: 0, released: 0 } };
      if (model === 'silo') {
        expect(res.reconciled).toEqual(nothingOpen);
      } else {
        // The cell's run: every active tenant of the cell, each in its own session.
        expect(res.reconciled).toEqual({ acme: nothingOpen, initech: nothingOpen });
        expect([res.tenants, res.failed]).toEqual([2, 0]);
      }
      expect(await items('acme')).toEqual(before);
    });
  });
});
