import type { NodeType } from '../engine/sdk/types.js';
import filter from './filter/index.js';
import sample from './sample/index.js';
import sourceCsv from './source-csv/index.js';
import sourceJsonl from './source-jsonl/index.js';
import sourceParquet from './source-parquet/index.js';
import sourceTextFolder from './source-text-folder/index.js';
import split from './split/index.js';
import sql from './sql/index.js';
import writeDataset from './write-dataset/index.js';

/** The one list of node types. Adding a node type: its folder, plus one line here. */
export const NODE_TYPES: readonly NodeType[] = [sourceJsonl, sourceCsv, sourceParquet, sourceTextFolder, filter, sample, split, sql, writeDataset];
