/**
 * Delivers one webhook POST to a checked address: the URL passes the URL policy (webhook-url.ts), its host is
 * resolved once, every address it resolves to must pass the address policy (webhook-address.ts), and the
 * connection goes to the first checked address (the TLS handshake still names the host, for SNI and the
 * certificate check), so a second DNS answer cannot send the request elsewhere (DNS rebinding). Redirects are
 * never followed, at most {@link MAX_RESPONSE_BYTES} of the answer are read, and the whole delivery (lookup,
 * connect, TLS, answer) has one deadline.
 *
 * The resolver and the TLS agent are ports: production uses the system resolver and a fresh agent per
 * delivery; tests pass a resolver that answers for test names and an agent that trusts a test CA. The address
 * policy itself is not a port: no caller can turn it off.
 */
import { promises as dns, type LookupAddress } from 'node:dns';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { refusedAddress } from '../../shared/webhook-address';
import { checkWebhookUrl } from '../../shared/webhook-url';

/** Every address a host name resolves to. */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The system resolver (getaddrinfo, as any connection would use), every address, in the resolver's order. */
export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** Why a delivery did not happen; `name` is what the state machine retries or catches. */
export class WebhookError extends Error {
  constructor(
    /** `WebhookFailed`: may work on a retry; `WebhookRefused`: the URL or an address is not allowed. */
    readonly name: 'WebhookFailed' | 'WebhookRefused' | 'WebhookNotConfigured',
    message: string,
  ) {
    super(message);
  }
}

/** Most of a webhook's answer that is read (only its status matters). */
export const MAX_RESPONSE_BYTES = 4096;

/** One delivery. */
export interface DeliveryRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly resolve: Resolver;
  /** @default - a new agent per delivery (no pooled connection to another address) */
  readonly agent?: https.Agent;
}

/** What the webhook answered and where it was reached. */
export interface DeliveryResult {
  readonly status: number;
  /** The checked address the connection went to. */
  readonly address: string;
}

/** A lookup that answers only with the checked address, whatever it is asked. */
function pinnedLookup(address: string, family: number): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

/** Resolves `hostname` and refuses it when any address is not allowed; returns the addresses. */
export async function resolveChecked(
  hostname: string,
  resolve: Resolver,
  signal?: AbortSignal,
): Promise<readonly LookupAddress[]> {
  let addresses: readonly LookupAddress[];
  try {
    addresses = await abortable(resolve(hostname), signal);
  } catch (e) {
    if (e instanceof WebhookError) throw e;
    throw new WebhookError(
      'WebhookFailed',
      `${hostname} did not resolve (${(e as NodeJS.ErrnoException)?.code ?? 'error'})`,
    );
  }
  if (addresses.length === 0) throw new WebhookError('WebhookFailed', `${hostname} resolved to no address`);
  // Any refused address refuses the host: a resolver may answer with another of them next time.
  for (const a of addresses) {
    const why = refusedAddress(a.address);
    if (why) throw new WebhookError('WebhookRefused', `${hostname} resolves to a refused address: ${why}`);
  }
  return addresses;
}

function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new WebhookError('WebhookFailed', 'timed out'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** POSTs the body to the checked address of the URL's host; the answer's status, whatever it is. */
export async function deliver(req: DeliveryRequest): Promise<DeliveryResult> {
  const checked = checkWebhookUrl(req.url, 'url');
  if (!checked.ok) throw new WebhookError('WebhookRefused', `The webhook URL is refused: it ${checked.problem}`);
  const { url, host } = checked;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), req.timeoutMs);
  try {
    const [first] = await resolveChecked(host, req.resolve, controller.signal);
    const target = first!;
    const status = await new Promise<number>((resolve, reject) => {
      const body = Buffer.from(req.body, 'utf8');
      const request = https.request(
        {
          protocol: 'https:',
          hostname: host,
          port: url.port === '' ? 443 : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers: { ...req.headers, host: url.host, 'content-length': String(body.length) },
          lookup: pinnedLookup(target.address, target.family),
          servername: host,
          agent: req.agent ?? new https.Agent({ keepAlive: false }),
          signal: controller.signal,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          let read = 0;
          const done = () => {
            res.destroy();
            resolve(status);
          };
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read >= MAX_RESPONSE_BYTES) done();
          });
          res.on('end', done);
          res.on('error', done);
        },
      );
      request.on('error', (e: NodeJS.ErrnoException) => {
        reject(
          controller.signal.aborted
            ? new WebhookError('WebhookFailed', `timed out after ${req.timeoutMs} ms`)
            : new WebhookError('WebhookFailed', `${host} not reachable (${e.code ?? e.name})`),
        );
      });
      request.end(body);
    });
    return { status, address: target.address };
  } catch (e) {
    if (e instanceof WebhookError) throw e;
    throw new WebhookError('WebhookFailed', `${host} not reachable (${(e as Error)?.name})`);
  } finally {
    clearTimeout(timer);
  }
}
