// Worker threads do not inherit the TypeScript loader of the main thread: register it here.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./worker.ts');
export default mod.default;
