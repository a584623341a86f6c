/**
 * API Gateway's management API on loopback, for FlushStageAuthorizersCache
 * (`DELETE /restapis/{restapi_id}/stages/{stage_name}/cache/authorizers`, 202 with an empty body). It checks each
 * request's SigV4 signature with the reference signer (`@smithy/signature-v4`, service `apigateway`) against the
 * secret of the access key it names, answers 404 NotFoundException for a stage it does not know (as API Gateway
 * does), can be told to fail, and records every flush, so a test can assert what was flushed and when.
 */
import { createHash, createHmac } from 'node:crypto';
import type * as http from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { LoopbackHttpServer } from './loopback-http-server';

const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : new Uint8Array(d);

class Sha256 {
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

/** One request the stand-in answered. */
export interface FlushCall {
  readonly method: string;
  readonly path: string;
  readonly restApiId?: string;
  readonly stage?: string;
  readonly callerAccessKeyId?: string;
  readonly status: number;
}

const FLUSH_PATH = /^\/restapis\/([^/]+)\/stages\/([^/]+)\/cache\/authorizers$/;

export class ApiGatewayStandIn extends LoopbackHttpServer {
  readonly calls: FlushCall[] = [];
  /** When set, every flush is answered with this (status, error type). */
  failWith?: { status: number; type: string; message: string };
  /** Runs before a flush is answered (a test looks at the world as the flush sees it). */
  onFlush?: () => Promise<void>;

  constructor(
    /** Secrets of the callers it accepts, by access key id. */
    private readonly callers: Record<string, string>,
    /** The stages that exist, as `<restApiId>/<stage>`. */
    private readonly stages: readonly string[],
    private readonly region = 'eu-west-1',
  ) {
    super();
  }

  /** Flushes made (answered 202), in order. */
  get flushed(): string[] {
    return this.calls.filter((c) => c.status === 202).map((c) => `${c.restApiId}/${c.stage}`);
  }

  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.answer(req, Buffer.concat(chunks).toString('utf8')).then(
        ({ status, type, message, call }) => {
          this.calls.push({ ...call, status });
          if (status === 202) {
            res.writeHead(202).end();
            return;
          }
          res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type ?? 'Error' });
          res.end(JSON.stringify({ message }));
        },
        () => res.writeHead(500).end(),
      );
    });
  }

  private async caller(req: http.IncomingMessage, body: string): Promise<string | undefined> {
    const auth = String(req.headers.authorization ?? '');
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/apigateway\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(
        auth,
      );
    const secret = m ? this.callers[m[1]!] : undefined;
    if (!m || secret === undefined || m[3] !== this.region) return undefined;
    const headers = Object.fromEntries(m[4]!.split(';').map((h) => [h, String(req.headers[h] ?? '')]));
    const amzDate = headers['x-amz-date'] ?? '';
    const at = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    const signer = new SignatureV4({
      credentials: { accessKeyId: m[1]!, secretAccessKey: secret, sessionToken: headers['x-amz-security-token'] },
      region: this.region,
      service: 'apigateway',
      sha256: Sha256,
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
        headers: unsigned,
        body,
      },
      { signingDate: at },
    );
    return expected.headers.authorization === auth ? m[1] : undefined;
  }

  private async answer(req: http.IncomingMessage, body: string) {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const m = FLUSH_PATH.exec(path);
    const call = {
      method: req.method ?? '',
      path,
      ...(m ? { restApiId: decodeURIComponent(m[1]!), stage: decodeURIComponent(m[2]!) } : {}),
    };
    const caller = await this.caller(req, body);
    if (!caller) {
      return { status: 403, type: 'UnauthorizedException', message: 'The request signature is not valid', call };
    }
    const signed = { ...call, callerAccessKeyId: caller };
    if (req.method !== 'DELETE' || !m || body !== '') {
      return { status: 404, type: 'NotFoundException', message: `No route ${req.method} ${path}`, call: signed };
    }
    if (this.failWith) return { ...this.failWith, call: signed };
    if (!this.stages.includes(`${call.restApiId}/${call.stage}`)) {
      return { status: 404, type: 'NotFoundException', message: 'Invalid stage identifier specified', call: signed };
    }
    await this.onFlush?.();
    return { status: 202, call: signed };
  }
}
