/**
 * The pool authorizer's decision: read the key → look its hash up (container cache, then registry) → allow an
 * active key's tenant, refuse everything else. Unknown, suspended and deleted keys take the same path (one
 * lookup, cached alike), so how long a refusal takes does not tell a caller which of them it hit.
 */
import { readApiKey } from './api-key';
import type { LookupCache } from './lookup-cache';
import type { ApiKeyRecord, ApiKeyRegistry, AuthorizerDecision } from './ports';

/** What {@link authorize} uses. */
export interface AuthorizeDeps {
  readonly registry: ApiKeyRegistry;
  readonly cache: LookupCache;
}

async function lookup(hash: string, deps: AuthorizeDeps): Promise<ApiKeyRecord | undefined> {
  const hit = deps.cache.get(hash);
  if (hit) return hit.record;
  const record = await deps.registry.lookupApiKey(hash);
  deps.cache.set(hash, record);
  return record;
}

/** Decides a request from its raw `x-api-key` value. Registry errors propagate (the gateway answers 500). */
export async function authorize(apiKey: string | undefined, deps: AuthorizeDeps): Promise<AuthorizerDecision> {
  const input = readApiKey(apiKey);
  if (input.kind === 'missing') return { outcome: 'unauthorized' };
  if (input.kind === 'malformed') return { outcome: 'forbidden', reason: 'malformed' };
  const record = await lookup(input.hash, deps);
  if (record === undefined) return { outcome: 'forbidden', reason: 'unknown' };
  if (record.status !== 'active') return { outcome: 'forbidden', reason: record.status };
  return { outcome: 'allow', tenantId: record.tenantId };
}
