/**
 * AWS Signature Version 4 for the few AWS calls Switchboard's functions and scripts make over `fetch` instead of
 * an SDK client: STS AssumeRole (tenant-credentials-sts.ts), API Gateway's FlushStageAuthorizersCache (the
 * control plane) and the control plane API itself (`execute-api`, scripts/onboard.ts). Header-based signing, as
 * documented in "Create a signed AWS API request"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html): canonical request,
 * string to sign, derived key, `Authorization` header. Checked against the SDK's own signer
 * (`@smithy/signature-v4`) in test/lambda/shared/sigv4.test.ts.
 */
import { createHash, createHmac } from 'node:crypto';
import type { AwsCredentialIdentity } from '@smithy/types';

/** One request to sign. */
export interface SigV4Request {
  readonly method: string;
  readonly url: URL;
  /** Headers to send and sign (lowercase names); `host`, `x-amz-date` and the session token are added. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Signing name: `sts`, `apigateway`, `execute-api`. */
  readonly service: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  readonly at: Date;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

/** RFC 3986 encoding, as SigV4 asks (`encodeURIComponent` leaves `!'()*` alone). */
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The canonical URI: each segment of the (already encoded) path encoded again, as every service but S3 wants. */
function canonicalPath(url: URL): string {
  const path = url.pathname || '/';
  return path
    .split('/')
    .map((segment) => rfc3986(decodeURIComponentSafe(segment)))
    .join('/');
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The canonical query string: parameters encoded and sorted by name, then value. */
function canonicalQuery(url: URL): string {
  return [...url.searchParams.entries()]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** `20261202T153000Z` */
export const amzDateOf = (at: Date) =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/**
 * The headers to send for `req`: the given ones, `x-amz-date`, `x-amz-security-token` (temporary credentials) and
 * `authorization`. `host` is signed but left out of the result (fetch sets it from the URL).
 */
export function signRequest(req: SigV4Request): Record<string, string> {
  const amzDate = amzDateOf(req.at);
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    host: req.url.host,
    'x-amz-date': amzDate,
    ...(req.credentials.sessionToken ? { 'x-amz-security-token': req.credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    req.method.toUpperCase(),
    canonicalPath(req.url),
    canonicalQuery(req.url),
    ...names.map((n) => `${n}:${headers[n]!.trim().replace(/\s+/g, ' ')}`),
    '',
    names.join(';'),
    sha256(req.body ?? ''),
  ].join('\n');
  const scope = `${day}/${req.region}/${req.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const kDate = hmac(`AWS4${req.credentials.secretAccessKey}`, day);
  const kSigning = hmac(hmac(hmac(kDate, req.region), req.service), 'aws4_request');
  const signature = createHmac('sha256', kSigning).update(toSign, 'utf8').digest('hex');
  const authorization = `AWS4-HMAC-SHA256 Credential=${req.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  const { host: _host, ...sent } = headers;
  return { ...sent, authorization };
}
