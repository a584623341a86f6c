/**
 * Task tokens at rest: encrypted with the tenant's KMS key under an encryption context that names the
 * purpose and the review. The tenant key policy denies `kms:Decrypt` under that purpose to every principal
 * except the decision function's role, so the token is reachable only there (other tenant roles can read
 * the ledger item, but only see ciphertext). A ciphertext copied to another review does not decrypt: the
 * review id is part of the context.
 */
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { TASK_TOKEN_CONTEXT_KEY, TASK_TOKEN_CONTEXT_VALUE } from '../../shared/review-schema';
import type { TokenCipher } from '../core/ports';

/** The encryption context key naming a pooled tenant in its task tokens' context (a cell's key is shared). */
export const TOKEN_TENANT_CONTEXT_KEY = 'switchboard:tenant';

/**
 * The cipher of task tokens under `keyId`. `tenantId` (a pool cell, whose key all its tenants' tokens share): the
 * tenant joins the encryption context, so a token ciphertext copied to another tenant's review does not decrypt.
 */
export function makeKmsTokenCipher(kms: KMSClient, keyId: string, tenantId?: string): TokenCipher {
  const context = (reviewId: string) => ({
    [TASK_TOKEN_CONTEXT_KEY]: TASK_TOKEN_CONTEXT_VALUE,
    'switchboard:review': reviewId,
    ...(tenantId === undefined ? {} : { [TOKEN_TENANT_CONTEXT_KEY]: tenantId }),
  });
  return {
    async encrypt(reviewId, token) {
      const res = await kms.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: Buffer.from(token, 'utf8'),
          EncryptionContext: context(reviewId),
        }),
      );
      if (!res.CiphertextBlob) throw new Error('KMS returned no ciphertext');
      return Buffer.from(res.CiphertextBlob).toString('base64');
    },
    async decrypt(reviewId, ciphertext) {
      const res = await kms.send(
        new DecryptCommand({
          KeyId: keyId,
          CiphertextBlob: Buffer.from(ciphertext, 'base64'),
          EncryptionContext: context(reviewId),
        }),
      );
      if (!res.Plaintext) throw new Error('KMS returned no plaintext');
      return Buffer.from(res.Plaintext).toString('utf8');
    },
  };
}
