// Entry of the ranking app alone (the Nest CLI entryFile; `node dist/apps/ranking/src/main.js`): the same
// process runner as the suite, with this one app.
import { runProcessOrExit } from '@recsys/platform';
import { rankingApp } from './ranking.app';

runProcessOrExit([rankingApp], { apps: ['ranking'] });
