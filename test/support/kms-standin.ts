/** Moved to local/kms-standin.ts (shared with `npm start`); re-exported for the tests. */
export * from '../../local/kms-standin';
