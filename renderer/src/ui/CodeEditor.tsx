import { useEffect, useRef, useState } from 'react';
import type * as Monaco from 'monaco-editor/editor/editor.api.js';
import { useUi } from '../store/ui';

type MonacoModule = typeof import('../lib/monaco');
let loading: Promise<MonacoModule> | null = null;
/** Monaco is loaded on first use, so the canvas starts fast. */
export function loadMonaco(): Promise<MonacoModule> {
  loading ??= import('../lib/monaco');
  return loading;
}

export interface CodeEditorProps {
  value: string;
  language: string;
  onChange?(value: string): void;
  height?: number | string;
  readOnly?: boolean;
  /** Model URI, e.g. forge://graph/doc.forge.json to get the graph schema. */
  uri?: string;
  onValidate?(markers: Monaco.editor.IMarker[]): void;
  testId?: string;
  minimal?: boolean;
}

export function CodeEditor({ value, language, onChange, height = 140, readOnly, uri, onValidate, testId, minimal = true }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<Monaco.editor.IStandaloneCodeEditor | null>(null);
  const [ready, setReady] = useState(false);
  const theme = useUi((s) => s.theme);
  const latest = useRef({ onChange, onValidate, value });
  latest.current = { onChange, onValidate, value };

  useEffect(() => {
    let disposed = false;
    const disposers: { dispose(): void }[] = [];
    void loadMonaco().then(({ monaco }) => {
      if (disposed || !host.current) return;
      const modelUri = uri ? monaco.Uri.parse(uri) : undefined;
      monaco.editor.getModel(modelUri ?? monaco.Uri.parse('inmemory://none'))?.dispose();
      const model = monaco.editor.createModel(latest.current.value, language, modelUri);
      const ed = monaco.editor.create(host.current, {
        model,
        readOnly,
        theme: useUi.getState().theme === 'dark' ? 'forge-dark' : 'forge-light',
        automaticLayout: true,
        minimap: { enabled: !minimal },
        lineNumbers: minimal ? 'off' : 'on',
        glyphMargin: false,
        folding: !minimal,
        lineDecorationsWidth: minimal ? 6 : 10,
        lineNumbersMinChars: 3,
        scrollBeyondLastLine: false,
        wordWrap: minimal ? 'on' : 'off',
        fontSize: 12.5,
        fontFamily: 'var(--mono)',
        renderLineHighlight: minimal ? 'none' : 'line',
        overviewRulerLanes: minimal ? 0 : 2,
        hideCursorInOverviewRuler: true,
        scrollbar: { verticalScrollbarSize: 8, horizontalScrollbarSize: 8, alwaysConsumeMouseWheel: false },
        padding: { top: 6, bottom: 6 },
        tabSize: 2,
        fixedOverflowWidgets: true,
      });
      editor.current = ed;
      disposers.push(
        ed.onDidChangeModelContent(() => {
          const v = ed.getValue();
          if (v !== latest.current.value) latest.current.onChange?.(v);
        }),
        monaco.editor.onDidChangeMarkers((uris) => {
          if (!uris.some((u) => u.toString() === model.uri.toString())) return;
          latest.current.onValidate?.(monaco.editor.getModelMarkers({ resource: model.uri }));
        }),
        ed,
        model,
      );
      setReady(true);
    });
    return () => {
      disposed = true;
      editor.current = null;
      for (const d of disposers.reverse()) d.dispose();
    };
    // The editor is created once per language/uri; value changes are pushed below.
  }, [language, uri]);

  useEffect(() => {
    const ed = editor.current;
    if (ed && ed.getValue() !== value) {
      // External change (undo, JSON apply): replace while keeping the editor's own undo stack.
      const model = ed.getModel();
      if (model) ed.executeEdits('external', [{ range: model.getFullModelRange(), text: value }]);
    }
  }, [value, ready]);

  useEffect(() => {
    if (!ready) return;
    void loadMonaco().then(({ monaco }) => monaco.editor.setTheme(theme === 'dark' ? 'forge-dark' : 'forge-light'));
  }, [theme, ready]);

  useEffect(() => {
    editor.current?.updateOptions({ readOnly });
  }, [readOnly]);

  return (
    <div className="code-editor" style={{ height }} data-testid={testId} data-ready={ready}>
      <div ref={host} className="code-editor-host" />
      {!ready ? <pre className="code-editor-loading mono">{value}</pre> : null}
    </div>
  );
}
