/**
 * The engine's confinement helpers that nodes use: user SQL in a DuckDB without external access,
 * sinks that only move their own files, and bounded parsing. Nodes reach them here, not in
 * engine/security, so the engine's internals stay free to change.
 */
export { expandedSize } from '../security/bounded.js';
export { assertSingleSelect, openConfinedDuckDb } from '../security/confined-sql.js';
export { freshTempBeside, moveOwnFiles, sweepDeadTemps } from '../security/sink-files.js';
