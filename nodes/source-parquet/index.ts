import { z } from 'zod';
import { sqlString } from '../../engine/sdk/sql.js';
import { defineTabularSource, recordColumnParams } from '../_sdk/dataset/tabular-source.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'File', widget: 'file' }),
  ...recordColumnParams('column'),
});

export default defineTabularSource({
  type: 'source.parquet',
  version: 1,
  title: 'Parquet',
  description: 'Loads a Parquet file into a dataset; the text column becomes `text`, other columns are kept.',
  params,
  lines: false,
  read: (abs) => ({ relation: `read_parquet(${sqlString(abs)})` }),
  module: import.meta.url,
});
