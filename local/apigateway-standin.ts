/**
 * API Gateway's management API on loopback, for FlushStageAuthorizersCache
 * (`DELETE /restapis/{restapi_id}/stages/{stage_name}/cache/authorizers`, 202 with an empty body). It checks each
 * request's SigV4 signature with the reference signer (`@smithy/signature-v4`, service `apigateway`) against the
 * secret of the access key it names, answers 404 NotFoundException for a stage it does not know (as API Gateway
 * does), can be told to fail, and records every flush, so a test can assert what was flushed and when.
 */
import type * as http from 'node:http';
import { LoopbackHttpServer } from './loopback-http-server';
import { signedBy } from './sigv4-check';

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

  private caller(req: http.IncomingMessage, body: string): Promise<string | undefined> {
    return signedBy(req, body, { service: 'apigateway', region: this.region, secretOf: (k) => this.callers[k] });
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
