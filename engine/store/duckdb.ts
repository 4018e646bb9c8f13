import { DuckDBInstance } from '@duckdb/node-api';
import { availableParallelism } from 'node:os';

/** DuckDB settings for one process (main thread or a worker); every execution opens its own connection. */
export interface DuckDBSettings {
  tempDirectory: string;
  /** DuckDB spills to tempDirectory beyond this, which keeps big datasets in bounded memory. */
  memoryLimit?: string;
  threads?: number;
}

let instance: Promise<DuckDBInstance> | undefined;

export function duckdbInstance(settings: DuckDBSettings): Promise<DuckDBInstance> {
  instance ??= DuckDBInstance.create(':memory:', {
    threads: String(settings.threads ?? availableParallelism()),
    memory_limit: settings.memoryLimit ?? process.env.FORGE_DUCKDB_MEMORY ?? '1GB',
    temp_directory: settings.tempDirectory,
    // Keeping row order is what makes dataset artifacts byte-identical across runs and machines.
    preserve_insertion_order: 'true',
  });
  return instance;
}

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function sqlStringList(values: string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}
