// Module hooks of load-trace.mjs: report each resolved URL (ESM imports and the CommonJS they reach).
let port;
export function initialize(data) {
  port = data.port;
}
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}
