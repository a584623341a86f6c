/** Jest: @swc/jest transforms TypeScript (ts-jest needs the TypeScript compiler API, which TS 7 lacks). */
module.exports = {
  // Tests print nothing when they pass; a failing test shows what the code under it wrote (quiet-environment.js).
  testEnvironment: '<rootDir>/test/support/quiet-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean', '<rootDir>/test/support/cleanup-build.ts'],
  testTimeout: 60000,
  // The long suites first, also on a fresh clone without timings (test/support/slow-first-sequencer.js).
  testSequencer: '<rootDir>/test/support/slow-first-sequencer.js',
};
