/**
 * File names of the `embeddings` artifact kind (format `forge.embeddings` v1). The engine reads
 * them for previews; nodes/_sdk/vectors/embeddings.ts documents the layout and writes it.
 */
export const EMBEDDINGS_FILE = 'embeddings.f32';
export const IDS_FILE = 'ids.parquet';
export const EMBEDDINGS_META = 'embeddings.json';
