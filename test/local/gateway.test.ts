/**
 * The local API Gateway (local/gateway.ts) follows the synthesized template: its routes, API-key requirement, usage
 * plan throttle, request validator and model, IAM routes (the sandbox token only), the pool's Lambda authorizer (its
 * context passed on, its result cached for the template's TTL until flushed) and the template's gateway responses.
 * The functions behind it are a recording port here; test/local/sandbox.test.ts runs the real bundles.
 */
import { LocalGateway, type RestApiSpec, readRestApis } from '../../local/gateway';
import type { TemplateJson } from '../../local/template';
import { synthSwitchboard } from '../support/synth';

// biome-ignore lint/suspicious/noExplicitAny: events, answers and templates are plain JSON
type Json = any;

let tenantTemplate: TemplateJson;
let poolTemplate: TemplateJson;
const gateways: LocalGateway[] = [];

beforeAll(() => {
  const synth = synthSwitchboard({ compliance: false });
  tenantTemplate = synth.template('Switchboard-Tenant-acme');
  poolTemplate = synth.template('Switchboard-Pool-1');
});

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.stop()));
});

const KEY = 'sbx-acme-test-key';
const TOKEN = 'sbt_test-token';

/** A gateway of `spec` whose functions record their events and answer 200 (or what `answer` says). */
async function gatewayOf(
  spec: RestApiSpec,
  opts: { answer?: (fnId: string, event: Json) => unknown; now?: () => number } = {},
) {
  const events: Array<{ fnId: string; event: Json }> = [];
  const g = new LocalGateway(spec, {
    invoke: async (fnId, event) => {
      events.push({ fnId, event });
      return opts.answer ? opts.answer(fnId, event) : { statusCode: 200, body: JSON.stringify({ ok: true }) };
    },
    apiKeyValues: new Map([...spec.apiKeys.keys()].map((id) => [id, KEY])),
    token: TOKEN,
    apiId: 'abc123',
    ...(opts.now ? { now: opts.now } : {}),
  });
  gateways.push(g);
  const url = await g.listen(0);
  return { url, events, gateway: g };
}

const tenantApi = () => readRestApis(tenantTemplate, 'Switchboard-Tenant-acme')[0]!;
const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Json, headers: res.headers });

describe('a tenant API from its template', () => {
  it('has the routes of the template and answers others with its not-found response', async () => {
    const api = tenantApi();
    expect(api.methods.map((m) => `${m.httpMethod} ${m.resourcePath}`).sort()).toEqual(
      expect.arrayContaining([
        'GET /v1/requests/{requestId}',
        'GET /v1/reviews',
        'GET /v1/usage',
        'POST /v1/inference',
      ]),
    );
    const { url, events } = await gatewayOf(api);
    for (const [method, path] of [
      ['GET', '/v1/nothing'],
      ['DELETE', '/v1/inference'],
    ]) {
      const res = await json(await fetch(`${url}${path}`, { method, headers: { 'x-api-key': KEY } }));
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: 'not_found', message: 'No such route; routes are under /v1' });
    }
    const ok = await fetch(`${url}/v1/requests/req_123`, { headers: { 'x-api-key': KEY } });
    expect(ok.status).toBe(200);
    expect(events.at(-1)!.event).toMatchObject({
      resource: '/v1/requests/{requestId}',
      path: '/v1/requests/req_123',
      pathParameters: { requestId: 'req_123' },
      requestContext: { stage: 'live', identity: { apiKey: KEY } },
    });
    expect(events).toHaveLength(1);
  });

  it('needs the API key where the template says so, with its forbidden response', async () => {
    const { url, events } = await gatewayOf(tenantApi());
    for (const headers of [{}, { 'x-api-key': 'not-the-key' }] as Array<Record<string, string>>) {
      const res = await json(await fetch(`${url}/v1/usage`, { headers }));
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe('Missing or invalid API key: send it in the x-api-key header');
    }
    expect(events).toHaveLength(0);
  });

  it('throttles a key at the usage plan burst, with the template Retry-After', async () => {
    const api = tenantApi();
    const burst = api.usagePlans[0]!.throttle!.burstLimit;
    const { url, events } = await gatewayOf(api, { now: () => 1_000_000 });
    const statuses: number[] = [];
    for (let i = 0; i <= burst; i++)
      statuses.push((await fetch(`${url}/v1/usage`, { headers: { 'x-api-key': KEY } })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(burst);
    const last = await json(await fetch(`${url}/v1/usage`, { headers: { 'x-api-key': KEY } }));
    expect(last.status).toBe(429);
    expect(last.body.error.code).toBe('throttled');
    expect(last.headers.get('retry-after')).toBe('1');
    expect(events).toHaveLength(burst);
  });

  it('validates a body against the template model only where the method has a body validator', async () => {
    const bad = JSON.stringify({ prompt: 5, extra: true });
    // As synthesized: POST /v1/inference validates parameters only (the handler checks the body), so it passes.
    const asIs = await gatewayOf(tenantApi());
    const passed = await fetch(`${asIs.url}/v1/inference`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: bad,
    });
    expect(passed.status).toBe(200);
    // With the template's body validator on the method, the InferenceRequest model refuses it at the gateway.
    const template = structuredClone(tenantTemplate) as Json;
    const [methodId] = Object.entries(template.Resources).find(
      ([, r]: [string, Json]) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.RequestModels,
    )!;
    const [validatorId] = Object.entries(template.Resources).find(
      ([, r]: [string, Json]) => r.Type === 'AWS::ApiGateway::RequestValidator' && r.Properties.ValidateRequestBody,
    )!;
    template.Resources[methodId].Properties.RequestValidatorId = { Ref: validatorId };
    const validated = await gatewayOf(readRestApis(template, 'Switchboard-Tenant-acme')[0]!);
    const post = (body: string) =>
      fetch(`${validated.url}/v1/inference`, {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
        body,
      }).then(json);
    for (const body of [
      bad,
      '{"prompt":',
      JSON.stringify({ prompt: 'hi', messages: [{ role: 'user', content: 'x' }] }),
    ]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', message: 'Invalid request body' });
    }
    expect(validated.events).toHaveLength(0);
    expect((await post(JSON.stringify({ prompt: 'hi', maxTokens: 10 }))).status).toBe(200);
    expect(validated.events).toHaveLength(1);
  });

  it('accepts only the sandbox token on IAM routes, and names the caller as an IAM user', async () => {
    const { url, events } = await gatewayOf(tenantApi());
    const ok = await fetch(`${url}/v1/reviews`, {
      headers: { authorization: `Bearer ${TOKEN}`, 'x-sandbox-user': 'alice' },
    });
    expect(ok.status).toBe(200);
    expect(events[0]!.event.requestContext.identity.userArn).toBe('arn:aws:iam::111122223333:user/sandbox-alice');
    for (const headers of [
      {},
      { authorization: 'Bearer sbt_other' },
      {
        authorization: `AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
      },
      { 'x-api-key': KEY },
      { authorization: `Bearer ${TOKEN}`, 'x-sandbox-user': 'not a name' },
    ] as Array<Record<string, string>>) {
      const res = await json(await fetch(`${url}/v1/reviews`, { headers }));
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'forbidden', message: 'Access denied' });
    }
    expect(events).toHaveLength(1);
  });

  it('answers a failing function with the template 5XX response', async () => {
    const { url } = await gatewayOf(tenantApi(), {
      answer: () => {
        throw new Error('boom');
      },
    });
    const res = await json(await fetch(`${url}/v1/usage`, { headers: { 'x-api-key': KEY } }));
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('internal_error');
  });
});

describe('a pool cell API from its template', () => {
  const allow = (tenantId: string, arn: string) => ({
    principalId: tenantId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn }],
    },
    context: { tenantId },
  });

  it('runs the authorizer, passes its context on, caches it for the TTL until a flush', async () => {
    const api = readRestApis(poolTemplate, 'Switchboard-Pool-1')[0]!;
    const authorizer = [...api.authorizers.values()][0]!;
    expect(authorizer.ttlSeconds).toBeGreaterThan(0);
    const { url, events, gateway } = await gatewayOf(api, {
      answer: (fnId, event) => {
        if (fnId !== authorizer.functionId) return { statusCode: 200, body: '{}' };
        if (event.headers['x-api-key'] === 'bad') throw new Error('Unauthorized');
        if (event.headers['x-api-key'] === 'other')
          return { ...allow('t2', 'arn:aws:execute-api:*:*:zzz/*'), context: {} };
        return allow('t1', `${event.methodArn.split('/').slice(0, 2).join('/')}/*`);
      },
    });
    const call = (key?: string) => fetch(`${url}/v1/usage`, { headers: key ? { 'x-api-key': key } : {} }).then(json);
    expect((await call('k1')).status).toBe(200);
    expect((await call('k1')).status).toBe(200);
    const authorizerCalls = () => events.filter((e) => e.fnId === authorizer.functionId).length;
    expect(authorizerCalls()).toBe(1);
    const handled = events.filter((e) => e.fnId !== authorizer.functionId);
    expect(handled.map((e) => e.event.requestContext.authorizer)).toEqual([
      expect.objectContaining({ tenantId: 't1', principalId: 't1' }),
      expect.objectContaining({ tenantId: 't1', principalId: 't1' }),
    ]);
    gateway.flushAuthorizerCache();
    expect((await call('k1')).status).toBe(200);
    expect(authorizerCalls()).toBe(2);
    const missing = await call();
    expect(missing.status).toBe(401);
    const refused = await call('bad');
    expect(refused.status).toBe(401);
    const denied = await call('other');
    expect(denied.status).toBe(403);
    expect(events.filter((e) => e.fnId !== authorizer.functionId)).toHaveLength(3);
  });
});
