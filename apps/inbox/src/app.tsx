import { useState } from 'react';
import { InboxView } from './inbox-view.js';
import { TokenForm } from './token-form.js';
import { forgetToken, saveToken } from './token-storage.js';

export interface AppProps {
  initialToken: string | null;
  /** Herald's base URL: the origin that served this page. */
  herald: string;
}

/** Asks for a token until there is one, then shows that user's inbox. */
export function App({ initialToken, herald }: AppProps) {
  const [token, setToken] = useState(initialToken);

  const openWithToken = (next: string) => {
    saveToken(next);
    setToken(next);
  };
  const signOut = () => {
    forgetToken();
    setToken(null);
  };

  return (
    <main className="page">
      {token === null ? (
        <TokenForm onSubmit={openWithToken} />
      ) : (
        <InboxView herald={herald} token={token} onNewToken={openWithToken} onSignOut={signOut} />
      )}
    </main>
  );
}
