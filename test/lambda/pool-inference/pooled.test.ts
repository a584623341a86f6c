/**
 * What only the pooled model has to show, through the pooled function's runtime on a local pool cell
 * (test/support/inference-harness.ts, model `pooled`): tenants onboarded through the control plane, the tenant taken
 * from the authorizer context, sessions from the STS stand-in, and every ledger call checked against the synthesized
 * tenant-access policy (test/support/pool-cell.ts):
 *
 * (i) two tenants of one cell each see only their own requests and usage, their items under their own prefixes;
 * (ii) a tenant id anywhere else in the request (body, header, path) is not read;
 * (iii) a suspended tenant, an unknown one and one placed in another cell are refused; a request without the
 *      authorizer's tenant is a logged 500, never a guess;
 * (iv) a noisy neighbour sending ten times its rate does not change another tenant's success rate;
 * (v) a session reaches only its own tenant's keys, refused by IAM (the policy), not by our code, and the code
 *     only ever sends keys under the session's own tenant.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { makeDynamoLedger } from '../../../lambda/inference/adapters/dynamo-ledger';
import { makePoolRuntime } from '../../../lambda/pool-inference/runtime';
import { makeDynamoTenantRegistry, TENANT_CACHE_TTL_MS } from '../../../lambda/pool-inference/tenant-directory';
import { poolKeyScope } from '../../../lambda/shared/key-scope';
import { tenantOfPoolKey } from '../../../lambda/shared/pool-keys';
import { TenantCredentials } from '../../../lambda/shared/tenant-credentials';
import { makeStsQueryClient } from '../../../lambda/shared/tenant-credentials-sts';
import { proxyEvent } from '../../support/bundled-handler';
import { InferenceHarness, inBatches, outcomeOf } from '../../support/inference-harness';
import { ACCESS_ROLE_ARN, FUNCTION_CREDENTIALS, leadingKeysOf, POOL_REGION, withTenant } from '../../support/pool-cell';

const h = new InferenceHarness('pooled');
beforeAll(() => h.start());
afterAll(() => h.stop());
beforeEach(() => {
  h.bedrock.reset();
  h.bedrock.scriptDefault({ kind: 'answer', text: 'Answered.' });
  h.proxy.clear();
  h.clockOffsetMs = 0;
});

const noCascade = { escalation: { confidenceThreshold: 0, reviewThreshold: 0 } };
/** 20 s from now on the service's clock (which tests move ahead to expire the container's caches). */
const deadline = () => ({ deadlineMs: h.now() + 20_000 });
type Tenant = Awaited<ReturnType<InferenceHarness['tenant']>>;

/** Sends a raw proxy event to the pooled function (as API Gateway would, the authorizer's context included). */
async function send(event: APIGatewayProxyEvent) {
  const res = await h.pool!.serve(event, {
    started: Date.now(),
    deadline: deadline(),
    gatewayRequestId: event.requestContext.requestId,
  });
  return { status: res.statusCode, json: JSON.parse(res.body), headers: res.headers ?? {} };
}
const inference = (body: unknown, headers: Record<string, string> = {}) =>
  proxyEvent({ method: 'POST', resource: '/v1/inference', body, headers });
const requestView = (requestId: string, extra: Partial<APIGatewayProxyEvent> = {}) => ({
  ...proxyEvent({
    method: 'GET',
    resource: '/v1/requests/{requestId}',
    path: `/v1/requests/${requestId}`,
    pathParameters: { requestId },
  }),
  ...extra,
});
const tenantIdOf = (t: Tenant) => t.config.tenantId;

describe('(i) two tenants in one cell', () => {
  it('each sees only its own requests and usage; their items are under their own prefixes of the shared table', async () => {
    const a = await h.tenant({ id: 'iso-a', ...noCascade });
    const b = await h.tenant({ id: 'iso-b', ...noCascade });
    const ra = await outcomeOf(a.service.infer({ prompt: 'from a', tier: 'fast' }, deadline()));
    const rb1 = await outcomeOf(b.service.infer({ prompt: 'from b', tier: 'fast' }, deadline()));
    const rb2 = await outcomeOf(b.service.infer({ prompt: 'from b again', tier: 'fast' }, deadline()));
    expect([ra.status, rb1.status, rb2.status]).toEqual([200, 200, 200]);

    // Own requests: found. The other tenant's: 404, the same answer as an id that does not exist.
    expect((await outcomeOf(a.service.getRequest(ra.requestId!))).status).toBe(200);
    for (const [t, other] of [
      [a, rb1.requestId!],
      [b, ra.requestId!],
    ] as const) {
      const o = await outcomeOf(t.service.getRequest(other));
      expect([o.status, o.code]).toEqual([404, 'not_found']);
    }
    // Own usage only.
    expect(((await a.service.getUsage()).body as { requests: number }).requests).toBe(1);
    expect(((await b.service.getUsage()).body as { requests: number }).requests).toBe(2);

    // One table, each tenant's items under T#<tenant>#.
    expect(a.tableName).toBe(b.tableName);
    const all = await h.cell!.allItems();
    const mine = (id: string) => all.filter((i) => tenantOfPoolKey(String(i.pk)) === id);
    expect(
      mine('iso-a')
        .map((i) => String(i.pk))
        .sort(),
    ).toEqual(expect.arrayContaining([`T#iso-a#REQ#${ra.requestId}`, expect.stringMatching(/^T#iso-a#USAGE#/)]));
    expect(mine('iso-b').filter((i) => String(i.pk).startsWith('T#iso-b#REQ#'))).toHaveLength(2);
    for (const i of [...mine('iso-a'), ...mine('iso-b')]) {
      expect(i.tenantId ?? tenantOfPoolKey(String(i.pk))).toBe(tenantOfPoolKey(String(i.pk)));
    }
    expect(all.every((i) => tenantOfPoolKey(String(i.pk)) !== undefined)).toBe(true);
  });
});

describe('(ii) the tenant comes from the authorizer context only', () => {
  it('a tenant id in a header or the path is not read; one in the body is an unknown field (400)', async () => {
    const a = await h.tenant({ id: 'ctx-a', ...noCascade });
    const b = await h.tenant({ id: 'ctx-b', ...noCascade });
    const rb = await outcomeOf(b.service.infer({ prompt: 'b', tier: 'fast' }, deadline()));
    const before = (await b.records()).length;

    // Headers naming B: served as A (its record, its prefix).
    const asA = await send(
      withTenant(
        inference(
          { prompt: 'headers say b', tier: 'fast' },
          { 'x-tenant-id': 'ctx-b', 'x-switchboard-tenant': 'ctx-b' },
        ),
        tenantIdOf(a),
      ),
    );
    expect(asA.status).toBe(200);
    expect((await a.records()).map((r) => r.requestId)).toContain(asA.json.requestId);
    expect(await b.records()).toHaveLength(before);

    // A body naming B: refused as an unknown field, nothing written for anyone.
    const bodySaysB = await send(withTenant(inference({ prompt: 'x', tenantId: 'ctx-b' }), tenantIdOf(a)));
    expect([bodySaysB.status, bodySaysB.json.error.code]).toEqual([400, 'invalid_request']);
    expect(bodySaysB.json.error.message).toContain('tenantId');

    // A path or path parameter naming B, asking for B's request: A's view of it, 404.
    const pathSaysB = await send(
      withTenant(
        requestView(rb.requestId!, {
          path: `/tenants/ctx-b/v1/requests/${rb.requestId}`,
          pathParameters: { requestId: rb.requestId!, tenantId: 'ctx-b' },
        }),
        tenantIdOf(a),
      ),
    );
    expect([pathSaysB.status, pathSaysB.json.error.code]).toEqual([404, 'not_found']);
    expect(await b.records()).toHaveLength(before);
  });

  it('without the authorizer tenant (or with a malformed one) it is a logged 500, whatever the request says', async () => {
    const b = await h.tenant({ id: 'ctx-c', ...noCascade });
    for (const event of [
      withTenant(inference({ prompt: 'x' }, { 'x-tenant-id': 'ctx-c' }), undefined),
      { ...inference({ prompt: 'x' }), requestContext: { requestId: 'gw-bad', authorizer: { tenantId: 'CTX#C' } } },
      { ...inference({ prompt: 'x' }), requestContext: { requestId: 'gw-bad2', authorizer: { tenantId: 42 } } },
    ] as APIGatewayProxyEvent[]) {
      h.poolLog.length = 0;
      const res = await send(event);
      expect([res.status, res.json.error.code]).toEqual([500, 'internal_error']);
      expect(res.json.error.message).not.toMatch(/tenant/i);
      const logged = h.poolLog.map((l) => JSON.parse(l)).find((l) => l.message === 'unhandled error');
      expect(logged).toMatchObject({ level: 'ERROR', error: 'MissingTenantContextError' });
    }
    expect(await b.records()).toEqual([]);
    expect(h.bedrock.calls).toEqual([]);
  });
});

describe('(iii) only active tenants of this cell', () => {
  it('a suspended tenant is refused (403) once the container cache expires, and served again when resumed', async () => {
    const t = await h.tenant({ id: 'susp-a', ...noCascade });
    expect((await outcomeOf(t.service.infer({ prompt: 'ok', tier: 'fast' }, deadline()))).status).toBe(200);
    await h.cell!.setSuspended('susp-a', true);
    h.clockOffsetMs += TENANT_CACHE_TTL_MS + 1;
    const refused = await outcomeOf(t.service.infer({ prompt: 'suspended', tier: 'fast' }, deadline()));
    expect([refused.status, refused.code]).toEqual([403, 'forbidden']);
    expect(await t.records()).toHaveLength(1);
    const usage = await outcomeOf(t.service.getUsage());
    expect(usage.status).toBe(403);
    await h.cell!.setSuspended('susp-a', false);
    h.clockOffsetMs += TENANT_CACHE_TTL_MS + 1;
    const back = await outcomeOf(t.service.infer({ prompt: 'back', tier: 'fast' }, deadline()));
    expect([back.status, back.code, back.body.message]).toEqual([200, undefined, undefined]);
  });

  it('a tenant placed in another cell, or unknown to the registry, is refused (403) and nothing is written', async () => {
    await h.cell!.onboard(
      { id: 'elsewhere', plan: 'basic', escalation: { reviewerEmails: ['r@example.com'] } },
      h.cell!.controlPlaneFor([{ id: 'pool-2', capacity: 10 }]),
    );
    const before = await h.cell!.allItems();
    for (const tenantId of ['elsewhere', 'never-onboarded']) {
      const res = await send(withTenant(inference({ prompt: 'hello', tier: 'fast' }), tenantId));
      expect([res.status, res.json.error.code]).toEqual([403, 'forbidden']);
    }
    expect(await h.cell!.allItems()).toEqual(before);
    expect(h.bedrock.calls).toEqual([]);
    const refusals = h.poolLog.map((l) => JSON.parse(l)).filter((l) => l.message === 'tenant refused');
    expect(refusals.map((l) => [l.tenantId, l.reason])).toEqual(
      expect.arrayContaining([
        ['elsewhere', 'other_cell'],
        ['never-onboarded', 'unknown'],
      ]),
    );
    // The reconciliation lists this cell's active tenants from its own partition of the byCell index: not the
    // tenant of pool-2, not a suspended one.
    await h.tenant({ id: 'listed-a', ...noCascade });
    await h.tenant({ id: 'listed-b', ...noCascade });
    await h.cell!.setSuspended('listed-b', true);
    const registry = makeDynamoTenantRegistry(DynamoDBDocumentClient.from(h.cell!.dynamo), h.cell!.registryTable);
    const listed = await registry.activeTenantsOf('pool-1');
    expect(listed).toContain('listed-a');
    expect(listed).not.toContain('listed-b');
    expect(listed).not.toContain('elsewhere');
    expect(await registry.activeTenantsOf('pool-2')).toEqual(['elsewhere']);
  });
});

describe('(iv) noisy neighbour', () => {
  afterEach(() => {
    h.clockFrozenAt = undefined;
  });

  it("a tenant sending ten times its burst is held to its own allowance; the other's success rate is what it is alone", async () => {
    const throttle = { rateLimit: 5, burstLimit: 10 };
    const windowMs = (throttle.burstLimit / throttle.rateLimit) * 1000;
    const loud = await h.tenant({ id: 'noisy-a', ...noCascade, throttle });
    const quiet = await h.tenant({ id: 'quiet-b', ...noCascade, throttle });
    const ask = (t: Tenant, i: number) =>
      outcomeOf(t.service.infer({ prompt: `request ${i}`, tier: 'fast' }, deadline()));
    const rate = (os: Array<{ status: number }>) => os.filter((o) => o.status === 200).length / os.length;
    /** The service's clock, stopped in a rate window no request has used yet (however slow the machine). */
    const freshWindow = () => {
      h.clockFrozenAt = (Math.floor(h.now() / windowMs) + 2) * windowMs + 20;
    };

    // B alone: its burst at once.
    freshWindow();
    const alone = await inBatches(throttle.burstLimit, throttle.burstLimit, (i) => ask(quiet, i));
    // A sends ten times its burst while B sends the same as before, in one window.
    freshWindow();
    const [noisy, withNeighbour] = await Promise.all([
      inBatches(10 * throttle.burstLimit, 50, (i) => ask(loud, i)),
      inBatches(throttle.burstLimit, throttle.burstLimit, (i) => ask(quiet, i)),
    ]);

    expect(rate(alone)).toBe(1);
    expect(rate(withNeighbour)).toBe(rate(alone));
    // A gets exactly its own allowance; the rest are told to slow down.
    expect(noisy.filter((o) => o.status === 200)).toHaveLength(throttle.burstLimit);
    for (const o of noisy.filter((x) => x.status !== 200)) {
      expect([o.status, o.code]).toEqual([429, 'throttled']);
      expect(o.retryAfter).toBeGreaterThan(0);
    }
    // Refused before anything else was written: one record per admitted request.
    expect(await loud.records()).toHaveLength(throttle.burstLimit);
  });
});

describe('(v) refused by IAM, not by code', () => {
  const sessions = () =>
    new TenantCredentials({
      sts: makeStsQueryClient({
        region: POOL_REGION,
        endpoint: h.cell!.sts.endpoint,
        credentials: async () => FUNCTION_CREDENTIALS,
      }),
      roleArn: ACCESS_ROLE_ARN,
    });
  const ledgerClient = (credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider) =>
    DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: h.proxy.endpoint, region: POOL_REGION, credentials, maxAttempts: 1 }),
    );

  it("a session tagged A is refused B's keys by the tenant-access policy (and the function's own credentials every key)", async () => {
    await h.tenant({ id: 'iam-a', ...noCascade });
    const b = await h.tenant({ id: 'iam-b', ...noCascade });
    const rb = await outcomeOf(b.service.infer({ prompt: 'b', tier: 'fast' }, deadline()));
    const asA = ledgerClient(sessions().forTenant('iam-a'));
    // What the code would do if it passed the wrong tenant to the ledger: the keys are B's, the session is A's.
    await expect(
      makeDynamoLedger(asA, h.cell!.ledgerTable, poolKeyScope('iam-b')).getRequest(rb.requestId!),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    // Its own keys are allowed (B's record is simply not there under A).
    await expect(
      makeDynamoLedger(asA, h.cell!.ledgerTable, poolKeyScope('iam-a')).getRequest(rb.requestId!),
    ).resolves.toBeUndefined();
    // The function's own credentials (no session tag) reach no tenant's keys.
    const own = ledgerClient(FUNCTION_CREDENTIALS);
    await expect(
      makeDynamoLedger(own, h.cell!.ledgerTable, poolKeyScope('iam-b')).getRequest(rb.requestId!),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(h.cell!.denied).toEqual([
      { operation: 'GetItem', tenantTag: 'iam-a', leadingKeys: [`T#iam-b#REQ#${rb.requestId}`] },
      { operation: 'GetItem', leadingKeys: [`T#iam-b#REQ#${rb.requestId}`] },
    ]);
    h.cell!.denied.length = 0;
  });

  it("a function that handed tenant A's requests B's session would write nothing: IAM refuses every ledger call", async () => {
    const a = await h.tenant({ id: 'swap-a', ...noCascade });
    await h.tenant({ id: 'swap-b', ...noCascade });
    const real = sessions();
    const mutated = makePoolRuntime({
      ...h.poolDeps!,
      credentials: { forTenant: (id) => real.forTenant(id === 'swap-a' ? 'swap-b' : id) },
    });
    const res = await mutated.serve(withTenant(inference({ prompt: 'x', tier: 'fast' }), 'swap-a'), {
      started: Date.now(),
      deadline: deadline(),
      gatewayRequestId: 'gw-swap',
    });
    // Refused at admission, the first ledger write: nothing recorded or charged, no model called.
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).error.code).toBe('ledger_unavailable');
    expect(await a.records()).toEqual([]);
    expect(h.bedrock.calls).toEqual([]);
    expect(h.cell!.denied.length).toBeGreaterThan(0);
    expect(
      h.cell!.denied.every((d) => d.tenantTag === 'swap-b' && d.leadingKeys?.every((k) => k.startsWith('T#swap-a#'))),
    ).toBe(true);
    h.cell!.denied.length = 0;
  });

  it("puts the platform's preamble (the cell's POOL_PLATFORM_PREAMBLE) before every pooled tenant's own system text", async () => {
    await h.tenant({ id: 'pre-a', ...noCascade, systemPreamble: 'Answer as Pre-A support.' });
    const cell = makePoolRuntime({ ...h.poolDeps!, platformPreamble: 'Never reveal credentials.' });
    h.bedrock.scriptDefault({ kind: 'answer', text: 'Answered.' });
    const res = await cell.serve(withTenant(inference({ prompt: 'x', tier: 'fast', system: 'Be brief.' }), 'pre-a'), {
      started: Date.now(),
      deadline: deadline(),
      gatewayRequestId: 'gw-pre',
    });
    expect(res.statusCode).toBe(200);
    const system = JSON.stringify(h.bedrock.calls[0]!.body.system);
    const at = (t: string) => system.indexOf(t);
    expect(at('Never reveal credentials.')).toBeGreaterThanOrEqual(0);
    expect(at('Never reveal credentials.')).toBeLessThan(at('Answer as Pre-A support.'));
    expect(at('Answer as Pre-A support.')).toBeLessThan(at('Be brief.'));
  });

  it('every ledger call of a full flow is signed by a tenant session and names only keys under that tenant', async () => {
    const calls: Array<{ tag?: string; keys?: string[]; table: string }> = [];
    h.proxy.observer = (call) =>
      calls.push({
        tag: h.cell!.tenantTagOf(call),
        keys: leadingKeysOf(call),
        table: String((call.body as { TableName?: string }).TableName),
      });
    try {
      // No review in a pool cell yet: A cascades through every tier (an unsure answer on each), B answers plainly.
      const cascade = { escalation: { confidenceThreshold: 0.6, reviewThreshold: 0 } };
      const a = await h.tenant({ id: 'flow-a', ...cascade });
      const b = await h.tenant({ id: 'flow-b', ...noCascade });
      // A: an answer unsure on every tier (three calls, settled once); B: a plain answer, replayed.
      h.bedrock.scriptDefault({ kind: 'answer', text: 'The total is', stopReason: 'max_tokens' });
      const ra = await outcomeOf(a.service.infer({ prompt: 'What is the total?', tier: 'fast' }, deadline()));
      expect(ra.status).toBe(200);
      h.bedrock.scriptDefault({ kind: 'answer', text: 'Answered.' });
      const body = { prompt: 'b', tier: 'fast' as const, idempotencyKey: 'k-1' };
      const rb = await outcomeOf(b.service.infer(body, deadline()));
      expect((await outcomeOf(b.service.infer(body, deadline()))).status).toBe(200);
      await b.service.getRequest(rb.requestId!);
      await a.service.getUsage();
      await h.pool!.reconcile();
    } finally {
      h.proxy.observer = () => undefined;
    }
    const ledgerCalls = calls.filter((c) => c.table === h.cell!.ledgerTable);
    expect(ledgerCalls.length).toBeGreaterThan(20);
    for (const c of ledgerCalls) {
      expect(c.tag).toBeDefined();
      expect(c.keys?.length).toBeGreaterThan(0);
      for (const k of c.keys!) expect(k.startsWith(`T#${c.tag}#`)).toBe(true);
    }
    // Both tenants' requests, and the cell's reconciliation of every tenant, each in its own session.
    expect([...new Set(ledgerCalls.map((c) => c.tag))]).toEqual(expect.arrayContaining(['flow-a', 'flow-b', 'iso-a']));
  });
});
