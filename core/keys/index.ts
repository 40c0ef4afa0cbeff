/** Typed keys and their order-preserving encodings (docs/design.md, "Keys and values"). */
export { keyCodec, type KeyCodec, type KeyRange } from './key-codec.js';
export {
  formatKeyType, parseKeyType, isScalarKeyType, KEY_TYPE_DEPTH_MAX, SCALAR_KEY_TYPES,
  type KeyType, type KeyValue, type ScalarKeyType, type TupleKeyType,
} from './key-type.js';
export type { BadKeyReason } from './key-errors.js';
