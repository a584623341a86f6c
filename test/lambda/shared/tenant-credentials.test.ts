import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { TENANT_SESSION_TAG } from '../../../lambda/shared/pool-keys';
import {
  REFRESH_BEFORE_EXPIRY_MS,
  SESSION_DURATION_SECONDS,
  TenantCredentials,
} from '../../../lambda/shared/tenant-credentials';
import { makeStsQueryClient, parseAssumeRoleResponse, StsError } from '../../../lambda/shared/tenant-credentials-sts';
import { StsStandIn } from '../../support/sts-standin';

const ROLE = 'arn:aws:iam::123456789012:role/pool-tenant-access';
const FUNCTION_CREDS = { accessKeyId: 'AKIDPOOLFN', secretAccessKey: 'pool-fn-secret', sessionToken: 'fn-token' };

describe('tenant credentials (against the STS stand-in)', () => {
  const sts = new StsStandIn({ [FUNCTION_CREDS.accessKeyId]: FUNCTION_CREDS.secretAccessKey }, TENANT_SESSION_TAG);
  let now = Date.UTC(2026, 11, 2, 12, 0, 0);
  const clock = () => now;
  beforeAll(async () => {
    await sts.start();
    sts.now = clock;
  });
  afterAll(() => sts.stop());
  beforeEach(() => {
    sts.calls.length = 0;
  });

  const client = (secret = FUNCTION_CREDS.secretAccessKey) =>
    makeStsQueryClient({
      region: 'eu-west-1',
      endpoint: sts.endpoint,
      credentials: async () => ({ ...FUNCTION_CREDS, secretAccessKey: secret }),
      now: clock,
    });

  it('assumes the access role with the tenant session tag, once per tenant while the session is fresh', async () => {
    const creds = new TenantCredentials({ sts: client(), roleArn: ROLE, now: clock });
    const acme = creds.forTenant('acme');
    const first = await acme();
    for (let i = 0; i < 10; i++) expect(await acme()).toEqual(first);
    await Promise.all([creds.forTenant('globex')(), creds.forTenant('globex')(), creds.forTenant('globex')()]);
    expect(sts.calls.map((c) => [c.roleSessionName, c.tags, c.roleArn, c.outcome])).toEqual([
      ['tenant-acme', { [TENANT_SESSION_TAG]: 'acme' }, ROLE, 'issued'],
      ['tenant-globex', { [TENANT_SESSION_TAG]: 'globex' }, ROLE, 'issued'],
    ]);
    expect(sts.calls[0]!.durationSeconds).toBe(SESSION_DURATION_SECONDS);
    expect(sts.calls[0]!.callerAccessKeyId).toBe(FUNCTION_CREDS.accessKeyId);
    expect(first.expiration?.getTime()).toBe(now + SESSION_DURATION_SECONDS * 1000);
  });

  it('assumes the role again shortly before the session expires, not before', async () => {
    const creds = new TenantCredentials({ sts: client(), roleArn: ROLE, now: clock });
    const first = await creds.forTenant('acme')();
    const renewAt = first.expiration!.getTime() - REFRESH_BEFORE_EXPIRY_MS;
    now = renewAt - 1;
    expect((await creds.forTenant('acme')()).accessKeyId).toBe(first.accessKeyId);
    now = renewAt;
    const second = await creds.forTenant('acme')();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(sts.calls).toHaveLength(2);
  });

  it('hands a real SDK client the session: its requests are signed with the tenant session key', async () => {
    const seen: string[] = [];
    const ddb = http.createServer((req, res) => {
      seen.push(`${req.headers.authorization} ${req.headers['x-amz-security-token']}`);
      req
        .resume()
        .on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"TableNames":[]}'));
    });
    await new Promise<void>((r) => ddb.listen(0, '127.0.0.1', r));
    const creds = new TenantCredentials({ sts: client(), roleArn: ROLE, now: clock });
    const session = await creds.session('acme');
    const dynamo = new DynamoDBClient({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${(ddb.address() as AddressInfo).port}`,
      credentials: creds.forTenant('acme'),
      maxAttempts: 1,
    });
    try {
      await dynamo.send(new ListTablesCommand({}));
    } finally {
      dynamo.destroy();
      ddb.close();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain(`Credential=${session.accessKeyId}/`);
    expect(seen[0]).toContain(session.sessionToken);
    expect(sts.calls).toHaveLength(1);
  });

  it('fails with the STS error when the signature is wrong, and caches nothing', async () => {
    const creds = new TenantCredentials({ sts: client('wrong-secret'), roleArn: ROLE, now: clock });
    await expect(creds.forTenant('acme')()).rejects.toThrow(StsError);
    await expect(creds.forTenant('acme')()).rejects.toThrow(/SignatureDoesNotMatch/);
  });

  it('refuses to make a session tag of anything but a tenant id', () => {
    const creds = new TenantCredentials({ sts: client(), roleArn: ROLE, now: clock });
    for (const bad of ['', 'ACME', 'acme#globex', 'a*', 'x'.repeat(33), 'acme\u0000']) {
      expect(() => creds.forTenant(bad)).toThrow(/Not a tenant id/);
    }
  });

  it('reads an STS refusal as an error with its code (the stand-in refuses a session without the tag)', async () => {
    const sts2 = client();
    await expect(
      sts2.assumeRole({ roleArn: ROLE, roleSessionName: 'x1', durationSeconds: 900, tags: {} }),
    ).rejects.toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(() => parseAssumeRoleResponse(200, '<AssumeRoleResponse/>')).toThrow(/MalformedResponse/);
  });
});
