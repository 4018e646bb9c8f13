// 2-D PCA for node code (view.projection), through the SDK: nodes/ imports the engine only via engine/sdk.
export { pca2 } from '../util/pca.js';
