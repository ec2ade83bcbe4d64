// Entry of the retrieval app alone (the Nest CLI entryFile; `node dist/apps/retrieval/src/main.js`): the same
// process runner as the suite, with this one app.
import { runProcessOrExit } from '@recsys/platform';
import { retrievalApp } from './retrieval.app';

runProcessOrExit([retrievalApp], { apps: ['retrieval'] });
