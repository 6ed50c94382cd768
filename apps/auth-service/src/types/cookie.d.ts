// `cookie` 2 publishes its types through package.json "exports" only, which the node10 module
// resolution of this CommonJS build does not read; its declaration file, by path, is the same API.
declare module 'cookie' {
  export * from 'cookie/dist/index';
}
