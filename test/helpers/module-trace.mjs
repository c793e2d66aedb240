// Preloaded into a child `relay` (NODE_OPTIONS=--import=…) to list which of Relay's own modules a
// command loads: at exit, their paths below src/ or dist/, one a line, go to $RELAY_MODULE_TRACE.
// The load hook runs on Node's loader thread, so the URLs come back over a message port.
import { writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const HOOK = `
let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) {
  if (/\\/(src|dist)\\//.test(url) && !url.includes('/node_modules/')) port.postMessage(url);
  return next(url, context);
}`;

const { port1, port2 } = new MessageChannel();
const loaded = [];
port1.on('message', (url) => loaded.push(url.replace(/^.*\/(src|dist)\//, '')));
port1.unref();
register(`data:text/javascript,${encodeURIComponent(HOOK)}`, {
  data: { port: port2 },
  transferList: [port2],
});
process.on('exit', () => writeFileSync(process.env.RELAY_MODULE_TRACE, loaded.join('\n')));
