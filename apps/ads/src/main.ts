// Entry of the ads app alone (`node dist/apps/ads/src/main.js`): the same process runner as the
// suite, with this one app.
import { runProcessOrExit } from '@recsys/platform';
import { adsApp } from './ads.app';

runProcessOrExit([adsApp], { apps: ['ads'] });
