/**
 * The webhook signature check as the README documents it: the code block after the `webhook-verify` marker,
 * evaluated as written, so the documentation cannot drift from what deliveries carry.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The README's verifier: true when the header signs the raw body with the key within the tolerance. */
export type ReadmeVerifier = (
  rawBody: string | Buffer,
  signatureHeader: string | undefined,
  signingKey: string,
  nowSeconds?: number,
) => boolean;

/** The marker line that precedes the verifier's code block in README.md. */
export const VERIFY_MARKER = '<!-- webhook-verify: test/support/readme-webhook-verifier.ts runs this block -->';

export function readmeVerifier(): ReadmeVerifier {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const at = readme.indexOf(VERIFY_MARKER);
  if (at < 0) throw new Error('README.md has no webhook-verify block');
  const block = /```js\n([\s\S]*?)\n```/.exec(readme.slice(at));
  if (!block) throw new Error('No ```js block after the webhook-verify marker');
  // The block is plain Node.js (CommonJS) that defines verifySwitchboardSignature.
  return new Function('require', `${block[1]}\nreturn verifySwitchboardSignature;`)(require) as ReadmeVerifier;
}
