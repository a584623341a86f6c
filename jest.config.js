/** Jest: @swc/jest transforms TypeScript (ts-jest needs the TypeScript compiler API, which TS 7 lacks). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean', '<rootDir>/test/support/cleanup-build.ts'],
  testTimeout: 60000,
};
