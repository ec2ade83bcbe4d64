// Entry of the experiments app alone (the Nest CLI entryFile; `node dist/apps/experiments/src/main.js`): the same
// process runner as the suite, with this one app.
import { runProcessOrExit } from '@recsys/platform';
import { experimentsApp } from './experiments.app';

runProcessOrExit([experimentsApp], { apps: ['experiments'] });
