import { describe, expect, it } from 'vitest';
import { rawPathProblem, type RawPathProblem } from './raw-path.js';

describe('rawPathProblem (§12)', () => {
  it.each<[string, RawPathProblem | undefined]>([
    ['/admin-api/contexts', undefined],
    ['/admin-api/contexts/', undefined], // a trailing slash is just not matched (§8.1)
    ['/admin-api/contexts/ctx.1/identities', undefined],
    ['/admin-api/blobs/a..b', undefined],
    ['/admin-api/contexts/.hidden', undefined],
    ['/admin-api/applications/app%201', undefined],
    ['/', undefined],
    ['/admin-api/contexts%2Fx', 'encoded_slash'],
    ['/admin-api/contexts%2fx', 'encoded_slash'],
    ['/admin-api/contexts%5Cx', 'encoded_slash'],
    ['/admin-api\\contexts', 'backslash'],
    ['//admin-api/usage', 'repeated_slash'],
    ['/admin-api//usage', 'repeated_slash'],
    ['/admin-api/contexts/../usage', 'dot_segment'],
    ['/admin-api/./usage', 'dot_segment'],
    ['/admin-api/contexts/..', 'dot_segment'],
    ['/admin-api/contexts/%2e%2E/usage', 'dot_segment'],
    ['/admin-api/contexts/.%2e/usage', 'dot_segment'],
    ['/admin-api/%2e/usage', 'dot_segment'],
  ])('%j → %s', (path, problem) => {
    expect(rawPathProblem(path)).toBe(problem);
  });
});
