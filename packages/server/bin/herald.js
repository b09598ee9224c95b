#!/usr/bin/env node
import { enableCompileCache } from 'node:module';

// Most of Herald's start-up is compiling its modules and their dependencies (BENCHMARKS.md, "Start-up"): Node
// keeps the compiled code between starts, in the OS temp directory or in NODE_COMPILE_CACHE.
// NODE_DISABLE_COMPILE_CACHE=1 switches it off. The import below comes after, so that it is covered.
enableCompileCache();
const { runCli } = await import('../dist/cli.js');

const code = await runCli(process.argv.slice(2));
if (code !== 0) process.exitCode = code;
