/**
 * Which webhook URLs Switchboard accepts, checked in one place: when a tenant file is loaded (its
 * `escalation.webhook.origin`), when an operator stores the full URL (`npm run webhook:set`) and before
 * every delivery.
 *
 * Accepted: `https://` followed by a public DNS name (at least two labels, letters/digits/hyphens, an
 * alphabetic or `xn--` top-level label, not a name reserved for local or internal networks), an optional port
 * of {@link WEBHOOK_PORTS}, and (for a full URL) a path and query. Refused: other schemes, user names and
 * passwords (`user:pass@host`), IP addresses in any spelling (`10.0.0.5`, `2130706433`, `0x7f000001`,
 * `0177.0.0.1`, `127.1`, `[::1]`, `[::ffff:7f00:1]`), `localhost`, `*.local`, `*.internal` and other local
 * names, single-label names, fragments, anything a URL parser would rewrite (percent-encoded hosts, a
 * backslash read as a slash, tabs and newlines it drops), non-ASCII text (write an internationalized name in
 * its `xn--` form) and texts longer than the limits. The raw text and the WHATWG-parsed URL must agree on the
 * host, so no parser difference can turn an accepted text into another host.
 *
 * What a name resolves to is checked at delivery (webhook-address.ts). Every check here runs in time linear
 * in the (bounded) text.
 */
import { isIP } from 'node:net';

/** Longest full webhook URL accepted. */
export const WEBHOOK_URL_MAX_CHARS = 2048;
/** Longest webhook origin accepted. */
export const WEBHOOK_ORIGIN_MAX_CHARS = 300;
/** Ports a webhook may use (443 is the default of https). */
const WEBHOOK_PORTS: readonly number[] = [443, 8443];

/**
 * Top-level labels of names that do not leave a local or internal network (RFC 6761, RFC 6762, RFC 8375,
 * RFC 9476, AWS's `*.compute.internal` / `ec2.internal`, and the common home and corporate ones).
 */
const LOCAL_TOP_LEVEL_LABELS: readonly string[] = [
  'localhost',
  'local',
  'internal',
  'localdomain',
  'lan',
  'home',
  'corp',
  'intranet',
  'private',
  'test',
  'invalid',
  'example',
  'onion',
  'alt',
  'arpa',
];

const PRINTABLE = /^[\x21-\x7e]*$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LEVEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** A checked webhook URL or origin. */
export type WebhookUrlCheck =
  | { readonly ok: true; readonly url: URL; readonly origin: string; readonly host: string }
  | { readonly ok: false; readonly problem: string };

const fail = (problem: string): WebhookUrlCheck => ({ ok: false, problem });

/**
 * Checks a webhook URL (`kind: "url"`) or origin (`kind: "origin"`: scheme, host and port only). Problems never
 * repeat the path or query, which may carry a secret.
 */
export function checkWebhookUrl(text: unknown, kind: 'url' | 'origin'): WebhookUrlCheck {
  if (typeof text !== 'string') return fail('must be a text');
  const max = kind === 'url' ? WEBHOOK_URL_MAX_CHARS : WEBHOOK_ORIGIN_MAX_CHARS;
  if (text.length > max) return fail(`must be at most ${max} characters`);
  if (!PRINTABLE.test(text) || text.includes('\\')) {
    return fail(
      'must be printable ASCII without spaces or backslashes (write an internationalized host name in its xn-- form)',
    );
  }
  if (!text.startsWith('https://'))
    return fail('must start with https:// (plain http, and other schemes, are refused)');
  const rest = text.slice('https://'.length);
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const after = end < 0 ? '' : rest.slice(end);
  if (authority.includes('@')) return fail('must not hold a user name or password (user:pass@host)');
  if (authority.startsWith('[')) return fail('must name a host, not an IP address');
  const colon = authority.indexOf(':');
  const rawHost = (colon < 0 ? authority : authority.slice(0, colon)).toLowerCase();
  const rawPort = colon < 0 ? undefined : authority.slice(colon + 1);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('is not a valid URL');
  }
  if (url.username || url.password) return fail('must not hold a user name or password (user:pass@host)');
  // `0x7f000001`, `2130706433`, `0177.0.0.1` and `127.1` are IPv4 addresses to a URL parser, which rewrites
  // them to dotted form; bracketed IPv6 was refused above.
  if (isIP(url.hostname) || url.hostname.startsWith('[')) return fail('must name a host, not an IP address');
  if (url.hostname !== rawHost) {
    return fail(`host ${JSON.stringify(rawHost.slice(0, 80))} is not written as a plain DNS name`);
  }
  const host = url.hostname;
  if (host.length > 253) return fail('host must be at most 253 characters');
  const labels = host.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !TOP_LEVEL.test(labels[labels.length - 1]!)) {
    return fail(
      `host ${JSON.stringify(host.slice(0, 80))} must be a public DNS name: at least two labels of a-z, 0-9 and "-", ending in an alphabetic top-level label (hooks.example.com)`,
    );
  }
  const top = labels[labels.length - 1]!;
  if (LOCAL_TOP_LEVEL_LABELS.includes(top)) {
    return fail(`host ${JSON.stringify(host)} is a name for local or internal networks (.${top})`);
  }
  const port = url.port === '' ? 443 : Number(url.port);
  if (rawPort !== undefined && !/^[0-9]{1,5}$/.test(rawPort)) return fail('port must be a number');
  if (!WEBHOOK_PORTS.includes(port)) return fail(`port ${port} is not allowed; use ${WEBHOOK_PORTS.join(' or ')}`);
  if (url.hash || after.includes('#')) return fail('must not have a #fragment');
  if (kind === 'origin' && after !== '' && after !== '/') {
    return fail(
      'must be only https://host (or https://host:port): a path or query often carries a secret and would sit in the template',
    );
  }
  return { ok: true, url, origin: url.origin, host };
}

/** A URL as messages may show it: scheme and host only (never a user name, password, path or query). */
export function shownOrigin(text: string): string {
  const m = /^([a-z][a-z0-9+.-]{0,20}):\/\/([^/?#\\]{0,300})/i.exec(text);
  if (!m) return '(a URL, not shown)';
  const authority = m[2]!;
  const host = authority.slice(authority.lastIndexOf('@') + 1).slice(0, 100);
  return `${m[1]}://${host}/…`;
}
