/** Moved to local/sts-standin.ts (shared with `npm start`); re-exported for the tests. */
export * from '../../local/sts-standin';
