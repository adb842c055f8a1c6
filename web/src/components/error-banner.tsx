// An API error shown where the operator is looking, never swallowed.

import type { ComponentChildren } from 'preact';
import { errorText } from '../api';

export function ErrorBanner({ error, testid = 'error' }: { readonly error: unknown; readonly testid?: string }) {
  if (error === null || error === undefined) return null;
  return (
    <div class="alert alert-error" role="alert" data-testid={testid}>
      {errorText(error)}
    </div>
  );
}

export function Notice({ children, testid }: { readonly children: ComponentChildren; readonly testid?: string }) {
  return (
    <div class="alert alert-ok" role="status" data-testid={testid}>
      {children}
    </div>
  );
}
