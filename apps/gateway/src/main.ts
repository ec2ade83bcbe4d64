// Entry of the gateway app alone (the Nest CLI entryFile; `node dist/apps/gateway/src/main.js`): the same
// process runner as the suite, with this one app.
import { runProcessOrExit } from '@recsys/platform';
import { gatewayApp } from './gateway.app';

runProcessOrExit([gatewayApp], { apps: ['gateway'] });
