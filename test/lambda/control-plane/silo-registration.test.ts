/**
 * The silo registration custom resource (SILO_REGISTRATION) on the local parts: CloudFormation events handed to the
 * control plane's handler, the registry on dynalite, and a loopback server playing the pre-signed ResponseURL that
 * records the answers.
 */
import type { RegistryPort } from '../../../lambda/control-plane/core/ports';
import {
  isCustomResourceEvent,
  MAX_RESPONSE_BYTES,
  makeSiloRegistrationHandler,
  responseBody,
  responseUrlOf,
} from '../../../lambda/control-plane/http/silo-registration';
import { SILO_REGISTRATION } from '../../../lambda/shared/pool-runtime';
import { makeTelemetry } from '../../../lambda/shared/telemetry';
import { CfnResponseReceiver } from '../../support/cfn-response-receiver';
import { pooled, type RegistryHarness, registryServer } from './registry-harness';

const STACK = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Switchboard-ControlPlane/1a2b3c4d';
const receiver = new CfnResponseReceiver();
const server = registryServer();
beforeAll(async () => {
  await Promise.all([server.start(), receiver.start()]);
});
afterAll(async () => {
  await Promise.all([server.stop(), receiver.stop()]);
});

let h: RegistryHarness;
let seq = 0;
beforeEach(async () => {
  h = await server.harness();
  receiver.answers.length = 0;
});

const silo = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  plan: 'standard',
  escalation: { reviewerEmails: [`review@${id}.example.com`] },
  ...extra,
});

function event(
  requestType: 'Create' | 'Update' | 'Delete',
  tenantId: string,
  document: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const n = ++seq;
  return {
    RequestType: requestType,
    RequestId: `req-${n}`,
    ResponseURL: `${receiver.endpoint}/cfn-response/${n}?X-Amz-Signature=abc`,
    ResourceType: SILO_REGISTRATION.resourceType,
    LogicalResourceId: `Silo${tenantId.replace(/-/g, '')}`,
    StackId: STACK,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:ControlPlane',
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:ControlPlane',
      [SILO_REGISTRATION.props.tenantId]: tenantId,
      [SILO_REGISTRATION.props.document]: typeof document === 'string' ? document : JSON.stringify(document),
    },
    ...extra,
  };
}

/** Sends an event through the handler; returns the answer PUT to its ResponseURL. */
async function send(e: Record<string, unknown>, registry: RegistryPort = h.registry) {
  const handler = makeSiloRegistrationHandler(
    h.deps(registry),
    makeTelemetry({ tenantId: 'cp', service: 'cp', sink: () => {} }),
    { allowLoopbackResponseUrl: true },
  );
  const before = receiver.answers.length;
  await handler(e);
  expect(receiver.answers).toHaveLength(before + 1);
  const answer = receiver.answers.at(-1)!;
  expect(answer.method).toBe('PUT');
  // The pre-signed URL signs no content type: none is sent (as cfn-response's empty one).
  expect(answer.contentType ?? '').toBe('');
  expect(answer.path).toBe(new URL(String(e.ResponseURL)).pathname + new URL(String(e.ResponseURL)).search);
  return answer.body;
}

describe('silo registration custom resource', () => {
  it('Create registers the silo tenant (no API key item) and answers SUCCESS with the standard fields', async () => {
    const e = event('Create', 'initech', silo('initech'));
    const answer = await send(e);
    expect(answer).toEqual({
      Status: 'SUCCESS',
      Reason: expect.stringMatching(/silo tenant "initech" registered/),
      PhysicalResourceId: 'switchboard-silo-tenant/initech',
      StackId: STACK,
      RequestId: e.RequestId,
      LogicalResourceId: 'Siloinitech',
    });
    expect(await h.registry.getTenant('initech')).toMatchObject({
      isolation: 'silo',
      cell: 'silo',
      status: 'active',
      plan: 'standard',
      version: 1,
    });
    const items = await h.scan();
    expect(items.filter((i) => String(i.pk).startsWith('KEY#'))).toEqual([]);
    expect(items.filter((i) => String(i.pk).startsWith('CELL#'))).toEqual([]);
    expect(await h.registry.listAudit('initech')).toEqual([
      expect.objectContaining({ action: 'register', who: `cloudformation:${STACK}` }),
    ]);
    // The API shows it and refuses what is the file's to change.
    expect((await h.call({ method: 'GET', path: '/v1/tenants/initech' })).body.tenant.isolation).toBe('silo');
    const patch = await h.call({ method: 'PATCH', path: '/v1/tenants/initech', body: { rotateKey: true } });
    expect(patch.body.error.code).toBe('silo_tenant');
  });

  it('Update applies the new document and keeps a suspension; Delete marks it deleted with crypto-shredding evidence', async () => {
    await send(event('Create', 'initech', silo('initech')));
    await h.call({ method: 'PATCH', path: '/v1/tenants/initech', body: { suspend: true } });
    const phys = { PhysicalResourceId: 'switchboard-silo-tenant/initech' };
    const updated = await send(event('Update', 'initech', silo('initech', { monthlyBudgetUsd: 900 }), phys));
    expect(updated).toMatchObject({ Status: 'SUCCESS', ...phys });
    expect(await h.registry.getTenant('initech')).toMatchObject({
      status: 'suspended',
      version: 3,
      runtime: { monthlyBudgetUsd: 900 },
    });
    const deleted = await send(event('Delete', 'initech', silo('initech'), phys));
    expect(deleted).toMatchObject({
      Status: 'SUCCESS',
      ...phys,
      Reason: expect.stringMatching(/stack destroyed; key scheduled for deletion after 30 days/),
    });
    expect((await h.registry.getTenant('initech'))?.status).toBe('deleted');
    const evidence = await h.registry.getEvidence('initech');
    expect(evidence).toMatchObject({
      who: `cloudformation:${STACK}`,
      retentionDays: 90,
      counts: { activeTenantEntries: { before: 1, after: 0 } },
      data: { policy: 'crypto-shred', keyDeletionAfter: expect.any(String) },
    });
    expect(Date.parse(evidence!.data!.policy === 'crypto-shred' ? evidence!.data!.keyDeletionAfter : '')).toBe(
      Date.parse(evidence!.at) + 30 * 86_400_000,
    );
    expect((await h.registry.listAudit('initech')).map((a) => a.action)).toEqual([
      'register',
      'suspend',
      'update',
      'delete',
    ]);
    // A Delete again (CloudFormation may retry) changes nothing and succeeds.
    expect(await send(event('Delete', 'initech', silo('initech'), phys))).toMatchObject({ Status: 'SUCCESS' });
    expect(await h.registry.listAudit('initech')).toHaveLength(4);
    // The key's window follows a short retention.
    await send(event('Create', 'short-co', silo('short-co', { dataRetentionDays: 10 })));
    const short = await send(
      event('Delete', 'short-co', {}, { PhysicalResourceId: 'switchboard-silo-tenant/short-co' }),
    );
    expect(short.Reason).toMatch(/after 10 days/);
  });

  it('answers FAILED with the validation messages for a bad document, and writes nothing', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      [
        'initech',
        silo('initech', { monthlyBudgetUsd: -5 }),
        /invalid_tenant: .*monthlyBudgetUsd: got -5; must be at least 0/,
      ],
      ['initech', '{not json', /Document is not JSON/],
      ['initech', '[1,2]', /must be a JSON object/],
      ['initech', silo('other-co'), /TenantId is "initech" but the document's id is "other-co"/],
      ['initech', silo('initech', { isolation: 'pool' }), /pooled tenants are onboarded through POST \/v1\/tenants/],
    ];
    for (const [id, doc, reason] of cases) {
      const before = await h.scan();
      const answer = await send(event('Create', id, doc));
      expect(answer).toMatchObject({
        Status: 'FAILED',
        PhysicalResourceId: expect.stringMatching(/^switchboard-silo-unregistered\//),
      });
      expect(answer.Reason).toMatch(reason);
      expect(await h.scan()).toEqual(before);
    }
  });

  it('never touches a pooled tenant on Update or Delete, and refuses a deleted pooled id on Create', async () => {
    await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('hooli') });
    const key = h.issuedKeys[0]!;
    const phys = { PhysicalResourceId: 'switchboard-silo-tenant/hooli' };
    // An Update (a file still saying silo after a move to the pool) never converts: a deploy cannot undo a move.
    const before = await h.scan();
    const update = await send(event('Update', 'hooli', silo('hooli'), phys));
    expect(update).toMatchObject({ Status: 'FAILED', ...phys });
    expect(update.Reason).toMatch(
      /^already_pooled: Tenant "hooli" was moved to the pool \(cell pool-1\) but tenants\/hooli\.yaml still says isolation: silo; nothing was changed\. Set isolation: pool/,
    );
    expect(await h.scan()).toEqual(before);
    // A Delete naming it as a silo (its file removed) leaves the pooled tenant alone.
    const removed = await send(event('Delete', 'hooli', {}, phys));
    expect(removed).toMatchObject({
      Status: 'SUCCESS',
      Reason:
        'tenant "hooli" is not a registered silo tenant (moved to the pool, or deleted already): nothing was changed',
    });
    expect(await h.scan()).toEqual(before);
    expect(await h.usable(key)).toBe(true);
    // An offboarded pooled id is never reused: the Create fails, and the Delete after the failed Create is a no-op.
    expect((await h.call({ method: 'DELETE', path: '/v1/tenants/hooli' })).status).toBe(200);
    const offboarded = await h.scan();
    const failed = await send(event('Create', 'hooli', silo('hooli')));
    expect(failed).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: expect.stringMatching(/^switchboard-silo-unregistered\//),
      Reason: expect.stringMatching(
        /^tenant_deleted: Tenant id "hooli" belonged to a pooled tenant offboarded at .*choose another id/,
      ),
    });
    const rollback = await send(
      event('Delete', 'hooli', silo('hooli'), { PhysicalResourceId: String(failed.PhysicalResourceId) }),
    );
    expect(rollback).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: failed.PhysicalResourceId });
    expect(await h.scan()).toEqual(offboarded);
    expect((await h.registry.getTenant('hooli'))?.isolation).toBe('pool');
  });

  it('answers FAILED for a malformed event or an internal error, never leaving the stack waiting', async () => {
    const e = event('Create', 'initech', silo('initech'));
    const badProps = await send({ ...e, ResourceProperties: { TenantId: 'Not An Id' } });
    expect(badProps.Status).toBe('FAILED');
    expect(badProps.Reason).toMatch(/ResourceProperties\.TenantId: .*ResourceProperties\.Document: /);
    const badType = await send({ ...e, RequestType: 'Import' });
    expect(badType).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/RequestType/) });
    const down = new Proxy(h.registry, {
      get: () => async () => {
        throw new Error('registry unreachable');
      },
    });
    const internal = await send(event('Create', 'initech', silo('initech')), down);
    expect(internal).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^Internal error \(Error\)/) });
    expect(JSON.stringify(internal)).not.toMatch(/unreachable/);
  });

  it('PUTs only to https S3 URLs (loopback only when allowed), and keeps the answer within 4096 bytes', async () => {
    for (const ok of [
      'https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/arn%3Aaws/abc?X-Amz-Signature=1',
      'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x',
      'https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x',
    ]) {
      expect(responseUrlOf(ok, false)?.href).toBe(new URL(ok).href);
    }
    for (const bad of [
      'http://bucket.s3.amazonaws.com/x',
      'https://evil.example.com/?h=s3.amazonaws.com',
      'https://s3.amazonaws.com.evil.example.com/x',
      'https://user:pw@bucket.s3.amazonaws.com/x',
      'https://bucket.s3.amazonaws.com:8443/x',
      'https://169.254.169.254/latest',
      `${receiver.endpoint}/x`,
      'not a url',
      42,
    ]) {
      expect(responseUrlOf(bad, false)).toBeUndefined();
    }
    expect(responseUrlOf(`${receiver.endpoint}/x`, true)).toBeDefined();
    // A handler without the loopback option does not PUT to loopback.
    const strict = makeSiloRegistrationHandler(
      h.deps(),
      makeTelemetry({ tenantId: 'cp', service: 'cp', sink: () => {} }),
    );
    await strict(event('Create', 'initech', silo('initech')));
    expect(receiver.answers).toEqual([]);
    const long = responseBody(
      { StackId: STACK, RequestId: 'r', LogicalResourceId: 'L' },
      'FAILED',
      'p',
      'x'.repeat(20_000),
    );
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(JSON.parse(long)).toMatchObject({
      Status: 'FAILED',
      StackId: STACK,
      Reason: expect.stringMatching(/^x+…$/),
    });
  });

  it('tells custom resource events from API Gateway events', () => {
    expect(isCustomResourceEvent(event('Create', 'initech', {}))).toBe(true);
    expect(isCustomResourceEvent({ httpMethod: 'GET', resource: '/v1/tenants' })).toBe(false);
    expect(isCustomResourceEvent(null)).toBe(false);
  });
});
