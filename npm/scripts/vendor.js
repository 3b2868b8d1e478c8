#!/usr/bin/env node
// Puts the simulator's binary into the package before `npm pack` (prepack) and takes it out
// again after (postpack), so that the tarball carries the binary of the machine that built
// it and the checkout carries none.
//
//   node scripts/vendor.js copy    copies ../target/release/signsim to vendor/signsim
//   node scripts/vendor.js clean   removes vendor/
//
// SIGNSIM_PACK_BINARY=/path/to/signsim packs another build (a debug one while developing).
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const packageDir = path.resolve(__dirname, "..");
const vendorDir = path.join(packageDir, "vendor");
const exe = process.platform === "win32" ? "signsim.exe" : "signsim";

function copy() {
  // A relative SIGNSIM_PACK_BINARY is read from where `npm pack` was run (INIT_CWD).
  const source = process.env.SIGNSIM_PACK_BINARY
    ? path.resolve(process.env.INIT_CWD || process.cwd(), process.env.SIGNSIM_PACK_BINARY)
    : path.join(packageDir, "..", "target", "release", exe);
  if (!fs.existsSync(source)) {
    console.error(
      `signsim: no binary at ${source}.\n` +
        "Build it first at the repository root: cargo build --release\n" +
        "(or point SIGNSIM_PACK_BINARY at a signsim binary)."
    );
    process.exit(1);
  }
  fs.rmSync(vendorDir, { recursive: true, force: true });
  fs.mkdirSync(vendorDir);
  const target = path.join(vendorDir, exe);
  fs.copyFileSync(source, target);
  fs.chmodSync(target, 0o755);
  console.error(`signsim: packed ${source} (${fs.statSync(target).size} bytes)`);
}

function clean() {
  fs.rmSync(vendorDir, { recursive: true, force: true });
}

const command = process.argv[2];
if (command === "copy") copy();
else if (command === "clean") clean();
else {
  console.error("usage: node scripts/vendor.js copy|clean");
  process.exit(2);
}
