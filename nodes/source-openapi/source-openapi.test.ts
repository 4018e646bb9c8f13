import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../engine/registry.js';
import { NODE_TYPES } from '../index.js';
import { cleanupTempDirs, closeExecutor, graph, runGraph, TOKENIZER } from '../_sdk/testing/graph.js';
import openapi from './index.js';
import { parseSpec, SpecError } from './openapi.js';

const registry = new NodeRegistry(NODE_TYPES.some((t) => t.type === openapi.type) ? NODE_TYPES : [...NODE_TYPES, openapi]);
afterEach(cleanupTempDirs);
afterAll(closeExecutor);

const PETSTORE = {
  openapi: '3.0.3',
  info: { title: 'Petstore', version: '1.0.0' },
  servers: [{ url: 'https://petstore.example.com/v1' }],
  paths: {
    '/pets': {
      get: {
        operationId: 'listPets',
        summary: 'List all pets',
        tags: ['pets'],
        parameters: [{ name: 'limit', in: 'query', description: 'How many items to return', required: false, schema: { type: 'integer', format: 'int32' } }],
        responses: { '200': { description: 'A paged array of pets', content: { 'application/json': { schema: { $ref: '#/components/schemas/Pets' } } } } },
      },
      post: {
        operationId: 'createPet',
        summary: 'Create a pet',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } },
        responses: { '201': { description: 'Null response' } },
      },
    },
    '/pets/{petId}': {
      parameters: [{ name: 'petId', in: 'path', required: true, description: 'The id of the pet', schema: { type: 'string' } }],
      get: {
        operationId: 'showPetById',
        summary: 'Info for a specific pet',
        responses: { '200': { description: 'Expected response', content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } } },
      },
    },
  },
  components: {
    schemas: {
      Pet: {
        type: 'object',
        required: ['id', 'name'],
        properties: { id: { type: 'integer', format: 'int64' }, name: { type: 'string' }, tag: { type: 'string' }, parent: { $ref: '#/components/schemas/Pet' } },
      },
      Pets: { type: 'array', items: { $ref: '#/components/schemas/Pet' } },
    },
  },
};

const SWAGGER = {
  swagger: '2.0',
  info: { title: 'Users', version: '2' },
  host: 'api.example.com',
  basePath: '/v2',
  schemes: ['https'],
  paths: {
    '/users': {
      post: {
        summary: 'Add a user',
        parameters: [{ in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/User' } }],
        responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/User' } } },
      },
    },
  },
  definitions: { User: { type: 'object', properties: { email: { type: 'string', format: 'email' }, role: { type: 'string', enum: ['admin', 'user'] } } } },
};

describe('OpenAPI rendering', () => {
  it('renders one document per operation with parameters, bodies and resolved $refs', () => {
    const api = parseSpec(PETSTORE, { schemaDepth: 3, maxSchemaChars: 2000 });
    expect(api.flavor).toBe('openapi-3');
    expect(api.operations.map((o) => `${o.method} ${o.path}`)).toEqual(['GET /pets', 'POST /pets', 'GET /pets/{petId}']);
    const [list, create, show] = api.operations;
    expect(list?.text).toContain('Operation: GET /pets (operationId: listPets)');
    expect(list?.text).toContain('- limit (query, integer (int32)): How many items to return');
    expect(list?.text).toContain('- 200: A paged array of pets → application/json: Pet {id: integer (int64), name: string, tag?: string, parent?: Pet}[]');
    expect(create?.text).toContain('Request body (required)');
    // Path-level parameters apply to every operation under the path; recursion stops at the name.
    expect(show?.text).toContain('- petId (path, string, required): The id of the pet');
    expect(show?.text).toContain('Server: https://petstore.example.com/v1');
  });

  it('reads Swagger 2.0 body parameters and response schemas', () => {
    const api = parseSpec(SWAGGER, { schemaDepth: 3, maxSchemaChars: 2000 });
    expect(api.flavor).toBe('swagger-2');
    expect(api.operations[0]?.text).toContain('Server: https://api.example.com/v2');
    expect(api.operations[0]?.text).toContain('- body (required): User {email?: string (email), role?: "admin"|"user"}');
  });

  it('rejects a document that is not OpenAPI, naming the field', () => {
    expect(() => parseSpec({ name: 'x', paths: {} }, { schemaDepth: 3, maxSchemaChars: 100 })).toThrow(SpecError);
    expect(() => parseSpec({ openapi: '3.1.0' }, { schemaDepth: 3, maxSchemaChars: 100 })).toThrow(/no "paths"/);
    expect(() => parseSpec({ swagger: '1.2', paths: {} }, { schemaDepth: 3, maxSchemaChars: 100 })).toThrow(/unsupported OpenAPI version/);
  });
});

describe('source.openapi node', () => {
  it('loads a folder of JSON and YAML specs with counts and real-tokenizer tokens', async () => {
    const yaml = [
      'openapi: 3.0.0',
      'info:',
      '  title: Weather',
      '  version: "1"',
      'paths:',
      '  /forecast:',
      '    get:',
      '      summary: Get the forecast',
      '      responses:',
      "        '200':",
      '          description: ok',
      '',
    ].join('\n');
    const run = await runGraph(graph([{ id: 'specs', type: 'source.openapi', params: { path: 'specs', tokenizer: TOKENIZER } }]), {
      registry,
      files: { 'specs/petstore.json': JSON.stringify(PETSTORE, null, 2), 'specs/users.json': JSON.stringify(SWAGGER), 'specs/weather.yaml': yaml },
    });
    try {
      expect(run.summary.status).toBe('succeeded');
      const rows = await run.rows('specs');
      expect(rows.map((r) => r.id)).toEqual([
        'specs/petstore.json#GET /pets',
        'specs/petstore.json#POST /pets',
        'specs/petstore.json#GET /pets/{petId}',
        'specs/users.json#POST /users',
        'specs/weather.yaml#GET /forecast',
      ]);
      const meta = run.artifact('specs', 'out').manifest.meta;
      expect(meta.documents).toBe(5);
      expect(meta['documents.Petstore']).toBe(3);
      expect(meta.tokens).toBe(rows.reduce((a, r) => a + Number(r.tokens), 0));
      expect(Number(meta.tokens)).toBeGreaterThan(100);
    } finally {
      run.close();
    }
  });

  it('fails on a spec that is not OpenAPI with file, line and field, publishing nothing', async () => {
    const run = await runGraph(graph([{ id: 'specs', type: 'source.openapi', params: { path: 'specs' } }]), {
      registry,
      files: { 'specs/a.json': JSON.stringify(PETSTORE), 'specs/b.json': JSON.stringify({ name: 'package', version: '1.0.0' }) },
    });
    try {
      expect(run.summary.status).toBe('failed');
      const o = run.outcome('specs');
      expect(o.state).toBe('failed');
      expect(o.error).toMatch(/not an OpenAPI\/Swagger document/);
      expect(o.location).toMatchObject({ nodeId: 'specs', file: 'specs/b.json', line: 1, field: 'openapi' });
      expect(o.outputs).toEqual([]);
      expect(run.stagingLeft()).toEqual([]);
    } finally {
      run.close();
    }
  });

  it('locates a JSON syntax error at its line', async () => {
    const run = await runGraph(graph([{ id: 'specs', type: 'source.openapi', params: { path: 'bad.json' } }]), { registry, files: { 'bad.json': '{\n  "openapi": "3.0.0",\n  "paths": {,}\n}\n' } });
    try {
      expect(run.outcome('specs').location).toMatchObject({ file: 'bad.json', line: 3 });
    } finally {
      run.close();
    }
  });
});
