/**
 * A tenant's webhook receiver on loopback: HTTPS with a self-signed certificate for a public-looking host name
 * (`hooks.example.com`), recording every delivery's headers and raw body. Deliveries reach it through the two
 * network ports of the review steps function (see lambda/review-steps/index.ts): {@link tableResolver} answers
 * the test host names with public addresses (so the real address policy passes them), and {@link
 * WebhookReceiver.agent} trusts the certificate and carries every connection to the loopback port, recording
 * the address the client's pinned lookup chose and the name it sent for SNI.
 */
import type { LookupAddress } from 'node:dns';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { selfSignedCertificate, type TestCertificate } from './tls-cert';

/** One request the receiver got. */
export interface ReceivedDelivery {
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawBody: string;
}

/** Where a client asked the agent to connect. */
export interface ConnectAttempt {
  readonly host: string;
  readonly servername?: string;
  readonly port: number;
  /** What the request's own lookup answered for `host` (the pinned, checked address); undefined: no lookup. */
  readonly address?: string;
}

/** How the receiver answers. */
export type ReceiverBehaviour =
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Record<string, string> }
  /** Accepts the request and never answers. */
  | { readonly kind: 'hang' }
  /** Answers 200 and then streams this many bytes of body. */
  | { readonly kind: 'flood'; readonly bytes: number };

export class WebhookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  readonly connects: ConnectAttempt[] = [];
  readonly cert: TestCertificate;
  behaviour: ReceiverBehaviour = { kind: 'status', status: 200 };
  /** Bytes the receiver wrote of a flood before the client hung up. */
  floodWritten = 0;
  /** Called with every delivery as it arrives. */
  onDelivery?: (d: ReceivedDelivery) => void;
  private server?: https.Server;

  constructor(readonly host = 'hooks.example.com') {
    this.cert = selfSignedCertificate(host);
  }

  async start(): Promise<void> {
    this.server = https.createServer({ cert: this.cert.cert, key: this.cert.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const delivery = { path: req.url ?? '', headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') };
        this.deliveries.push(delivery);
        this.onDelivery?.(delivery);
        const b = this.behaviour;
        if (b.kind === 'hang') return;
        if (b.kind === 'flood') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          const piece = Buffer.alloc(16_384, 'x');
          const write = () => {
            while (this.floodWritten < b.bytes) {
              this.floodWritten += piece.length;
              if (!res.write(piece)) return void res.once('drain', write);
            }
            res.end();
          };
          res.on('close', () => undefined);
          write();
          return;
        }
        res.writeHead(b.status, b.headers);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  /**
   * An agent that trusts this receiver's certificate and connects every request to it, whatever address the
   * request's lookup chose (recorded in {@link connects}). TLS still checks the certificate against the name
   * the request sends for SNI, so a request for another host name fails as it would on the internet.
   */
  agent(): https.Agent {
    const agent = new https.Agent({ ca: this.cert.cert, keepAlive: false });
    const port = this.port;
    const connects = this.connects;
    (agent as unknown as { createConnection: unknown }).createConnection = (
      opts: tls.ConnectionOptions & { lookup?: (h: string, o: object, cb: (...a: unknown[]) => void) => void },
      cb: () => void,
    ) => {
      let address: string | undefined;
      opts.lookup?.(String(opts.host), {}, (_err, a) => {
        address = Array.isArray(a) ? (a[0] as LookupAddress)?.address : (a as string);
      });
      connects.push({ host: String(opts.host), servername: opts.servername, port: Number(opts.port), address });
      return tls.connect({ ...opts, host: '127.0.0.1', port, lookup: undefined }, cb);
    };
    return agent;
  }

  clear(): void {
    this.deliveries.length = 0;
    this.connects.length = 0;
    this.behaviour = { kind: 'status', status: 200 };
    this.floodWritten = 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * A resolver answering from a table (`host → addresses`); other names fail as an unknown name does
 * (`ENOTFOUND`). Records every name it was asked.
 */
export function tableResolver(table: Record<string, readonly string[]>, asked: string[] = []) {
  return async (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const found = table[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}
