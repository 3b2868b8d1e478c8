// The package works with `require` too: start, one admin call, stop.
//   node require-smoke.cjs
"use strict";
const assert = require("node:assert");
const signsim = require("signsim");

(async () => {
  assert.strictEqual(typeof signsim.start, "function");
  const sim = await signsim.start();
  try {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.strictEqual((await sim.health()).status, "ok");
    const tenant = sim.tenant();
    assert.strictEqual((await tenant.advance(60)).offset_seconds, 60);
    await tenant.reset();
  } finally {
    await sim.stop();
  }
  console.log("require('signsim'): ok");
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
