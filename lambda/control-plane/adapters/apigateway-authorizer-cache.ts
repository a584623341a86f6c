/**
 * API Gateway's FlushStageAuthorizersCache over `fetch`, signed with SigV4 (lambda/shared/sigv4.ts): one REST call,
 * so no `@aws-sdk/client-api-gateway` in the bundle. The call, as documented in the API Gateway API reference
 * (https://docs.aws.amazon.com/apigateway/latest/api/API_FlushStageAuthorizersCache.html):
 * `DELETE /restapis/{restapi_id}/stages/{stage_name}/cache/authorizers`, no body, `202` with an empty body on
 * success; errors as `x-amzn-errortype` and a JSON `message`. The endpoint honours `AWS_ENDPOINT_URL_API_GATEWAY`
 * like the SDK; otherwise the regional endpoint.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { signRequest } from '../../shared/sigv4';
import type { AuthorizerCachePort } from '../core/ports';

/** Props of {@link makeAuthorizerCacheFlusher}. */
export interface AuthorizerCacheFlusherProps {
  readonly region: string;
  /** The control plane function's credentials. */
  readonly credentials: AwsCredentialIdentityProvider;
  /** @default - `AWS_ENDPOINT_URL_API_GATEWAY`, else `https://apigateway.<region>.amazonaws.com` */
  readonly endpoint?: string;
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** An {@link AuthorizerCachePort} on API Gateway's management API. */
export function makeAuthorizerCacheFlusher(props: AuthorizerCacheFlusherProps): AuthorizerCachePort {
  const base =
    props.endpoint ?? process.env.AWS_ENDPOINT_URL_API_GATEWAY ?? `https://apigateway.${props.region}.amazonaws.com`;
  const now = props.now ?? Date.now;
  return {
    async flush(restApiId, stage) {
      const url = new URL(
        `/restapis/${encodeURIComponent(restApiId)}/stages/${encodeURIComponent(stage)}/cache/authorizers`,
        base,
      );
      const headers = signRequest({
        method: 'DELETE',
        url,
        service: 'apigateway',
        region: props.region,
        credentials: await props.credentials(),
        at: new Date(now()),
      });
      const res = await fetch(url, { method: 'DELETE', headers, signal: AbortSignal.timeout(props.timeoutMs ?? 5000) });
      const text = (await res.text()).slice(0, 2000);
      if (res.status >= 200 && res.status < 300) return;
      let message = '';
      try {
        message = String(JSON.parse(text).message ?? '');
      } catch {
        // not JSON: the status says enough
      }
      const type = (res.headers.get('x-amzn-errortype') ?? '').split(':')[0];
      throw new Error(
        `API Gateway answered ${res.status}${type ? ` ${type}` : ''}${message ? `: ${message.slice(0, 200)}` : ''}`,
      );
    },
  };
}
