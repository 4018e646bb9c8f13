/** Engine version, written into graph documents, run environments and exported configs. */
export const ENGINE_VERSION = '0.1.0';
