/**
 * Jest environment: tests print nothing when they pass. What the code under test writes to stdout (the
 * handlers' JSON logs and metrics) is kept per test, bounded, and written to stderr only when that test, or a
 * hook of its file, fails, so a failure shows the logs it captured.
 */
const { TestEnvironment } = require('jest-environment-node');

/** Most characters kept per test (the latest ones). */
const MAX_CHARS = 200_000;

class QuietEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.captured = [];
    this.capturedChars = 0;
    this.testPath = context.testPath;
  }

  async setup() {
    await super.setup();
    this.realWrite = process.stdout.write;
    const env = this;
    process.stdout.write = function write(chunk, encoding, callback) {
      env.keep(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') done();
      return true;
    };
  }

  async teardown() {
    if (this.realWrite) process.stdout.write = this.realWrite;
    await super.teardown();
  }

  keep(text) {
    this.captured.push(text);
    this.capturedChars += text.length;
    while (this.capturedChars > MAX_CHARS && this.captured.length > 1) {
      this.capturedChars -= this.captured.shift().length;
    }
  }

  show(title) {
    if (!this.captured.length) return;
    process.stderr.write(
      `\n--- output captured during ${title} (${this.testPath}) ---\n${this.captured.join('')}\n--- end of captured output ---\n`,
    );
  }

  handleTestEvent(event) {
    if (event.name === 'test_start') {
      this.captured = [];
      this.capturedChars = 0;
    } else if (event.name === 'test_done' && event.test.errors.length > 0) {
      this.show(`"${event.test.name}"`);
    } else if (event.name === 'hook_failure') {
      this.show(`the ${event.hook.type} hook`);
    }
  }
}

module.exports = QuietEnvironment;
