#!/usr/bin/env node
// `npx signsim ...`: runs the binary this package carries with the same arguments, standard
// streams and environment, and ends as it ended (its exit code, or the signal that stopped it).
"use strict";

const { spawn } = require("node:child_process");
const { binaryPath } = require("../index.js");

let binary;
try {
  binary = binaryPath();
} catch (error) {
  console.error(error.message);
  process.exit(127);
}
const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });

// Ctrl-C in a terminal reaches the whole process group, so the binary already has it; a
// signal sent to this process alone (a test runner's kill, `docker stop`) is passed on.
const forwarded = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
const forward = (signal) => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
for (const signal of forwarded) process.on(signal, forward);

// `npx signsim serve` runs this under npm and a shell, which end on SIGTERM without passing it
// on: when the process that started this one goes away, stop the binary rather than leave it
// serving with no owner.
const parent = process.ppid;
const orphaned = setInterval(() => {
  if (process.ppid !== parent) forward("SIGTERM");
}, 1000);
orphaned.unref();

child.on("error", (error) => {
  console.error(`signsim: cannot run ${binary}: ${error.message}`);
  process.exit(127);
});

child.on("exit", (code, signal) => {
  clearInterval(orphaned);
  for (const name of forwarded) process.removeListener(name, forward);
  if (signal) {
    // End by the same signal, so the caller sees what the binary saw.
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code === null ? 1 : code);
});
