import { create } from 'zustand';
import type { GraphDocument } from '../api/types';
import { COMPONENTS_FOLDER } from './subgraph';

/** The workspace's library of reusable components: `components/*.forge.json`, read through the API. */
export interface LibraryState {
  components: Map<string, GraphDocument>;
  loaded: boolean;
  refresh(api: LibraryApi): Promise<void>;
}

export interface LibraryApi {
  listGraphs(): Promise<{ path: string }[]>;
  readGraph(path: string): Promise<{ path: string; doc: GraphDocument }>;
}

export const useLibrary = create<LibraryState>((set) => ({
  components: new Map(),
  loaded: false,
  refresh: async (api) => {
    const paths = (await api.listGraphs()).map((g) => g.path).filter((p) => p.startsWith(`${COMPONENTS_FOLDER}/`));
    const docs = await Promise.all(
      paths.map(async (p) => {
        try {
          return [p, (await api.readGraph(p)).doc] as const;
        } catch {
          return null; // an unreadable component shows as an error on the nodes using it, via validation
        }
      }),
    );
    // Only documents with ports are components; other graphs in the folder are not offered.
    const components = new Map(docs.filter((d): d is readonly [string, GraphDocument] => d !== null && (d[1].inputs !== undefined || d[1].outputs !== undefined)));
    set({ components, loaded: true });
  },
}));
