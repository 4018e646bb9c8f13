// Worker threads do not inherit the TypeScript loader of their parent: register it, then run the
// Hogwild! training loop (train-worker.ts).
import { register } from 'tsx/esm/api';

register();
await import('./train-worker.ts');
