/**
 * Handlers validate with `zod/mini` (the functional, tree-shakable API: about 70 KB less per bundle than
 * classic zod). Unlike classic zod it installs no messages; this installs the English ones classic zod uses,
 * so validation errors read the same. Import it for its effect from every module that declares a schema.
 * (Each such module imports `zod/mini` as a namespace of its own: a namespace re-exported as a value could
 * not be tree-shaken, and the bundle would carry every locale.)
 */
import { config } from 'zod/mini';
import { en } from 'zod/v4/locales';

config(en());
