import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
const t = Date.now();
try { const r = await c.runAndReadAll(process.argv[2]); console.log('OK', r.getRows().length, Date.now()-t); } catch (e) { console.log('ERR', e.message.split('\n')[0], Date.now()-t); }
