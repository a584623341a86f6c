/**
 * Suspend, resume, rotation and offboarding flush the pool cell's authorizer cache (FlushStageAuthorizersCache),
 * against the loopback API Gateway stand-in, which checks the SigV4 signature and the path. Without the flush a
 * suspended tenant's key stays accepted for up to the authorizer's cache TTL (60 s); a flush that cannot be made is
 * reported in the answer and the audit, and does not undo the change.
 */
import { makeAuthorizerCacheFlusher } from '../../../lambda/control-plane/adapters/apigateway-authorizer-cache';
import { ApiGatewayStandIn } from '../../support/apigateway-standin';
import { pooled, type RegistryHarness, registryServer } from './registry-harness';

const CP = { accessKeyId: 'AKIDCONTROLPLANE', secretAccessKey: 'control-plane-secret', sessionToken: 'cp-token' };
const CELLS = [
  { id: 'pool-1', capacity: 10, restApiId: 'a1b2c3d4', stage: 'prod' },
  { id: 'pool-2', capacity: 10 },
];

const apigw = new ApiGatewayStandIn({ [CP.accessKeyId]: CP.secretAccessKey }, ['a1b2c3d4/prod']);
const server = registryServer();
beforeAll(async () => {
  await Promise.all([server.start(), apigw.start()]);
});
afterAll(async () => {
  await Promise.all([server.stop(), apigw.stop()]);
});
beforeEach(() => {
  apigw.calls.length = 0;
  apigw.failWith = undefined;
  apigw.onFlush = undefined;
});

const flusher = (secret = CP.secretAccessKey) =>
  makeAuthorizerCacheFlusher({
    region: 'eu-west-1',
    credentials: async () => ({ ...CP, secretAccessKey: secret }),
    endpoint: apigw.endpoint,
  });

async function tenantIn(cells: typeof CELLS | (typeof CELLS)[number][], secret?: string) {
  const h = await server.harness(cells, { authorizerCache: flusher(secret) });
  const created = await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('cache-co') });
  expect(created.status).toBe(201);
  return h;
}
const patch = (h: RegistryHarness, body: unknown) => h.call({ method: 'PATCH', path: '/v1/tenants/cache-co', body });
const lastAudit = async (h: RegistryHarness) => (await h.registry.listAudit('cache-co')).at(-1);

describe('authorizer cache flush', () => {
  it('flushes the cell stage on suspend, resume and rotation (signed), and says so in the answer and the audit', async () => {
    const h = await tenantIn(CELLS);
    for (const body of [{ suspend: true }, { resume: true }, { rotateKey: true }]) {
      const res = await patch(h, body);
      expect(res.status).toBe(200);
      expect(res.body.authorizerCache).toBe('flushed');
      expect((await lastAudit(h))?.authorizerCache).toBe('flushed');
    }
    expect(apigw.flushed).toEqual(['a1b2c3d4/prod', 'a1b2c3d4/prod', 'a1b2c3d4/prod']);
    expect(apigw.calls.map((c) => [c.method, c.path, c.callerAccessKeyId])).toEqual(
      Array(3).fill(['DELETE', '/restapis/a1b2c3d4/stages/prod/cache/authorizers', CP.accessKeyId]),
    );
    // A change that moves no key or status does not flush.
    const res = await patch(h, { monthlyBudgetUsd: 70 });
    expect(res.body.authorizerCache).toBeUndefined();
    expect(apigw.calls).toHaveLength(3);
  });

  it('flushes on offboarding, after the key is revoked, and puts the outcome in the evidence', async () => {
    const h = await tenantIn(CELLS);
    const key = h.issuedKeys[0]!;
    const seenAtFlush: boolean[] = [];
    apigw.onFlush = async () => {
      seenAtFlush.push(await h.usable(key));
    };
    const res = await h.call({ method: 'DELETE', path: '/v1/tenants/cache-co' });
    expect(seenAtFlush).toEqual([false]);
    expect(res.status).toBe(200);
    expect(res.body.authorizerCache).toBeUndefined();
    expect(res.body.evidence.authorizerCache).toBe('flushed');
    expect((await lastAudit(h))?.authorizerCache).toBe('flushed');
    expect(apigw.flushed).toEqual(['a1b2c3d4/prod']);
  });

  it('says what it could not do: a cell without restApiId, API Gateway refusing, a bad signature', async () => {
    const noApi = await tenantIn([CELLS[1]!]);
    const res = await patch(noApi, { suspend: true });
    expect([res.status, res.body.tenant.status]).toEqual([200, 'suspended']);
    expect(res.body.authorizerCache).toBe('not flushed: cell pool-2 has no restApiId in POOL_CELLS');
    expect((await lastAudit(noApi))?.authorizerCache).toBe(res.body.authorizerCache);
    expect(apigw.calls).toEqual([]);

    const h = await tenantIn(CELLS);
    apigw.failWith = { status: 429, type: 'TooManyRequestsException', message: 'Too Many Requests' };
    const throttled = await patch(h, { suspend: true });
    expect([throttled.status, throttled.body.tenant.status]).toEqual([200, 'suspended']);
    expect(throttled.body.authorizerCache).toBe(
      'not flushed: API Gateway answered 429 TooManyRequestsException: Too Many Requests',
    );
    expect((await lastAudit(h))?.authorizerCache).toBe(throttled.body.authorizerCache);

    const forged = await tenantIn(CELLS, 'not-the-secret');
    apigw.failWith = undefined;
    const refused = await patch(forged, { suspend: true });
    expect(refused.body.authorizerCache).toMatch(/^not flushed: API Gateway answered 403 UnauthorizedException/);
    expect(apigw.flushed).toEqual([]);
  });
});
