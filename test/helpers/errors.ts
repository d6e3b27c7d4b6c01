// The AnalyzerError a call throws (null when it returns); anything else is rethrown, so a
// TypeError from a bug never passes for a refusal.

import { AnalyzerError } from '../../src/errors.js';

export function errorOf(f: () => unknown): AnalyzerError | null {
  try {
    f();
  } catch (e) {
    if (e instanceof AnalyzerError) return e;
    throw e;
  }
  return null;
}
