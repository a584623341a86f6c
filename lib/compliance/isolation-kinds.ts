/**
 * The isolation matrix's vocabulary, in a module of its own so the exceptions (isolation-exceptions.ts) can name it
 * without importing the matrix, which imports them.
 */

/** The kinds of tenant data the matrix probes. */
export type ResourceKind = 'items' | 'key' | 'state-machine' | 'topics' | 'api' | 'secrets' | 'functions' | 'roles';
export const RESOURCE_KINDS: readonly ResourceKind[] = [
  'items',
  'key',
  'state-machine',
  'topics',
  'api',
  'secrets',
  'functions',
  'roles',
];

/** How a Scan projected to the table's key attributes is named in findings and exceptions. */
export const SCAN_KEYS_ONLY = 'dynamodb:Scan (key attributes only)';
