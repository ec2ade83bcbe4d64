// Entry of the adload app alone (the Nest CLI entryFile; `node dist/apps/adload/src/main.js`): the same
// process runner as the suite, with this one app.
import { runProcessOrExit } from '@recsys/platform';
import { adloadApp } from './adload.app';

runProcessOrExit([adloadApp], { apps: ['adload'] });
