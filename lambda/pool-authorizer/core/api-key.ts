/**
 * Reading the `x-api-key` header value and hashing it. A caller controls the value, so every check here is one
 * pass over at most {@link MAX_API_KEY_CHARS} characters (longer values are refused on their length alone,
 * before anything reads them), and the key is never compared with anything: it is hashed and the hash is looked
 * up, so the time an answer takes does not depend on how much of a stored key a guess got right.
 */
import { createHash } from 'node:crypto';

/** Longest API key value read; the control plane issues keys of {@link ISSUED_API_KEY_PATTERN}, far shorter. */
export const MAX_API_KEY_CHARS = 128;

/** Keys the control plane issues are printable ASCII without spaces (`sb_` + base64url); others are refused. */
const KEY_CHARS = /^[\x21-\x7e]+$/;

/** The form of the keys the control plane issues: `sb_` followed by 43 base64url characters (256 random bits). */
export const ISSUED_API_KEY_PATTERN = /^sb_[A-Za-z0-9_-]{43}$/;

/** What a header value is: absent (no key sent), malformed (refused without a lookup), or a key to look up. */
export type ApiKeyInput =
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'key'; readonly hash: string };

/** Classifies a raw `x-api-key` value and hashes a well-formed one. */
export function readApiKey(value: string | undefined | null): ApiKeyInput {
  if (value === undefined || value === null || value.length === 0) return { kind: 'missing' };
  if (value.length > MAX_API_KEY_CHARS || !KEY_CHARS.test(value)) return { kind: 'malformed' };
  return { kind: 'key', hash: hashApiKey(value) };
}

/** The SHA-256 of a key's UTF-8 bytes, lowercase hex: what the registry stores and is looked up by. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
