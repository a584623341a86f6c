import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '../..');

describe('train-router', () => {
  it('reproduces the shipped router model byte for byte (deterministic training)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-router-'));
    try {
      const out = path.join(dir, 'model.json');
      await run(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/train-router.ts', '--out', out], { cwd: ROOT });
      const shipped = fs.readFileSync(path.join(ROOT, 'lambda/shared/routing/router-model.json'), 'utf8');
      expect(fs.readFileSync(out, 'utf8')).toBe(shipped);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
