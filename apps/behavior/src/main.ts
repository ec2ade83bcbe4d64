// Entry of the behavior app alone (the Nest CLI entryFile; `node dist/apps/behavior/src/main.js`): the same
// process runner as the suite, with this one app.
import { runProcessOrExit } from '@recsys/platform';
import { behaviorApp } from './behavior.app';

runProcessOrExit([behaviorApp], { apps: ['behavior'] });
