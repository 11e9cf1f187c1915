// pg's own value serialiser, which @types/pg does not describe: what pg sends for a parameter.
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): unknown };
  export default utils;
}
