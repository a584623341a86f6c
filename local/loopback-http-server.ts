/**
 * An HTTP/1.1 server on 127.0.0.1 (a free port) for the AWS service stand-ins: start it, hand its `endpoint` to
 * the SDK, stop it (open connections closed, so nothing outlives the test). Subclasses answer in `handle`.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export abstract class LoopbackHttpServer {
  private server?: http.Server;

  /** Answers one request. */
  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): void;

  /** Starts on a free loopback port; returns the endpoint URL. */
  async start(): Promise<string> {
    const server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return this.endpoint;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
