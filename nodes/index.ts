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
import sourceOpenapi from './source-openapi/index.js';
import sourceBfcl from './source-bfcl/index.js';
import sourceApiDocs from './source-api-docs/index.js';
import sourceCode from './source-code/index.js';
import dedupExact from './dedup-exact/index.js';
import dedupNear from './dedup-near/index.js';
import mixer from './mixer/index.js';
import trainNgram from './train-ngram/index.js';
import evalLmLoss from './eval-lm-loss/index.js';
import trainExternal from './train-external/index.js';
import trainTorch from './train-torch/index.js';
import evalBfcl from './eval-bfcl/index.js';
import sourceBfclPairs from './source-bfcl-pairs/index.js';
import fitMixingLaw from './fit-mixing-law/index.js';
import fitScalingLaw from './fit-scaling-law/index.js';
import viewProjection from './view-projection/index.js';
import mlEmbed from './embedder/index.js';
import mlEmbedTrain from './embed-train/index.js';
import mlIndexHnsw from './knn-index/index.js';
import mlRetrieve from './retriever/index.js';
import mlClassifierTrain from './classifier-train/index.js';
import mlClassifierLoad from './classifier-load/index.js';
import mlClassifierScore from './classifier-score/index.js';
import mlThreshold from './threshold/index.js';
import mlBm25 from './ml-bm25/index.js';
import viewHistogram from './view-histogram/index.js';
import viewTable from './view-table/index.js';
import report from './report/index.js';
import mlLabelSample from './label-sample/index.js';
import sourceWarc from './source-warc/index.js';
import sourceParquetGlob from './source-parquet-glob/index.js';

/** The one list of node types. Adding a node type: its folder, plus one line here. */
export const NODE_TYPES: readonly NodeType[] = [
  sourceJsonl,
  sourceCsv,
  sourceParquet,
  sourceTextFolder,
  filter,
  sample,
  split,
  sql,
  writeDataset,
  sourceOpenapi,
  sourceBfcl,
  sourceApiDocs,
  sourceCode,
  dedupExact,
  dedupNear,
  mixer,
  trainNgram,
  evalLmLoss,
  trainExternal,
  trainTorch,
  evalBfcl,
  sourceBfclPairs,
  fitMixingLaw,
  fitScalingLaw,
  viewProjection,
  mlEmbed,
  mlEmbedTrain,
  mlIndexHnsw,
  mlRetrieve,
  mlClassifierTrain,
  mlClassifierLoad,
  mlClassifierScore,
  mlThreshold,
  mlBm25,
  viewHistogram,
  viewTable,
  report,
  mlLabelSample,
  sourceWarc,
  sourceParquetGlob,
];
