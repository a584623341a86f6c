/**
 * AWS KMS on loopback (HTTP/1.1, JSON 1.1, `TrentService.Encrypt` / `Decrypt`): AES-256-GCM with a
 * per-server key, the encryption context bound as additional authenticated data, so a ciphertext only
 * decrypts under the context it was made with, as in KMS. Records which operations were called.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import { LoopbackHttpServer } from './loopback-http-server';

const canonical = (ctx: Record<string, string> | undefined) =>
  JSON.stringify(Object.entries(ctx ?? {}).sort(([a], [b]) => a.localeCompare(b)));

export class KmsStandIn extends LoopbackHttpServer {
  readonly calls: Array<{ operation: string; context: Record<string, string> }> = [];
  /** Recorded calls kept (the oldest are dropped beyond it): a long-running sandbox keeps memory bounded. */
  maxRecorded = Number.POSITIVE_INFINITY;

  /** `key`: the AES key (a sandbox keeps one across restarts, so what it encrypted still decrypts). */
  constructor(private readonly key: Buffer = randomBytes(32)) {
    super();
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      this.calls.push({ operation: op, context: body.EncryptionContext ?? {} });
      if (this.calls.length > this.maxRecorded) this.calls.shift();
      const send = (status: number, payload: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      try {
        if (op === 'Encrypt') {
          const iv = randomBytes(12);
          const c = createCipheriv('aes-256-gcm', this.key, iv);
          c.setAAD(Buffer.from(canonical(body.EncryptionContext)));
          const ct = Buffer.concat([c.update(Buffer.from(body.Plaintext, 'base64')), c.final()]);
          const blob = Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
          send(200, { CiphertextBlob: blob, KeyId: body.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
        } else if (op === 'Decrypt') {
          const blob = Buffer.from(body.CiphertextBlob, 'base64');
          const d = createDecipheriv('aes-256-gcm', this.key, blob.subarray(0, 12));
          d.setAAD(Buffer.from(canonical(body.EncryptionContext)));
          d.setAuthTag(blob.subarray(12, 28));
          const pt = Buffer.concat([d.update(blob.subarray(28)), d.final()]);
          send(200, {
            Plaintext: pt.toString('base64'),
            KeyId: body.KeyId,
            EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          });
        } else {
          send(400, { __type: 'UnsupportedOperationException', message: `${op} is not supported here` });
        }
      } catch {
        send(400, {
          __type: 'InvalidCiphertextException',
          message: 'The ciphertext does not decrypt under this context',
        });
      }
    });
  }
}
