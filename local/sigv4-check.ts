/**
 * Checking SigV4 signatures in the loopback stand-ins with the reference signer (`@smithy/signature-v4`, what the
 * AWS SDK signs with): the request is signed again with the secret of the access key it names, and the two
 * Authorization headers must be equal.
 */
import { createHash, createHmac } from 'node:crypto';
import type * as http from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';

const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : new Uint8Array(d);

/** node:crypto as the reference signer's hash: sha256, or HMAC-sha256 with a secret. */
export class NodeSha256 {
  private readonly h;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData) {
    this.h.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

/** `20261202T101500Z` (x-amz-date) as a Date. */
export const amzDateOf = (s: string) =>
  new Date(s.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));

/**
 * The access key id that signed `req` for `service` in `region`, when its signature is the reference signer's for
 * that key's secret (`secretOf`); undefined for anything else (no or malformed Authorization, unknown key, another
 * region or service, a signature that does not match). A session token travels in `x-amz-security-token`.
 */
export async function signedBy(
  req: http.IncomingMessage,
  body: string,
  opts: { service: string; region: string; secretOf: (accessKeyId: string) => string | undefined },
): Promise<string | undefined> {
  const auth = String(req.headers.authorization ?? '');
  const m = new RegExp(
    `^AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/${opts.service}/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$`,
  ).exec(auth);
  const secret = m ? opts.secretOf(m[1]!) : undefined;
  if (!m || secret === undefined || m[3] !== opts.region) return undefined;
  const headers = Object.fromEntries(m[4]!.split(';').map((h) => [h, String(req.headers[h] ?? '')]));
  const signer = new SignatureV4({
    credentials: { accessKeyId: m[1]!, secretAccessKey: secret, sessionToken: headers['x-amz-security-token'] },
    region: opts.region,
    service: opts.service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const { 'x-amz-security-token': _t, ...unsigned } = headers;
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const expected = await signer.sign(
    {
      method: req.method ?? '',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: url.pathname,
      ...(url.search ? { query: Object.fromEntries(url.searchParams) } : {}),
      headers: unsigned,
      body,
    },
    { signingDate: amzDateOf(headers['x-amz-date'] ?? '') },
  );
  return expected.headers.authorization === auth ? m[1] : undefined;
}
