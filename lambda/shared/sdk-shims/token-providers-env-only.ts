/**
 * Bundle-time replacement for `@aws-sdk/token-providers` (see lib/constructs/bundling.ts). Bedrock bearer
 * tokens (API keys) are not used by Switchboard functions, which sign with their role; a token is taken
 * only from `AWS_BEARER_TOKEN_BEDROCK`, never from SSO, which drops the SSO-OIDC client from the bundle.
 */
import { TokenProviderError } from '@smithy/core/config';

type Init = { logger?: { debug?: (m: string) => void }; signingName?: string };

export const fromEnvSigningName =
  ({ logger, signingName }: Init = {}) =>
  async () => {
    const key = `AWS_BEARER_TOKEN_${(signingName ?? '').replace(/[\s-]/g, '_').toUpperCase()}`;
    if (!signingName || !(key in process.env)) {
      throw new TokenProviderError(`Token not present in '${key}' environment variable`, { logger } as never);
    }
    return { token: process.env[key] as string };
  };

export const nodeProvider = (init: Init = {}) =>
  fromEnvSigningName({ ...init, signingName: init.signingName ?? 'bedrock' });
export const fromSso = nodeProvider;
export const fromStatic =
  ({ token }: { token?: { token: string } }) =>
  async () => {
    if (!token?.token) throw new TokenProviderError('Please pass a valid token to fromStatic', {} as never);
    return token;
  };
