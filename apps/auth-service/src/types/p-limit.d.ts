// `p-limit` 7 publishes its types through package.json "exports" only, which the node10 module
// resolution of this CommonJS build does not read; its declaration file, by path, is the same API.
declare module 'p-limit' {
  export * from 'p-limit/index';
  export { default } from 'p-limit/index';
}
