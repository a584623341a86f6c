/**
 * Bundle-time replacement for `@aws-sdk/credential-provider-node` (see lib/constructs/bundling.ts).
 *
 * In Lambda the runtime hands the function its role's credentials as environment variables, so the
 * default chain's SSO, INI, process, web-identity, container and IMDS providers (and the STS/SSO clients
 * they pull in) are dead weight: about 100 KB of the bundle and of every cold start. This keeps the same
 * exports, resolving credentials from the environment only.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentity } from '@smithy/types';

export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
export const credentialsWillNeedRefresh = (c?: AwsCredentialIdentity) => c?.expiration !== undefined;
export const credentialsTreatedAsExpired = (c?: AwsCredentialIdentity) =>
  c?.expiration !== undefined && c.expiration.getTime() - Date.now() < 300_000;
