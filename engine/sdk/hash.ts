// Hashing for node code (content hashes of files and values), through the SDK: nodes/ imports the
// engine only via engine/sdk.
export { canonicalJson, hashFile, sha256, sha256Hex, type JsonValue } from '../util/hash.js';
