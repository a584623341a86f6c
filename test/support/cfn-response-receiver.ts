/**
 * CloudFormation's pre-signed ResponseURL (S3) on loopback, for custom resource tests: records every answer PUT to
 * it (method, path with query, content type, the JSON body) and answers 200.
 */
import type * as http from 'node:http';
import { LoopbackHttpServer } from './loopback-http-server';

export class CfnResponseReceiver extends LoopbackHttpServer {
  readonly answers: Array<{ method: string; path: string; contentType?: string; body: Record<string, unknown> }> = [];
  protected handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      this.answers.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body: JSON.parse(raw),
      });
      res.writeHead(200).end();
    });
  }
}
