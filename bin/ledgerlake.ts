#!/usr/bin/env node
import { configFromContext } from '../lib/config/index.ts';
import { addLedgerlakeStacks, createLedgerlakeApp } from '../lib/stacks/ledgerlake-app.ts';

const app = createLedgerlakeApp();
addLedgerlakeStacks(
  app,
  configFromContext((key) => app.node.tryGetContext(key)),
);
