#!/usr/bin/env node
// Runs the TypeScript source as the services run theirs (@swc-node/register), from any directory.
const path = require('node:path');

process.env.SWC_NODE_PROJECT ??= path.join(__dirname, '../../../tsconfig.json');
require('@swc-node/register');
require('../src/main.ts');
