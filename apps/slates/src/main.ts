// Entry of the slates app alone (the Nest CLI entryFile; `node dist/apps/slates/src/main.js`): the same
// process runner as the suite, with this one app.
import { runProcessOrExit } from '@recsys/platform';
import { slatesApp } from './slates.app';

runProcessOrExit([slatesApp], { apps: ['slates'] });
