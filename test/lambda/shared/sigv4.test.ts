import { SignatureV4 } from '@smithy/signature-v4';
import { signRequest } from '../../../lambda/shared/sigv4';
import { NodeSha256 } from '../../support/sigv4-check';

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const AT = new Date(Date.UTC(2026, 11, 2, 15, 30, 0));

/** The reference signer's Authorization header for the same request. */
async function reference(
  method: string,
  url: URL,
  service: string,
  headers: Record<string, string>,
  body: string,
  sessionToken?: string,
) {
  const signer = new SignatureV4({
    credentials: { ...CREDS, sessionToken },
    region: 'eu-west-1',
    service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      headers: { ...headers, host: url.host },
      body,
    },
    { signingDate: AT },
  );
  return signed.headers.authorization;
}

describe('sigv4', () => {
  it.each([
    [
      'DELETE',
      'https://apigateway.eu-west-1.amazonaws.com/restapis/abc123/stages/prod/cache/authorizers',
      'apigateway',
      {},
      '',
    ],
    [
      'POST',
      'https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod/v1/tenants',
      'execute-api',
      { 'content-type': 'application/json' },
      '{"id":"hooli"}',
    ],
    ['GET', 'http://127.0.0.1:4567/v1/tenants?limit=5&cursor=a%2Fb%20c', 'execute-api', {}, ''],
    [
      'POST',
      'https://sts.eu-west-1.amazonaws.com/',
      'sts',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'Action=AssumeRole',
    ],
  ])('signs %s %s as the SDK signer does', async (method, u, service, headers, body) => {
    const url = new URL(u);
    for (const sessionToken of [undefined, 'session/token+=']) {
      const credentials = { ...CREDS, ...(sessionToken ? { sessionToken } : {}) };
      const sent = signRequest({ method, url, headers, body, service, region: 'eu-west-1', credentials, at: AT });
      expect(sent.authorization).toBe(await reference(method, url, service, headers, body, sessionToken));
      expect(sent['x-amz-date']).toBe('20261202T153000Z');
      expect(sent['x-amz-security-token']).toBe(sessionToken);
      expect(sent.host).toBeUndefined();
    }
  });

  it('changes the signature when the body, path or secret changes', () => {
    const base = {
      method: 'POST',
      url: new URL('https://x.execute-api.eu-west-1.amazonaws.com/prod/v1/tenants'),
      body: '{}',
      service: 'execute-api',
      region: 'eu-west-1',
      credentials: CREDS,
      at: AT,
    };
    const sig = signRequest(base).authorization;
    expect(signRequest({ ...base, body: '{ }' }).authorization).not.toBe(sig);
    expect(signRequest({ ...base, url: new URL(`${base.url}/x`) }).authorization).not.toBe(sig);
    expect(signRequest({ ...base, credentials: { ...CREDS, secretAccessKey: 'other' } }).authorization).not.toBe(sig);
  });
});
