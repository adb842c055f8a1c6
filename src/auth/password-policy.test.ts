import { describe, expect, it } from 'vitest';
import { passwordProblem } from './password-policy.js';

const policy = { minLength: 12 };

describe('console password policy', () => {
  it('accepts a long enough password that is neither the name nor one character repeated', () => {
    expect(passwordProblem('alice', 'correct horse battery', policy)).toBeNull();
    expect(passwordProblem('alice', 'aaaaaaaaaaab', policy)).toBeNull();
  });

  it('refuses a password shorter than minLength, counting characters, not UTF-16 units', () => {
    expect(passwordProblem('alice', 'short-pw', policy)).toBe('password must be at least 12 characters');
    expect(passwordProblem('alice', '', policy)).toBe('password must be at least 12 characters');
    expect(passwordProblem('alice', 'abcdefghij', { minLength: 10 })).toBeNull();
    expect(passwordProblem('alice', '\u{1F511}'.repeat(5) + 'abcdef', policy)).toBe('password must be at least 12 characters');
  });

  it('refuses the user name as the password, whatever the case', () => {
    expect(passwordProblem('operator-one', 'operator-one', policy)).toBe('password must not be the user name');
    expect(passwordProblem('Operator-One', 'OPERATOR-one', policy)).toBe('password must not be the user name');
  });

  it('refuses one character repeated', () => {
    expect(passwordProblem('alice', 'aaaaaaaaaaaa', policy)).toBe('password must not be one character repeated');
    expect(passwordProblem('alice', '111111111111111', policy)).toBe('password must not be one character repeated');
    expect(passwordProblem('alice', '\u{1F511}'.repeat(12), policy)).toBe('password must not be one character repeated');
  });
});
