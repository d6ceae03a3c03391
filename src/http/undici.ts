/**
 * @module http/undici
 * undici's dispatchers, loaded without the rest of the package. `import … from "undici"` runs
 * undici's index, which builds fetch, WebSocket, cookies and their WebIDL converters as it
 * loads: about 40 ms of the adapter's start (issue #17 item 3) for parts it never calls. Every
 * runtime use of undici in src/ comes through here; types still come from "undici".
 */
// undici has no "exports" map: its files are public paths, CommonJS, each exporting its class.
import AgentClass from "undici/lib/dispatcher/agent.js";
import Dispatcher from "undici/lib/dispatcher/dispatcher.js";
import PoolClass from "undici/lib/dispatcher/pool.js";
import api from "undici/lib/api/index.js";
import type { Agent as AgentType, Pool as PoolType } from "undici";

// request(), stream() and the other calls are not the classes' own: undici's index adds them to
// the base class (index.js, `Object.assign(Dispatcher.prototype, api)`). The same here; the
// index, if something else loads it, assigns the same functions again.
Object.assign(Dispatcher.prototype, api);

export const Pool = PoolClass;
export type Pool = PoolType;
export const Agent = AgentClass;
export type Agent = AgentType;
