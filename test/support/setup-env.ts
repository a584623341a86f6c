/**
 * Jest setup (every test file): dummy credentials and a region for the real SDK clients talking to the
 * loopback servers, and no SDK/CDK chatter. Endpoints are set per test from the servers' ports.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
delete process.env.AWS_PROFILE;

// aws-local-stepfunctions needs Promise.withResolvers (Node 22): local/polyfills.ts.
import '../../local/polyfills';

// Handler bundles go to a temp folder of this test file (removed after it by cleanup-build.ts), never into the
// repository's build/ (`SWITCHBOARD_BUILD_DIR`, read by lib/constructs/bundling.ts; not imported here: it loads the CDK).
process.env.SWITCHBOARD_BUILD_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-build-'));
