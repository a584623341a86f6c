// PLACEHOLDER: replaced by branch i14-runtime
/**
 * The pooled inference function of a pool cell (lib/stacks/pool-cell-stack.ts). This file only holds the
 * handler's place so the cell stack can name its bundle; the runtime work of issue 14 replaces it.
 */
export const handler = async (_event: unknown): Promise<never> => {
  throw new Error('pool-inference: placeholder handler; the pooled inference runtime is not merged yet');
};
