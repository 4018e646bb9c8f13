import type { NodeTypeInfo } from '../api/types';

const schema = (props: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties: props, required });

function t(type: string, category: string, inputs: NodeTypeInfo['inputs'], outputs: NodeTypeInfo['outputs'], params: Record<string, unknown> = {}, codeParams: string[] = []): NodeTypeInfo {
  return { type, version: 1, category, title: type, description: '', inputs, outputs, paramsSchema: schema(params), deterministic: true, worker: false, codeParams };
}

/** A small catalog shaped like the engine's: sources, transforms, a sink with a metrics output. */
export const TYPES: NodeTypeInfo[] = [
  t('source.jsonl', 'Sources', {}, { out: { kind: 'dataset' } }, { path: { type: 'string' }, textField: { type: 'string', default: 'text' } }),
  t('transform.filter', 'Transforms', { in: { kind: 'dataset' } }, { out: { kind: 'dataset' }, rejected: { kind: 'dataset' } }, { where: { type: 'string', widget: 'code' } }, ['where']),
  t('transform.sql', 'Transforms', { a: { kind: 'dataset' }, b: { kind: 'dataset', optional: true } }, { out: { kind: 'dataset' } }, { query: { type: 'string' } }, ['query']),
  t('transform.sample', 'Transforms', { in: { kind: 'dataset' } }, { out: { kind: 'dataset' } }, { rows: { type: 'integer' } }),
  t('sink.write', 'Sinks', { in: { kind: 'dataset' } }, { report: { kind: 'metrics' } }, { path: { type: 'string' } }),
  t('eval.metrics', 'Evaluation', { m: { kind: 'metrics' } }, { out: { kind: 'metrics' } }),
];

export const TYPE_MAP: ReadonlyMap<string, NodeTypeInfo> = new Map(TYPES.map((x) => [x.type, x]));

export function info(type: string): NodeTypeInfo {
  const i = TYPE_MAP.get(type);
  if (!i) throw new Error(`no fixture type ${type}`);
  return i;
}
