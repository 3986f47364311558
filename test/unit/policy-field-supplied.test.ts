/** A required task field the chosen image supplies (Rocky's repo_url from an ISO repository) is not asked for, in the UI's check and the server's. */
import { describe, expect, it } from 'vitest';
import { fieldProblem } from '../../renderer/src/logic/policy-login.ts';
import { checkTaskFields } from '../../server/policies/policy-input.ts';
import type { Task, TaskField } from '../../contract/index.ts';

const REPO: TaskField = { key: 'repo_url', label: 'Repository URL', kind: 'url', required: true };

describe('a required field the image supplies', () => {
  it('the UI asks for it only when the image does not supply it', () => {
    expect(fieldProblem(REPO, '')).toBe('Repository URL is required by this task');
    expect(fieldProblem(REPO, '', ['repo_url'])).toBeNull();
    expect(fieldProblem(REPO, 'not a url', ['repo_url'])).toMatch(/not a URL/);
  });

  it('the server likewise', () => {
    const task = { name: 'rocky', fields: [REPO] } as unknown as Task;
    expect(() => checkTaskFields(task, {})).toThrow(/Repository URL is required by the task/);
    expect(() => checkTaskFields(task, {}, ['repo_url'])).not.toThrow();
    expect(() => checkTaskFields(task, { repo_url: 'x y' }, ['repo_url'])).toThrow(/not a URL/);
  });
});
