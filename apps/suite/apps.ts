import type { AppDefinition } from '@recsys/platform';
import { adloadApp } from '../adload/src/adload.app';
import { adsApp } from '../ads/src/ads.app';
import { behaviorApp } from '../behavior/src/behavior.app';
import { experimentsApp } from '../experiments/src/experiments.app';
import { gatewayApp } from '../gateway/src/gateway.app';
import { rankingApp } from '../ranking/src/ranking.app';
import { retrievalApp } from '../retrieval/src/retrieval.app';
import { slatesApp } from '../slates/src/slates.app';

/** Start order: producers of state first, the gateway last. */
export const ALL_APPS: AppDefinition[] = [retrievalApp, behaviorApp, rankingApp, slatesApp, adloadApp, adsApp, experimentsApp, gatewayApp];
