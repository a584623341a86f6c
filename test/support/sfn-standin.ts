/** Moved to local/sfn-standin.ts (shared with `npm start`); re-exported for the tests. */
export * from '../../local/sfn-standin';
