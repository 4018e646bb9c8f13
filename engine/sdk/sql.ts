/**
 * SQL literal quoting for node code that builds DuckDB queries. Its own module, apart from the
 * DuckDB instance settings (engine/store/duckdb.ts), so tuning those never changes a node's code hash.
 */

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function sqlStringList(values: string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}
