/**
 * AWS Secrets Manager on loopback (HTTP/1.1, JSON 1.1, `secretsmanager.<Operation>`), enough for the real
 * `@aws-sdk/client-secrets-manager` to read and write webhook secrets: GetSecretValue, PutSecretValue,
 * ListSecrets (name prefix filter) and CreateSecret. Secrets are addressed by name or ARN, as in the service;
 * each PutSecretValue makes a new AWSCURRENT version. Records the operations and secret ids it was asked for,
 * so tests can assert what a caller read or wrote.
 */
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { LoopbackHttpServer } from './loopback-http-server';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';

interface Stored {
  readonly name: string;
  readonly arn: string;
  value: string;
  versionId: string;
  readonly versions: string[];
}

export class SecretsManagerStandIn extends LoopbackHttpServer {
  readonly calls: Array<{ operation: string; secretId?: string }> = [];
  private readonly secrets = new Map<string, Stored>();
  /** When set, every call fails with this error type (e.g. `AccessDeniedException`). */
  failWith?: string;

  /** Creates (or replaces) a secret directly; returns its ARN. */
  put(name: string, value: string): string {
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${randomUUID().slice(0, 6)}`;
    const versionId = randomUUID();
    this.secrets.set(name, { name, arn, value, versionId, versions: [versionId] });
    return arn;
  }

  /** Sets a new current value of an existing secret (by name or ARN), as PutSecretValue does. */
  update(id: string, value: string): void {
    const s = this.find(id);
    if (!s) throw new Error(`No secret ${id}`);
    s.value = value;
    s.versionId = randomUUID();
    s.versions.push(s.versionId);
  }

  /** The current value of a secret (by name or ARN). */
  value(id: string): string | undefined {
    return this.find(id)?.value;
  }

  /** How many versions a secret has had. */
  versions(id: string): number {
    return this.find(id)?.versions.length ?? 0;
  }

  clear(): void {
    this.secrets.clear();
    this.calls.length = 0;
    this.failWith = undefined;
  }

  private find(id: string): Stored | undefined {
    return this.secrets.get(id) ?? [...this.secrets.values()].find((s) => s.arn === id);
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const secretId = typeof body.SecretId === 'string' ? body.SecretId : undefined;
      this.calls.push({ operation: op, ...(secretId ? { secretId } : {}) });
      const send = (status: number, payload: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      const notFound = () =>
        send(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
      if (this.failWith) return send(400, { __type: this.failWith, message: `${op} refused by the stand-in` });
      const s = secretId ? this.find(secretId) : undefined;
      switch (op) {
        case 'GetSecretValue':
          if (!s) return notFound();
          return send(200, {
            ARN: s.arn,
            Name: s.name,
            SecretString: s.value,
            VersionId: s.versionId,
            VersionStages: ['AWSCURRENT'],
            CreatedDate: Date.now() / 1000,
          });
        case 'PutSecretValue': {
          if (!s) return notFound();
          s.value = String(body.SecretString ?? '');
          s.versionId = typeof body.ClientRequestToken === 'string' ? body.ClientRequestToken : randomUUID();
          s.versions.push(s.versionId);
          return send(200, { ARN: s.arn, Name: s.name, VersionId: s.versionId, VersionStages: ['AWSCURRENT'] });
        }
        case 'CreateSecret': {
          const arn = this.put(String(body.Name), String(body.SecretString ?? ''));
          const created = this.find(arn)!;
          return send(200, { ARN: arn, Name: created.name, VersionId: created.versionId });
        }
        case 'ListSecrets': {
          const filters = (body.Filters as Array<{ Key: string; Values: string[] }> | undefined) ?? [];
          const list = [...this.secrets.values()].filter((x) =>
            filters.every((f) => f.Key !== 'name' || f.Values.some((v) => x.name.startsWith(v))),
          );
          return send(200, { SecretList: list.map((x) => ({ ARN: x.arn, Name: x.name })) });
        }
        default:
          return send(400, { __type: 'InvalidRequestException', message: `${op} is not supported here` });
      }
    });
  }
}
