// Entry point of the browser bundle: PatternFly's base styles, the console's own, and the app.

import '@patternfly/react-core/dist/styles/base.css';
import './console.css';
import { createRoot } from 'react-dom/client';
import { App } from './app';

createRoot(document.getElementById('root')!).render(<App />);
