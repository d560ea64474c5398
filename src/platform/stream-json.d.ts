/**
 * The part of stream-json 1.x's tokenizer this module uses (the package ships no types).
 * `_transform` and `_flush` call their callback before they return.
 */
declare module 'stream-json/Parser.js' {
  /** One token: `startObject`, `keyValue`, `stringChunk`, `endString`, `nullValue`, … */
  export interface JsonToken {
    name: string;
    value?: string | boolean | null;
  }

  export interface JsonTokenizer {
    push(token: JsonToken | null): boolean;
    _transform(chunk: Buffer, encoding: string, done: (error?: Error | null) => void): void;
    _flush(done: (error?: Error | null) => void): void;
  }

  const Parser: new (options: { packValues: boolean }) => JsonTokenizer;
  export default Parser;
}
