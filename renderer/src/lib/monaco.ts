// Monaco, bundled locally (never from a CDN: the CSP is script-src 'self'). Only the editor core,
// the contributions a form field needs, SQL highlighting and the JSON language service are
// loaded; workers are bundled by Vite and started from this origin.
import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/internal/common/workers.js';
import 'monaco-editor/languages/definitions/sql/register.js';
import 'monaco-editor/languages/definitions/python/register.js';
import 'monaco-editor/languages/definitions/javascript/register.js';
import { jsonDefaults } from 'monaco-editor/languages/features/json/register.js';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import JsonWorker from 'monaco-editor/languages/features/json/json.worker.js?worker';

declare global {
  interface Window {
    MonacoEnvironment?: { getWorker(workerId: string, label: string): Worker };
  }
}

window.MonacoEnvironment = {
  getWorker(_id: string, label: string) {
    return label === 'json' ? new JsonWorker() : new EditorWorker();
  },
};

monaco.editor.defineTheme('forge-dark', {
  base: 'vs-dark',
  inherit: true,
  rules: [],
  colors: { 'editor.background': '#151922', 'editor.lineHighlightBackground': '#1d2330', 'editorGutter.background': '#151922' },
});
monaco.editor.defineTheme('forge-light', {
  base: 'vs',
  inherit: true,
  rules: [],
  colors: { 'editor.background': '#ffffff', 'editor.lineHighlightBackground': '#f3f5f9' },
});

/** The graph document's JSON Schema, from the engine, for live validation in the JSON view. */
export function setGraphSchema(schema: Record<string, unknown>): void {
  jsonDefaults.setDiagnosticsOptions({
    validate: true,
    allowComments: false,
    enableSchemaRequest: false,
    schemaValidation: 'error',
    schemaRequest: 'ignore',
    schemas: [{ uri: String(schema.$id ?? 'https://forge.studio/schemas/graph.json'), fileMatch: ['forge://graph/document.forge.json', '*.forge.json'], schema }],
  });
}

export { monaco };
