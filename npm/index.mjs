// The ES module face of index.js (one implementation, both `import` and `require`).
import signsim from "./index.js";

export const { start, connect, binaryPath, uniqueName, Signsim, Tenant, Capture, SignsimError } =
  signsim;
export default signsim;
