import { useId, useState, type FormEvent } from 'react';

export interface TokenFormProps {
  onSubmit(token: string): void;
  /** Why a token is asked for again (e.g. Herald refused the last one). */
  reason?: string;
  /** The form's heading; the page's own when the form is all there is. */
  title?: string;
}

/** Paste a user token (e.g. from `npx herald token alice`) to open that user's inbox. */
export function TokenForm({ onSubmit, reason, title = 'Herald inbox' }: TokenFormProps) {
  const [value, setValue] = useState('');
  const id = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const token = value.trim();
    if (token !== '') onSubmit(token);
  };

  return (
    <form className="token-form" onSubmit={submit} data-testid="token-form">
      <h1>{title}</h1>
      {reason !== undefined && (
        <p className="token-form__reason" role="alert">
          {reason}
        </p>
      )}
      <label htmlFor={id}>User token</label>
      <textarea
        id={id}
        value={value}
        onChange={(event) => setValue(event.target.value)}
        rows={3}
        spellCheck={false}
        autoComplete="off"
        placeholder="eyJhbGciOi…"
        data-testid="token-input"
      />
      <p className="hint">
        Make one with <code>npx herald token alice --ttl 1h</code>.
      </p>
      <button type="submit" disabled={value.trim() === ''} data-testid="token-submit">
        Open inbox
      </button>
    </form>
  );
}
