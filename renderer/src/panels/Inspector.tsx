import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { Diagnostic, NodeTypeInfo } from '../api/types';
import { categoryColor, kindColor } from '../lib/colors';
import { runGraph, useGraph } from '../store/app';
import { groupSelection } from '../store/libraryActions';
import { SubgraphInspector } from './SubgraphInspector';
import { useCatalog } from '../store/catalog';
import type { FlowNode } from '../store/graph';
import { displayState, useRun } from '../store/run';
import { useUi } from '../store/ui';
import { CodeEditor } from '../ui/CodeEditor';
import { Icon } from '../ui/Icon';

interface PropSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  widget?: string;
  language?: string;
  anyOf?: PropSchema[];
  oneOf?: PropSchema[];
  items?: PropSchema;
}

/** Collapses `anyOf: [X, {type: null}]` and friends into the one schema a form field needs. */
export function fieldSchema(p: PropSchema): PropSchema {
  const alts = p.anyOf ?? p.oneOf;
  if (alts) {
    const real = alts.filter((a) => a.type !== 'null');
    if (real.length === 1)
      return { ...fieldSchema(real[0] as PropSchema), title: p.title ?? real[0]?.title, description: p.description ?? real[0]?.description, default: p.default ?? real[0]?.default };
    if (real.every((a) => a.enum || (a as { const?: unknown }).const !== undefined)) {
      return { ...p, type: 'string', enum: real.flatMap((a) => a.enum ?? [(a as { const?: unknown }).const]) };
    }
  }
  return p;
}

export function fieldKind(p: PropSchema): 'enum' | 'boolean' | 'number' | 'integer' | 'code' | 'path' | 'string' | 'json' {
  if (p.enum) return 'enum';
  const t = Array.isArray(p.type) ? p.type.find((x) => x !== 'null') : p.type;
  if (t === 'boolean') return 'boolean';
  if (t === 'integer') return 'integer';
  if (t === 'number') return 'number';
  if (t === 'string') {
    if (p.widget === 'code' || p.language) return 'code';
    if (p.widget === 'file' || p.widget === 'glob' || p.widget === 'save-file' || p.widget === 'folder') return 'path';
    return 'string';
  }
  return 'json';
}

export function Inspector() {
  const selected = useGraph((s) => {
    let found: FlowNode | null = null;
    let count = 0;
    for (const n of s.nodes) {
      if (n.selected) {
        count++;
        found ??= n;
      }
    }
    return count === 1 ? found : count > 1 ? count : null;
  });
  if (typeof selected === 'number') return <MultiInspector count={selected} />;
  if (!selected) return <GraphInspector />;
  if (selected.data.subgraph) return <SubgraphInspector key={selected.id} node={selected} />;
  return <NodeInspector key={selected.id} node={selected} />;
}

function MultiInspector({ count }: { count: number }) {
  const g = useGraph.getState();
  return (
    <aside className="inspector" data-testid="inspector">
      <div className="side-head">
        <span>{count} nodes selected</span>
      </div>
      <div className="insp-body">
        <div className="insp-actions">
          <button className="btn" onClick={() => g.duplicate()}>
            Duplicate
          </button>
          <button className="btn" onClick={() => g.autoLayout()}>
            Arrange selection
          </button>
          <button className="btn" onClick={groupSelection} title="Replace these nodes by one subgraph node; its ports are the edges the grouping cuts">
            Group into subgraph
          </button>
          <button
            className="btn"
            onClick={() =>
              g.setBypass(
                g.nodes.filter((n) => n.selected).map((n) => n.id),
                true,
              )
            }
          >
            Bypass all
          </button>
          <button className="btn danger" onClick={() => g.deleteSelected()}>
            Delete
          </button>
        </div>
      </div>
    </aside>
  );
}

function GraphInspector() {
  const meta = useGraph((s) => s.meta);
  // Inside an opened subgraph the counts are its own; name, description and seed are the document's.
  const inside = useGraph((s) => s.stack[s.stack.length - 1]?.title);
  const count = useGraph((s) => s.nodes.length);
  const edges = useGraph((s) => s.edges.length);
  const diags = useUi((s) => s.diagnostics);
  const setMeta = useGraph.getState().setMeta;
  return (
    <aside className="inspector" data-testid="inspector">
      <div className="side-head">
        <span>{inside ? `Inside ${inside}` : 'Pipeline'}</span>
        <span className="muted small">
          {count} nodes · {edges} edges
        </span>
      </div>
      <div className="insp-body">
        <label className="field">
          <span className="field-label">Name</span>
          <input value={meta.name ?? ''} onChange={(e) => setMeta({ name: e.target.value })} data-testid="graph-name" />
        </label>
        <label className="field">
          <span className="field-label">Description</span>
          <textarea rows={3} value={meta.description ?? ''} onChange={(e) => setMeta({ description: e.target.value })} />
        </label>
        <NumberInput label="Seed" help="The global seed; every sampling node derives its randomness from it." value={meta.seed} integer onChange={(v) => setMeta({ seed: v ?? 0 })} />
        {diags.length > 0 ? (
          <div className="field">
            <span className="field-label">Problems</span>
            <DiagnosticList diags={diags} />
          </div>
        ) : (
          <p className="muted small">Select a node to edit its parameters. Drag nodes from the palette, or press Ctrl+K.</p>
        )}
      </div>
    </aside>
  );
}

export function DiagnosticList({ diags }: { diags: Diagnostic[] }) {
  return (
    <ul className="diag-list">
      {diags.map((d, i) => (
        <li key={i} className={`diag diag-${d.severity}`} onClick={() => d.nodeId && useGraph.getState().select([d.nodeId])}>
          {d.nodeId ? <span className="mono">{d.nodeId}</span> : null} {d.field ? <span className="muted mono">{d.field}</span> : null} {d.message}
        </li>
      ))}
    </ul>
  );
}

function NodeInspector({ node }: { node: FlowNode }) {
  const info = useCatalog((s) => s.types.get(node.data.type));
  const status = useRun((s) => s.status[node.id]);
  const stale = useRun((s) => s.stale[node.id]);
  const diags = useUi(useShallow((s) => s.diagnostics.filter((d) => d.nodeId === node.id)));
  const g = useGraph.getState();
  const state = displayState(status, stale);
  const runError = state === 'failed' ? status?.error : undefined;
  const fieldError = (key: string): string | undefined => {
    const d = diags.find((x) => x.field === `params.${key}` || x.field?.startsWith(`params.${key}.`));
    if (d) return d.message;
    if (runError && status?.errorField === `params.${key}`) return runError;
    return undefined;
  };
  const general = diags.filter((d) => !d.field?.startsWith('params.'));

  return (
    <aside className="inspector" data-testid="inspector">
      <div className="insp-head" style={{ '--cat': categoryColor(info?.category ?? 'Unknown') } as React.CSSProperties}>
        <div className="insp-title">{node.data.label || info?.title || node.data.type}</div>
        <div className="muted small mono">
          {node.id} · {node.data.type}
          {info ? `@${info.version}` : ''}
        </div>
        {info ? (
          <p className="insp-desc">{info.description}</p>
        ) : (
          <p className="insp-desc warn-text">Unknown node type: the engine has no “{node.data.type}”. It is kept as a placeholder so the graph still opens; install or rename it to run.</p>
        )}
        {info && !info.deterministic ? <div className="badge warn">not deterministic: never reused across seeds</div> : null}
      </div>
      <div className="insp-body">
        {runError ? (
          <div className="callout error" data-testid="inspector-error">
            <strong>Failed.</strong> {runError}
          </div>
        ) : null}
        {stale && state === 'stale' ? (
          <div className="callout warn">
            <strong>Stale.</strong> {stale}. Run to update.
          </div>
        ) : null}
        {general.length > 0 ? <DiagnosticList diags={general} /> : null}
        <label className="field">
          <span className="field-label">Label</span>
          <input value={node.data.label ?? ''} placeholder={info?.title ?? node.data.type} onChange={(e) => g.setLabel(node.id, e.target.value)} data-testid="field-label" />
        </label>
        {info ? <ParamsForm node={node} info={info} fieldError={fieldError} /> : <RawParams node={node} />}
        {info ? <SweepEditor node={node} info={info} /> : null}
        <PortsSummary info={info} />
        <label className="field">
          <span className="field-label">Notes</span>
          <textarea rows={2} value={node.data.notes ?? ''} onChange={(e) => g.setNotes(node.id, e.target.value)} placeholder="Cosmetic; never affects caching" />
        </label>
        <div className="insp-actions">
          <button className="btn primary" onClick={() => runGraph('node', node.id)} data-testid="inspector-run-node">
            <Icon name="play" size={12} fill /> Run this node
          </button>
          <button className="btn" onClick={() => runGraph('from', node.id)}>
            Run from here
          </button>
          <label className="toggle">
            <input type="checkbox" checked={!!node.data.bypass} onChange={(e) => g.setBypass([node.id], e.target.checked)} />
            <span>Bypass</span>
          </label>
        </div>
      </div>
    </aside>
  );
}

function PortsSummary({ info }: { info: NodeTypeInfo | undefined }) {
  if (!info) return null;
  const row = (name: string, p: { kind: string; title?: string; optional?: boolean; description?: string }, dir: string) => (
    <div key={`${dir}:${name}`} className="port-sum" title={p.description}>
      <span className="kind-dot" style={{ background: kindColor(p.kind) }} />
      <span className="muted small">{dir}</span> <span className="mono">{name}</span>
      {p.title && p.title !== name ? <span className="muted"> ({p.title})</span> : null}
      <span className="muted small"> {p.kind}</span>
      {p.optional ? <span className="muted small"> optional</span> : null}
    </div>
  );
  return (
    <div className="field">
      <span className="field-label">Ports</span>
      {Object.entries(info.inputs).map(([n, p]) => row(n, p, 'in'))}
      {Object.entries(info.outputs).map(([n, p]) => row(n, p, 'out'))}
    </div>
  );
}

function RawParams({ node }: { node: FlowNode }) {
  return (
    <div className="field">
      <span className="field-label">Params (read-only)</span>
      <pre className="json-block mono">{JSON.stringify(node.data.params, null, 2)}</pre>
    </div>
  );
}

function ParamsForm({ node, info, fieldError }: { node: FlowNode; info: NodeTypeInfo; fieldError(k: string): string | undefined }) {
  const schema = info.paramsSchema as { properties?: Record<string, PropSchema>; required?: string[] };
  const props = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  if (props.length === 0) return <p className="muted small">This node has no parameters.</p>;
  return (
    <div className="params" data-testid="params-form">
      {props.map(([key, raw]) => (
        <ParamField key={key} nodeId={node.id} name={key} schema={fieldSchema(raw)} required={required.has(key)} value={node.data.params[key]} error={fieldError(key)} />
      ))}
    </div>
  );
}

interface FieldProps {
  nodeId: string;
  name: string;
  schema: PropSchema;
  required: boolean;
  value: unknown;
  error?: string;
}

function ParamField({ nodeId, name, schema, required, value, error }: FieldProps) {
  const set = (v: unknown) => useGraph.getState().setParam(nodeId, name, v);
  const kind = fieldKind(schema);
  const label = (
    <span className="field-label">
      {schema.title ?? name}
      {required ? <span className="req">*</span> : null}
      <span className="muted mono small field-key">{name}</span>
    </span>
  );
  const help = schema.description ? <span className="field-help">{schema.description}</span> : null;
  const err = error ? (
    <span className="field-error" data-testid={`field-error-${name}`}>
      {error}
    </span>
  ) : null;
  const testId = `param-${name}`;

  if (kind === 'boolean') {
    const checked = value === undefined ? schema.default === true : value === true;
    return (
      <div className="field">
        <label className="toggle">
          <input type="checkbox" checked={checked} onChange={(e) => set(e.target.checked)} data-testid={testId} />
          <span>{schema.title ?? name}</span>
        </label>
        {help}
        {err}
      </div>
    );
  }
  if (kind === 'enum') {
    const options = (schema.enum ?? []).map((o) => String(o));
    const current = value === undefined ? (schema.default === undefined ? '' : String(schema.default)) : String(value);
    return (
      <label className="field">
        {label}
        <select value={current} onChange={(e) => set(e.target.value === '' ? undefined : (schema.enum ?? []).find((o) => String(o) === e.target.value))} data-testid={testId}>
          {!required && schema.default === undefined ? <option value="">(not set)</option> : null}
          {options.map((o) => (
            <option key={o} value={o}>
              {o}
              {schema.default !== undefined && String(schema.default) === o ? ' (default)' : ''}
            </option>
          ))}
        </select>
        {help}
        {err}
      </label>
    );
  }
  if (kind === 'number' || kind === 'integer') {
    return (
      <NumberInput
        label={label}
        help={schema.description}
        value={typeof value === 'number' ? value : undefined}
        placeholder={schema.default !== undefined ? String(schema.default) : required ? 'required' : 'not set'}
        integer={kind === 'integer'}
        min={schema.minimum ?? schema.exclusiveMinimum}
        max={schema.maximum ?? schema.exclusiveMaximum}
        onChange={set}
        error={error}
        testId={testId}
      />
    );
  }
  if (kind === 'code') {
    return (
      <div className="field">
        {label}
        <CodeEditor
          value={typeof value === 'string' ? value : ''}
          language={schema.language ?? 'plaintext'}
          onChange={(v) => set(v)}
          height={schema.language === 'sql' && name === 'query' ? 150 : 84}
          testId={testId}
        />
        {help}
        {err}
      </div>
    );
  }
  if (kind === 'path') {
    return (
      <label className="field">
        {label}
        <div className="path-input">
          <TextInput
            value={typeof value === 'string' ? value : ''}
            placeholder={schema.widget === 'glob' ? 'e.g. data/**/*.txt' : 'relative to the graph file'}
            onChange={(v) => set(v === '' ? undefined : v)}
            testId={testId}
            mono
          />
          <button
            className="btn small"
            type="button"
            onClick={() => useUi.getState().openDialog({ kind: 'file-picker', nodeId, param: name, mode: schema.widget === 'glob' ? 'glob' : schema.widget === 'save-file' ? 'save-file' : 'file' })}
            data-testid={`browse-${name}`}
          >
            Browse…
          </button>
        </div>
        {help}
        {err}
      </label>
    );
  }
  if (kind === 'json') {
    return <JsonField label={label} help={help} err={err} value={value} onChange={set} testId={testId} />;
  }
  return (
    <label className="field">
      {label}
      <TextInput
        value={typeof value === 'string' ? value : ''}
        placeholder={schema.default !== undefined ? String(schema.default) : required ? 'required' : 'not set'}
        onChange={(v) => set(v === '' && !required ? undefined : v)}
        testId={testId}
      />
      {help}
      {err}
    </label>
  );
}

/** A text input that keeps its own draft, so external updates (undo) show but typing never jumps. */
function TextInput({ value, onChange, placeholder, testId, mono }: { value: string; onChange(v: string): void; placeholder?: string; testId?: string; mono?: boolean }) {
  const [draft, setDraft] = useState(value);
  const [focused, setFocused] = useState(false);
  useEffect(() => {
    if (!focused) setDraft(value);
  }, [value, focused]);
  return (
    <input
      className={mono ? 'mono' : undefined}
      value={focused ? draft : value}
      placeholder={placeholder}
      onFocus={() => {
        setDraft(value);
        setFocused(true);
      }}
      onBlur={() => setFocused(false)}
      onChange={(e) => {
        setDraft(e.target.value);
        onChange(e.target.value);
      }}
      data-testid={testId}
    />
  );
}

function NumberInput(props: {
  label: React.ReactNode;
  help?: string;
  value: number | undefined;
  placeholder?: string;
  integer?: boolean;
  min?: number;
  max?: number;
  onChange(v: number | undefined): void;
  error?: string;
  testId?: string;
}) {
  const { value, onChange, integer, min, max } = props;
  const [draft, setDraft] = useState(value === undefined ? '' : String(value));
  const [focused, setFocused] = useState(false);
  useEffect(() => {
    if (!focused) setDraft(value === undefined ? '' : String(value));
  }, [value, focused]);
  const parsed = draft.trim() === '' ? undefined : Number(draft);
  const localError =
    parsed !== undefined && Number.isNaN(parsed)
      ? 'not a number'
      : parsed !== undefined && integer && !Number.isInteger(parsed)
        ? 'must be a whole number'
        : parsed !== undefined && min !== undefined && parsed < min
          ? `must be ≥ ${min}`
          : parsed !== undefined && max !== undefined && parsed > max
            ? `must be ≤ ${max}`
            : undefined;
  return (
    <label className="field">
      {typeof props.label === 'string' ? <span className="field-label">{props.label}</span> : props.label}
      <input
        type="text"
        inputMode="decimal"
        className="mono"
        value={draft}
        placeholder={props.placeholder}
        onFocus={() => setFocused(true)}
        onBlur={() => setFocused(false)}
        onChange={(e) => {
          setDraft(e.target.value);
          const t = e.target.value.trim();
          if (t === '') onChange(undefined);
          else if (!Number.isNaN(Number(t)) && !/[.eE+-]$/.test(t)) onChange(Number(t));
        }}
        data-testid={props.testId}
      />
      {props.help ? <span className="field-help">{props.help}</span> : null}
      {localError || props.error ? <span className="field-error">{localError ?? props.error}</span> : null}
    </label>
  );
}

function JsonField({ label, help, err, value, onChange, testId }: { label: React.ReactNode; help: React.ReactNode; err: React.ReactNode; value: unknown; onChange(v: unknown): void; testId: string }) {
  const [text, setText] = useState(value === undefined ? '' : JSON.stringify(value, null, 2));
  const [bad, setBad] = useState<string | null>(null);
  return (
    <div className="field">
      {label}
      <CodeEditor
        value={text}
        language="json"
        height={90}
        testId={testId}
        onChange={(v) => {
          setText(v);
          if (v.trim() === '') {
            setBad(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(v));
            setBad(null);
          } catch (e) {
            setBad((e as Error).message);
          }
        }}
      />
      {help}
      {bad ? <span className="field-error">{bad}</span> : err}
    </div>
  );
}

function parseValues(text: string, kind: string): (string | number | boolean)[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      if (kind === 'number' || kind === 'integer') {
        const n = Number(t);
        return Number.isNaN(n) ? t : n;
      }
      if (kind === 'boolean') return t === 'true';
      return t;
    });
}

/**
 * Sweeps (engine: node.sweep): run this node once per value of one param, or per Dirichlet sample
 * over share params; everything downstream runs per variant until a fan-in input collects them.
 */
function SweepEditor({ node, info }: { node: FlowNode; info: NodeTypeInfo }) {
  const g = useGraph.getState();
  const sweep = node.data.sweep;
  const props = Object.entries(((info.paramsSchema as { properties?: Record<string, PropSchema> }).properties ?? {}) as Record<string, PropSchema>).map(
    ([k, p]) => [k, fieldKind(fieldSchema(p))] as const,
  );
  const sweepable = props.filter(([, k]) => k === 'number' || k === 'integer' || k === 'string' || k === 'enum' || k === 'boolean');
  const numeric = props.filter(([, k]) => k === 'number' || k === 'integer');
  const [valuesText, setValuesText] = useState((sweep?.values ?? []).join(', '));
  useEffect(() => setValuesText((sweep?.values ?? []).join(', ')), [sweep?.values]);
  if (sweepable.length === 0) return null;
  const mode = sweep?.dirichlet ? 'dirichlet' : 'grid';
  const kindOf = (param: string | undefined) => props.find(([k]) => k === param)?.[1] ?? 'string';
  return (
    <div className="field">
      <label className="toggle">
        <input type="checkbox" checked={!!sweep} onChange={(e) => g.setSweep(node.id, e.target.checked ? { param: sweepable[0]?.[0], values: [] } : undefined)} data-testid="sweep-toggle" />
        <span className="field-label">Sweep this node</span>
      </label>
      {sweep ? (
        <div className="sweep-box">
          <div className="seg" role="tablist">
            <button className={mode === 'grid' ? 'on' : ''} onClick={() => g.setSweep(node.id, { param: sweepable[0]?.[0], values: [] })}>
              Grid
            </button>
            <button
              className={mode === 'dirichlet' ? 'on' : ''}
              disabled={numeric.length < 2}
              title={numeric.length < 2 ? 'needs at least two numeric params' : 'Random share vectors that sum to 1'}
              onClick={() => g.setSweep(node.id, { dirichlet: { params: numeric.slice(0, 2).map(([k]) => k), samples: 8, alpha: 1 } })}
            >
              Dirichlet
            </button>
          </div>
          {mode === 'grid' ? (
            <>
              <label className="field">
                <span className="field-label">Param</span>
                <select value={sweep.param ?? ''} onChange={(e) => g.setSweep(node.id, { param: e.target.value, values: [] })}>
                  {sweepable.map(([k]) => (
                    <option key={k} value={k}>
                      {k}
                    </option>
                  ))}
                </select>
              </label>
              <label className="field">
                <span className="field-label">Values (comma-separated)</span>
                <input
                  className="mono"
                  value={valuesText}
                  placeholder="e.g. 0.1, 0.2, 0.4"
                  onChange={(e) => {
                    setValuesText(e.target.value);
                    g.setSweep(node.id, { param: sweep.param, values: parseValues(e.target.value, kindOf(sweep.param)) });
                  }}
                  data-testid="sweep-values"
                />
                <span className="field-help">{(sweep.values ?? []).length} variant(s); downstream nodes run once per variant.</span>
              </label>
            </>
          ) : (
            <>
              <div className="field">
                <span className="field-label">Share params</span>
                <div className="checks">
                  {numeric.map(([k]) => (
                    <label key={k} className="toggle small">
                      <input
                        type="checkbox"
                        checked={sweep.dirichlet?.params.includes(k) ?? false}
                        onChange={(e) => {
                          const d = sweep.dirichlet ?? { params: [], samples: 8, alpha: 1 };
                          const params = e.target.checked ? [...d.params, k] : d.params.filter((x) => x !== k);
                          g.setSweep(node.id, { dirichlet: { ...d, params } });
                        }}
                      />
                      <span className="mono">{k}</span>
                    </label>
                  ))}
                </div>
              </div>
              <NumberInput
                label="Samples"
                value={sweep.dirichlet?.samples}
                integer
                min={1}
                max={1000}
                onChange={(v) => sweep.dirichlet && g.setSweep(node.id, { dirichlet: { ...sweep.dirichlet, samples: v ?? 1 } })}
              />
              <NumberInput label="Alpha" value={sweep.dirichlet?.alpha} min={0} onChange={(v) => sweep.dirichlet && g.setSweep(node.id, { dirichlet: { ...sweep.dirichlet, alpha: v ?? 1 } })} />
            </>
          )}
        </div>
      ) : null}
    </div>
  );
}
