/**
 * STS AssumeRole over the Query protocol (form-encoded POST, XML answer), signed with SigV4 from the function's
 * own credentials (sigv4.ts). `@aws-sdk/client-sts` is not among the project's dependencies, and AssumeRole is the one call
 * needed, so it is spoken here with `fetch` (about as much code as wiring a client, and nothing new in the
 * bundle). The endpoint honours `AWS_ENDPOINT_URL_STS` like the SDK; otherwise the regional endpoint.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { signRequest } from './sigv4';
import type { AssumeRoleInput, SessionCredentials, StsPort } from './tenant-credentials';

/** Props of {@link makeStsQueryClient}. */
export interface StsQueryClientProps {
  readonly region: string;
  /** The caller's credentials (the function's role). */
  readonly credentials: AwsCredentialIdentityProvider;
  /** @default - `AWS_ENDPOINT_URL_STS`, else `https://sts.<region>.amazonaws.com` */
  readonly endpoint?: string;
  /** @default Date.now */
  readonly now?: () => number;
}

/** An STS error answer: its code (`AccessDenied`, `RegionDisabledException`, …) and message. */
export class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(`STS ${code}: ${message}`);
    this.name = 'StsError';
  }
}

/** SigV4 headers for a POST of `body` to `url` (service `sts`). */
export function signQuery(url: URL, body: string, creds: AwsCredentialIdentity, region: string, at: Date) {
  return signRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
    service: 'sts',
    region,
    credentials: creds,
    at,
  });
}

/** The form body of an AssumeRole call with session tags. */
export function assumeRoleBody(input: AssumeRoleInput): string {
  const form = new URLSearchParams({
    Action: 'AssumeRole',
    Version: '2011-06-15',
    RoleArn: input.roleArn,
    RoleSessionName: input.roleSessionName,
    DurationSeconds: String(input.durationSeconds),
  });
  Object.entries(input.tags).forEach(([key, value], i) => {
    form.set(`Tags.member.${i + 1}.Key`, key);
    form.set(`Tags.member.${i + 1}.Value`, value);
  });
  return form.toString();
}

const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** The text of the first `<tag>` element of `xml`, or undefined. */
function element(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? unescapeXml(m[1]!) : undefined;
}

/** The credentials of an AssumeRole answer; throws {@link StsError} on an error answer or a malformed one. */
export function parseAssumeRoleResponse(status: number, xml: string): SessionCredentials {
  if (status !== 200) {
    throw new StsError(element(xml, 'Code') ?? 'Unknown', element(xml, 'Message') ?? `HTTP ${status}`, status);
  }
  const accessKeyId = element(xml, 'AccessKeyId');
  const secretAccessKey = element(xml, 'SecretAccessKey');
  const sessionToken = element(xml, 'SessionToken');
  const expiration = new Date(element(xml, 'Expiration') ?? '');
  if (!accessKeyId || !secretAccessKey || !sessionToken || Number.isNaN(expiration.getTime())) {
    throw new StsError('MalformedResponse', 'AssumeRole answered without complete credentials', status);
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiration };
}

/** An {@link StsPort} over HTTPS (or the loopback stand-in). */
export function makeStsQueryClient(props: StsQueryClientProps): StsPort {
  const base = props.endpoint ?? process.env.AWS_ENDPOINT_URL_STS ?? `https://sts.${props.region}.amazonaws.com`;
  const url = new URL(base.endsWith('/') ? base : `${base}/`);
  const now = props.now ?? Date.now;
  return {
    async assumeRole(input) {
      const body = assumeRoleBody(input);
      const headers = signQuery(url, body, await props.credentials(), props.region, new Date(now()));
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5_000) });
      return parseAssumeRoleResponse(res.status, await res.text());
    },
  };
}
