/**
 * V8's test functions for a child run with `--allow-natives-syntax` (test/support/*-feedback-main.ts), compiled at
 * run time: the TypeScript source cannot hold `%` calls.
 */
const natives = (body: string) => new Function('f', body) as (f: unknown) => number;

/** Let V8 collect feedback for `f` so that it can be optimised on request. */
export const prepare = natives('%PrepareFunctionForOptimization(f); return 0;');
/** Optimise `f` (TurboFan) at its next call. */
export const optimizeNext = natives('%OptimizeFunctionOnNextCall(f); return 0;');

const status = natives('return %GetOptimizationStatus(f);');
/** V8's OptimizationStatus bit for "has optimised code". */
const OPTIMIZED = 1 << 4;

/** True while `f` has optimised code. */
export const isOptimised = (f: unknown): boolean => (status(f) & OPTIMIZED) !== 0;
