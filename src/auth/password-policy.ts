// What a console user's password must be. Shared by the CLI and the API so both refuse the
// same passwords with the same words.

export interface PasswordPolicy {
  /** Shortest accepted, in characters (config `http.passwordPolicy.minLength`). */
  readonly minLength: number;
}

/** Why the password is refused, as a sentence for the user; null when it is acceptable. */
export function passwordProblem(name: string, password: string, policy: PasswordPolicy): string | null {
  // Characters, not UTF-16 units: an emoji is one character to the person typing it.
  const chars = [...password];
  if (chars.length < policy.minLength) return `password must be at least ${policy.minLength} characters`;
  if (password.toLowerCase() === name.toLowerCase()) return 'password must not be the user name';
  if (chars.every((c) => c === chars[0])) return 'password must not be one character repeated';
  return null;
}
