// Types of the ES module face: the same as index.d.ts, plus the default export.
import * as signsim from "./index.js";
export * from "./index.js";
export default signsim;
