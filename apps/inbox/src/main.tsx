import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { takeInitialToken } from './token-storage.js';
import './inbox.css';

// Taken before the first render, so the token leaves the address bar as early as possible.
const initialToken = takeInitialToken();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App initialToken={initialToken} herald={window.location.origin} />
  </StrictMode>,
);
